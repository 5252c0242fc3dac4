// The lobby kiosk: a visitor checks in by scanning their invitation's QR
// (the camera, where the browser has BarcodeDetector; a typed code
// otherwise), by finding their name, or as a walk-in; accepts the site's
// documents; is told their host has been told; prints a badge. Leaving,
// they scan the badge. The screen returns home by itself after a while.
import { api, el } from "./lib/api.js";

let token = "", root = null, idle = null;
const call = (method, path, body) => api(method, path, body, { token });

export function startLobby(container, kioskToken) {
  root = container;
  token = kioskToken;
  home();
}

function screen(...children) {
  root.replaceChildren(...children);
  clearTimeout(idle);
  idle = setTimeout(home, 90000); // nobody there: back to the start
  root.querySelector("input, button")?.focus();
}

const big = (label, onclick, cls = "") => el("button", { type: "button", class: cls, onclick }, label);
const msg = (text, kind = "err") => el("div", { class: "msg " + kind, role: "alert" }, text);

function home(note) {
  screen(
    note || "",
    el("p", { class: "muted" }, "Visiting? Check in here."),
    el("div", { class: "actions" },
      big("Scan my invitation", scan, "primary"),
      big("Type my code", typeCode),
      big("Find me by name", byName),
      big("I have no invitation", walkIn),
      big("Leaving? Scan your badge", checkOut)),
  );
}

// ---- the code: camera or keyboard ----

async function readCode(title, onCode) {
  const input = el("input", { id: "code", autocomplete: "off", "aria-label": "Code", placeholder: "Code" });
  const video = el("video", { playsinline: true, muted: true, style: "max-width:480px;width:100%;border-radius:12px", hidden: true });
  const form = el("form", {}, el("label", { for: "code" }, "Or type the code"), input,
    el("div", { class: "actions" }, el("button", { class: "primary", type: "submit" }, "Continue"), big("Back", home)));
  form.addEventListener("submit", (e) => { e.preventDefault(); stop(); if (input.value.trim()) onCode(input.value.trim()); });
  screen(el("h2", {}, title), video, form);
  let stream = null, live = true;
  const stop = () => { live = false; if (stream) stream.getTracks().forEach((t) => t.stop()); };
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) return; // typed code only
  try {
    const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" } });
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    while (live && root.contains(video)) {
      const codes = await detector.detect(video).catch(() => []);
      if (codes.length) { stop(); return onCode(codes[0].rawValue); }
      await new Promise((r) => setTimeout(r, 250));
    }
  } catch { /* no camera, or not allowed: the typed code remains */ }
  stop();
}

function scan() { readCode("Show your invitation's QR code to the camera", (code) => withDocuments((accepted) => checkIn({ code, accepted }))); }
function typeCode() { readCode("Type the code from your invitation", (code) => withDocuments((accepted) => checkIn({ code, accepted }))); }

// ---- documents ----

// withDocuments shows the site's current documents (NDA, safety rules) to
// accept, then continues with what was accepted.
async function withDocuments(next) {
  let docs;
  try { docs = (await call("GET", "/api/v1/kiosk/visitor-documents")).items; } catch (e) { return home(msg(e.message)); }
  if (!docs.length) return next([]);
  const boxes = docs.map((d) => el("input", { type: "checkbox", id: "doc-" + d.document_id, style: "width:auto;min-height:0" }));
  const form = el("form", {},
    ...docs.map((d, i) => el("div", { class: "card", style: "color:#14171a" },
      el("h3", {}, `${d.title} (version ${d.version})`),
      el("div", { style: "white-space:pre-wrap;max-height:30vh;overflow:auto" }, d.body),
      el("label", { for: "doc-" + d.document_id }, boxes[i], " I have read and accept this"))),
    el("div", { class: "actions" }, el("button", { class: "primary", type: "submit" }, "Check in"), big("Back", home)));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!boxes.every((b) => b.checked)) return form.append(msg("Please accept each document to check in."));
    next(docs.map((d) => ({ document_id: d.document_id, version: d.version })));
  });
  screen(el("h2", {}, "Before you come in"), form);
}

// ---- check-in ----

async function checkIn(body, visitId) {
  try {
    const path = visitId ? `/api/v1/kiosk/visits/${visitId}/check-in` : "/api/v1/kiosk/visits/check-in";
    done(await call("POST", path, body));
  } catch (e) {
    home(msg(e.message));
  }
}

function done(r) {
  if (r.result === "see_reception") return home(msg(r.message || "Please see reception.", "ok"));
  const v = r.visit;
  screen(
    el("h2", { id: "welcome" }, `Welcome, ${v.name}!`),
    el("p", { id: "host-told", class: "state-detail" }, `${v.host_name} has been told you are here.`),
    el("div", { class: "actions" }, big("Print my badge", () => printBadge(v.badge_url), "primary"), big("Done", home)),
  );
}

// printBadge fetches the badge page with the kiosk's token and prints it
// from a frame (a new window could not carry the token).
async function printBadge(url) {
  try {
    const res = await fetch(url, { headers: { Authorization: "Bearer " + token } });
    if (!res.ok) throw new Error("The badge could not be printed; please see reception.");
    const frame = el("iframe", { title: "Badge", style: "width:1px;height:1px;border:0;position:absolute;left:-9999px" });
    frame.srcdoc = await res.text();
    document.body.append(frame);
    frame.addEventListener("load", () => { frame.contentWindow.print(); setTimeout(() => frame.remove(), 60000); });
  } catch (e) {
    root.append(msg(e.message));
  }
}

// ---- by name ----

function byName() {
  const q = el("input", { id: "q", type: "search", autocomplete: "off", "aria-label": "Your name" });
  const list = el("ul", { class: "later", "aria-live": "polite" });
  let timer = null;
  q.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (q.value.trim().length < 2) return list.replaceChildren();
      try {
        const r = await call("GET", "/api/v1/kiosk/visits/expected?q=" + encodeURIComponent(q.value.trim()));
        list.replaceChildren(...(r.items.length ? r.items.map((v) => el("li", {},
          big(`${v.name}${v.company ? " · " + v.company : ""}`, () => withDocuments((accepted) => checkIn({ accepted }, v.id)))))
          : [el("li", { class: "muted" }, "Nobody by that name is expected today. Try your invitation's code, or see reception.")]));
      } catch (e) { list.replaceChildren(el("li", {}, msg(e.message))); }
    }, 250);
  });
  screen(el("h2", {}, "Find your name"), el("label", { for: "q" }, "Your name"), q, list, el("div", { class: "actions" }, big("Back", home)));
}

// ---- walk-in ----

function walkIn() {
  const name = el("input", { id: "w-name", required: true, autocomplete: "name" });
  const company = el("input", { id: "w-company", autocomplete: "organization" });
  const hostQ = el("input", { id: "w-host", type: "search", autocomplete: "off" });
  const hosts = el("ul", { class: "later", "aria-live": "polite" });
  let host = null, timer = null;
  hostQ.addEventListener("input", () => {
    clearTimeout(timer);
    host = null;
    timer = setTimeout(async () => {
      if (hostQ.value.trim().length < 2) return hosts.replaceChildren();
      try {
        const r = await call("GET", "/api/v1/kiosk/hosts?q=" + encodeURIComponent(hostQ.value.trim()));
        hosts.replaceChildren(...r.items.map((h) => el("li", {}, big(h.name, () => { host = h; hostQ.value = h.name; hosts.replaceChildren(); }))));
      } catch (e) { hosts.replaceChildren(el("li", {}, msg(e.message))); }
    }, 250);
  });
  const form = el("form", {},
    el("label", { for: "w-name" }, "Your name"), name,
    el("label", { for: "w-company" }, "Company (optional)"), company,
    el("label", { for: "w-host" }, "Who are you visiting?"), hostQ, hosts,
    el("div", { class: "actions" }, el("button", { class: "primary", type: "submit" }, "Continue"), big("Back", home)));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!host) return form.append(msg("Please pick the person you are visiting from the list."));
    const visitor = { name: name.value.trim(), company: company.value.trim() || undefined };
    withDocuments(async (accepted) => {
      try { done(await call("POST", "/api/v1/kiosk/visits/walk-in", { visitor, host_id: host.id, accepted })); } catch (err) { home(msg(err.message)); }
    });
  });
  screen(el("h2", {}, "Welcome — who are you?"), form);
}

// ---- check-out ----

function checkOut() {
  readCode("Show your badge's QR code to the camera", async (code) => {
    try {
      const r = await call("POST", "/api/v1/kiosk/visits/check-out", { code });
      home(msg(r.message || "Goodbye — thank you for visiting.", "ok"));
    } catch (e) { home(msg(e.message)); }
  });
}
