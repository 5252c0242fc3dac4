// Perch's service worker: makes the app installable and keeps the app
// shell available offline. The API and sockets always go to the network.
const SHELL = "perch-shell-v1";
const FILES = ["/", "/static/app.css", "/static/app.js", "/static/lib/api.js", "/static/lib/live.js", "/static/lib/plan.js", "/static/icon.svg"];
self.addEventListener("install", (e) => e.waitUntil(caches.open(SHELL).then((c) => c.addAll(FILES)).then(() => self.skipWaiting())));
self.addEventListener("activate", (e) => e.waitUntil(caches.keys().then((ks) => Promise.all(ks.filter((k) => k !== SHELL).map((k) => caches.delete(k))))));
self.addEventListener("fetch", (e) => {
  const u = new URL(e.request.url);
  if (e.request.method !== "GET" || u.pathname.startsWith("/api/") || u.pathname.startsWith("/ws/")) return;
  // Network first, the cached shell when offline.
  e.respondWith(fetch(e.request).then((r) => {
    if (r.ok && FILES.includes(u.pathname)) { const copy = r.clone(); caches.open(SHELL).then((c) => c.put(e.request, copy)); }
    return r;
  }).catch(() => caches.match(e.request)));
});
