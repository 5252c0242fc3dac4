// The kiosk page. Unpaired: shows a pairing code and waits for an admin.
// Paired to a room: the door display — free/busy, the meeting under way,
// the rest of the day, and book now / check in / extend / end early — kept
// live over /ws/kiosk; it resumes by itself after any outage and never
// needs a reload. Paired to a site: the lobby (visitor check-in).
import { api, clock, el } from "./lib/api.js";
import { live } from "./lib/live.js";

const $ = (id) => document.getElementById(id);
const store = {
  get: (k) => localStorage.getItem("perch.kiosk." + k) || "",
  set: (k, v) => localStorage.setItem("perch.kiosk." + k, v),
  clear: () => ["token", "secret", "kind", "name", "code"].forEach((k) => localStorage.removeItem("perch.kiosk." + k)),
};
let room = null, channel = null, boundaryTimer = null;

function screen(name) {
  for (const s of ["pairing", "door", "lobby"]) $(s).hidden = s !== name;
}

// ---- pairing ----

async function pair() {
  screen("pairing");
  let secret = store.get("secret");
  if (!secret) {
    try {
      const p = await api("POST", "/api/v1/kiosks/pairing", {}, { token: "" });
      secret = p.device_secret;
      store.set("secret", secret);
      store.set("code", p.pairing_code);
    } catch (e) {
      $("pairing-status").textContent = e.message + " Retrying…";
      return setTimeout(pair, 5000);
    }
  }
  $("pairing-code").textContent = store.get("code");
  $("pairing-code").setAttribute("aria-label", "Pairing code " + store.get("code").split("").join(" "));
  waitForAdmin(secret);
}

async function waitForAdmin(secret) {
  try {
    const g = await api("POST", "/api/v1/kiosks/token", { device_secret: secret }, { token: "" });
    store.set("token", g.token);
    store.set("kind", g.kiosk.kind);
    store.set("name", g.kiosk.name || "");
    localStorage.removeItem("perch.kiosk.secret");
    return start();
  } catch (e) {
    if (e.code === "not_paired") return setTimeout(() => waitForAdmin(secret), 2000);
    if (e.status === 401 || e.status === 404) { store.clear(); return pair(); } // expired: a new code
    $("pairing-status").textContent = e.message;
    setTimeout(() => waitForAdmin(secret), 5000);
  }
}

// ---- door ----

async function startDoor() {
  screen("door");
  await reload();
  if (channel) channel.close();
  channel = live("/ws/kiosk", store.get("token"), {
    onSnapshot: (m) => show(m.state),
    onState: (m) => show(m.state),
    onDelta: (m) => { if (m.state) show(m.state); },
    onStatus: (up) => { $("offline").hidden = up; document.body.dataset.live = up ? "up" : "down"; },
    onRevoked: () => { store.clear(); location.reload(); },
  }, { poll: reload, pollEvery: 30000 });
}

async function reload() {
  try {
    show(await api("GET", "/api/v1/kiosk/room", undefined, { token: store.get("token") }));
  } catch (e) {
    if (e.status === 401) { store.clear(); return pair(); }
    flash(e.message, "err");
  }
}

function show(r) {
  if (!r) return;
  room = r;
  const tz = r.timezone;
  $("room-name").textContent = r.name;
  const now = Date.now();
  const current = (r.today || []).find((b) => new Date(b.start) <= now && now < new Date(b.end));
  const busy = r.state === "booked" || r.state === "checked_in";
  const box = $("door-state");
  box.className = "door-state " + (r.state === "free" ? "free" : busy ? "busy" : "other");
  box.dataset.state = r.state;
  $("state-word").textContent = r.state === "free" ? "Free" : busy ? "Busy" : r.state === "not_bookable" ? "Not bookable" : r.state;
  $("state-detail").textContent = r.state === "free"
    ? (r.free_until ? `until ${clock(r.free_until, tz)}` : "for the rest of the day")
    : r.next_free_at ? `free at ${clock(r.next_free_at, tz)}` : "";
  $("current").textContent = current
    ? `${current.title || (current.user_name ? current.user_name + "'s meeting" : "Booked")} · ${clock(current.start, tz)}–${clock(current.end, tz)} · ${r.state === "checked_in" ? "checked in" : "not checked in yet"}`
    : "";
  const later = (r.today || []).filter((b) => new Date(b.start) > now);
  $("later").replaceChildren(...(later.length
    ? later.map((b) => el("li", {}, `${clock(b.start, tz)}–${clock(b.end, tz)} ${b.title || b.user_name || "Booked"}`))
    : [el("li", { class: "muted" }, "Nothing else booked today.")]));
  actions(r, current);
  scheduleBoundary(r);
}

function actions(r, current) {
  const list = [];
  const act = (label, path, body, cls) => el("button", { class: cls || "", type: "button", onclick: () => doAction(path, body, label) }, label);
  if (r.state === "free") {
    for (const m of [15, 30, 60]) list.push(act(`Book ${m} min`, "/api/v1/kiosk/book-now", { minutes: m }, m === 30 ? "primary" : ""));
  } else if (current && r.state === "booked") {
    list.push(act("Check in", "/api/v1/kiosk/check-in", {}, "primary"), act("End now", "/api/v1/kiosk/end-early", {}));
  } else if (current && r.state === "checked_in") {
    list.push(act("Extend 15 min", "/api/v1/kiosk/extend", { minutes: 15 }, "primary"), act("Extend 30 min", "/api/v1/kiosk/extend", { minutes: 30 }),
      act("End now", "/api/v1/kiosk/end-early", {}));
  }
  $("actions").replaceChildren(...list);
}

async function doAction(path, body, label) {
  for (const b of $("actions").querySelectorAll("button")) b.disabled = true;
  try {
    await api("POST", path, body, { token: store.get("token") });
    flash(label + " — done.", "ok");
    await reload(); // the socket brings the same change; this answers at once
  } catch (e) {
    flash(e.message, "err");
    for (const b of $("actions").querySelectorAll("button")) b.disabled = false;
  }
}

function flash(text, kind) {
  $("door-msg").replaceChildren(el("div", { class: "msg " + kind }, text));
  setTimeout(() => $("door-msg").replaceChildren(), 6000);
}

// A meeting starts or ends with no event: reload at the next boundary.
function scheduleBoundary(r) {
  clearTimeout(boundaryTimer);
  const now = Date.now();
  const times = (r.today || []).flatMap((b) => [new Date(b.start).getTime(), new Date(b.end).getTime()])
    .concat([r.free_until, r.next_free_at].filter(Boolean).map((t) => new Date(t).getTime()))
    .filter((t) => t > now);
  if (!times.length) return;
  boundaryTimer = setTimeout(reload, Math.min(...times) - now + 1000);
}

setInterval(() => {
  if (room) $("clock").textContent = clock(new Date().toISOString(), room.timezone);
}, 1000);

// ---- lobby ----

function startLobby() {
  screen("lobby");
  $("lobby-h").textContent = "Welcome" + (store.get("name") ? " — " + store.get("name") : "");
  import("./lobby.js").then((m) => m.startLobby($("lobby-body"), store.get("token"))).catch(() => {
    $("lobby-body").replaceChildren(el("p", {}, "Please see reception."));
  });
}

// ---- start ----

function start() {
  if (!store.get("token")) return pair();
  if (store.get("kind") === "lobby") return startLobby();
  return startDoor();
}

start();
