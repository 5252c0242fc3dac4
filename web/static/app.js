// The employee app: pick a date and a floor, see every desk and room live,
// tap one to book it; my bookings (cancel, check in, repeat weekly); find a
// colleague. Every error shown is the API's own problem `detail`.
import { api, token, adoptTokenFromURL, zonedToUTC, todayIn, addDays, clock, day, el } from "./lib/api.js";
import { live } from "./lib/live.js";
import { renderPlan, legend, stateOf, STATES } from "./lib/plan.js";

const $ = (id) => document.getElementById(id);
const state = { me: null, sites: [], site: null, floors: [], floor: null, zones: [], avail: null, selected: null, channel: null };

function say(target, text, kind) {
  const box = $(target);
  box.replaceChildren();
  if (text) box.append(el("div", { class: "msg " + (kind || "ok") }, text));
}

// ---- sign-in ----

async function start() {
  adoptTokenFromURL();
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
  if (!token.get()) return showSignIn();
  try {
    state.me = await api("GET", "/api/v1/me");
  } catch (e) {
    if (e.status === 401) { token.clear(); return showSignIn("That token is not valid any more. Please sign in again."); }
    return showSignIn(e.message);
  }
  $("signin").hidden = true;
  $("who").textContent = state.me.name;
  $("signout").hidden = false;
  $("tabs").hidden = false;
  legend($("legend"));
  show("book");
  listenToMe();
  await loadSites();
}

function showSignIn(message) {
  $("signin").hidden = false;
  $("tabs").hidden = true;
  if (message) say("signin-msg", message, "err");
  $("token").focus();
}

$("signin-form").addEventListener("submit", (e) => {
  e.preventDefault();
  token.set($("token").value);
  start();
});
$("signout").addEventListener("click", () => { token.clear(); location.reload(); });

// ---- tabs ----

function show(tab) {
  for (const s of ["book", "mine", "visitors", "people"]) $(s).hidden = s !== tab;
  for (const b of document.querySelectorAll("#tabs button")) {
    if (b.dataset.tab === tab) b.setAttribute("aria-current", "page"); else b.removeAttribute("aria-current");
  }
  if (tab === "mine") loadMine();
  if (tab === "visitors") loadVisitors();
}
for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => show(b.dataset.tab));

// ---- sites, floors, window ----

async function loadSites() {
  const r = await api("GET", "/api/v1/sites?limit=100");
  state.sites = r.items;
  $("site").replaceChildren(...state.sites.map((s) => el("option", { value: s.id }, s.name)));
  const saved = localStorage.getItem("perch.site");
  if (saved && state.sites.some((s) => s.id === saved)) $("site").value = saved;
  await selectSite($("site").value);
}

async function selectSite(id) {
  state.site = state.sites.find((s) => s.id === id);
  if (!state.site) return;
  localStorage.setItem("perch.site", id);
  if (!$("date").value) $("date").value = todayIn(state.site.timezone);
  const r = await api("GET", `/api/v1/sites/${id}/floors?limit=100`);
  state.floors = r.items;
  $("floor").replaceChildren(...state.floors.map((f) => el("option", { value: f.id }, f.name)));
  const saved = localStorage.getItem("perch.floor");
  if (saved && state.floors.some((f) => f.id === saved)) $("floor").value = saved;
  await selectFloor($("floor").value);
}

async function selectFloor(id) {
  state.floor = state.floors.find((f) => f.id === id);
  if (!state.floor) return;
  localStorage.setItem("perch.floor", id);
  const z = await api("GET", `/api/v1/floors/${id}/zones?limit=100`);
  state.zones = z.items;
  $("zone").replaceChildren(el("option", { value: "" }, "All zones"), ...state.zones.map((x) => el("option", { value: x.id }, x.name)));
  await refresh();
  subscribe();
}

// window is the interval shown, in the site's zone: a whole local day, a
// half, or the hours asked for.
function window_() {
  const tz = state.site.timezone, d = $("date").value;
  switch ($("part").value) {
    case "am": return { from: zonedToUTC(d, "00:00", tz), to: zonedToUTC(d, "12:00", tz) };
    case "pm": return { from: zonedToUTC(d, "12:00", tz), to: zonedToUTC(addDays(d, 1), "00:00", tz) };
    case "hours": return { from: zonedToUTC(d, $("from").value, tz), to: zonedToUTC(d, $("to").value, tz) };
    default: return { from: zonedToUTC(d, "00:00", tz), to: zonedToUTC(addDays(d, 1), "00:00", tz) };
  }
}

let refreshing = null, again = false;
// refresh reloads the floor's availability (one request, coalesced when
// deltas arrive in bursts).
async function refresh() {
  if (refreshing) { again = true; return refreshing; }
  refreshing = (async () => {
    try {
      const w = window_();
      state.avail = await api("GET", `/api/v1/floors/${state.floor.id}/availability?from=${encodeURIComponent(w.from)}&to=${encodeURIComponent(w.to)}`);
      draw();
    } catch (e) {
      say("msg", e.message, "err");
    }
  })();
  await refreshing;
  refreshing = null;
  if (again) { again = false; await refresh(); }
}

function draw() {
  const res = state.avail.resources;
  const amenities = [...new Set(res.flatMap((r) => r.amenities || []))].sort();
  const am = $("amenity").value;
  $("amenity").replaceChildren(el("option", { value: "" }, "Any"), ...amenities.map((a) => el("option", { value: a }, a)));
  $("amenity").value = amenities.includes(am) ? am : "";
  const zone = $("zone").value, amenity = $("amenity").value;
  renderPlan($("plan"), res, {
    width: state.floor.width, height: state.floor.height, label: `Plan of ${state.floor.name}`, image: state.floor.plan_image_url,
    selected: state.selected, clock: (t) => clock(t, state.site.timezone),
    dim: (r) => (zone && r.zone_id !== zone) || (amenity && !(r.amenities || []).includes(amenity)),
    onSelect: openSheet,
  });
  const free = res.filter((r) => r.state === "free").length;
  $("plan-status").textContent = `${free} of ${res.length} free on ${state.floor.name}.`;
}

// subscribe opens the floor's live channel: every committed change on the
// floor refreshes the map; polling stands in while the socket is down.
function subscribe() {
  if (state.channel) state.channel.close();
  state.channel = live(`/ws/floors/${state.floor.id}`, token.get(), {
    onSnapshot: () => refresh(),
    onDelta: () => refresh(),
    onStatus: (up) => { $("offline").hidden = up; document.body.dataset.live = up ? "up" : "down"; },
  }, { poll: () => refresh(), pollEvery: 15000 });
}

$("site").addEventListener("change", (e) => selectSite(e.target.value));
$("floor").addEventListener("change", (e) => selectFloor(e.target.value));
for (const id of ["date", "from", "to"]) $(id).addEventListener("change", () => refresh());
$("part").addEventListener("change", () => { $("hours").hidden = $("part").value !== "hours"; refresh(); });
$("zone").addEventListener("change", draw);
$("amenity").addEventListener("change", draw);

// ---- booking sheet ----

function openSheet(r) {
  state.selected = r.id;
  const tz = state.site.timezone, st = stateOf(r);
  const isRoom = r.resource_type === "room";
  $("sheet-h").textContent = `${isRoom ? "Room" : "Desk"} ${r.name}`;
  const bits = [STATES[st]?.label || st];
  if (isRoom && r.capacity) bits.push(`${r.capacity} seats`);
  if ((r.amenities || []).length) bits.push(r.amenities.join(", "));
  for (const b of r.bookings || []) bits.push(`${b.mine ? "you" : b.user_name || "booked"} ${clock(b.start, tz)}–${clock(b.end, tz)}`);
  if (r.reason) bits.push(r.reason);
  $("sheet-info").textContent = bits.join(" · ");
  $("sheet-room").hidden = !isRoom;
  $("sheet-title").hidden = $("sheet-title-l").hidden = !isRoom;
  if (isRoom) {
    $("sheet-from").value = $("part").value === "hours" ? $("from").value : "09:00";
    $("sheet-to").value = $("part").value === "hours" ? $("to").value : "10:00";
  }
  $("sheet-book").disabled = !["free"].includes(r.state) && !isRoom;
  $("sheet-msg").replaceChildren();
  $("sheet").dataset.id = r.id;
  $("sheet").dataset.type = r.resource_type;
  $("sheet").showModal();
  draw();
}

$("sheet-form").addEventListener("submit", async (e) => {
  if (e.submitter?.value !== "book") { state.selected = null; draw(); return; }
  e.preventDefault();
  const type = $("sheet").dataset.type, id = $("sheet").dataset.id, tz = state.site.timezone, d = $("date").value;
  const body = { resource_type: type, resource_id: id };
  if (type === "room") {
    body.start = zonedToUTC(d, $("sheet-from").value, tz);
    body.end = zonedToUTC(d, $("sheet-to").value, tz);
    if ($("sheet-title").value.trim()) body.title = $("sheet-title").value.trim();
  } else if ($("part").value === "hours") {
    body.start = window_().from; body.end = window_().to;
  } else {
    body.date = d; body.part = $("part").value;
  }
  $("sheet-book").disabled = true;
  try {
    const res = await api("POST", "/api/v1/bookings", body, { ifMatch: undefined });
    const b = res.bookings ? res.bookings[0] : res;
    $("sheet").close();
    state.selected = null;
    say("msg", `Booked ${b.resource_name}, ${day(b.start, tz)} ${clock(b.start, tz)}–${clock(b.end, tz)}.`, "ok");
    refresh();
  } catch (err) {
    say("sheet-msg", err.message, "err");
  } finally {
    $("sheet-book").disabled = false;
  }
});

// ---- my bookings ----

async function loadMine() {
  const now = new Date().toISOString();
  try {
    const r = await api("GET", `/api/v1/bookings?user=me&from=${encodeURIComponent(now)}&limit=50`);
    const items = r.items.filter((b) => b.status === "confirmed" || b.status === "checked_in");
    $("mine-list").replaceChildren(...(items.length ? items.map(bookingCard) : [el("li", { class: "muted" }, "No upcoming bookings.")]));
  } catch (e) {
    say("mine-msg", e.message, "err");
  }
}

function bookingCard(b) {
  const tz = b.timezone;
  const act = (label, cls, f) => el("button", { class: cls, type: "button", onclick: f, "aria-label": `${label} ${b.resource_name} ${day(b.start, tz)}` }, label);
  const run = async (method, path, okText) => {
    try { await api(method, path); say("mine-msg", okText, "ok"); loadMine(); } catch (e) { say("mine-msg", e.message, "err"); }
  };
  return el("li", { class: "card", "data-booking": b.id },
    el("h3", {}, `${b.resource_type === "room" ? "Room" : "Desk"} ${b.resource_name}`),
    el("div", {}, `${day(b.start, tz)} ${clock(b.start, tz)}–${clock(b.end, tz)}${b.title ? " · " + b.title : ""}`),
    el("div", { class: "muted" }, b.status === "checked_in" ? "Checked in" : b.series_id ? "Repeats" : "Booked"),
    el("div", { class: "row", style: "margin-top:8px" },
      b.status === "confirmed" ? act("Check in", "primary", () => run("POST", `/api/v1/bookings/${b.id}/check-in`, `Checked in at ${b.resource_name}.`)) : null,
      b.status === "checked_in" ? act("Check out", "", () => run("POST", `/api/v1/bookings/${b.id}/check-out`, "Checked out.")) : null,
      b.status === "confirmed" && !b.series_id ? act("Repeat weekly", "", () => repeatWeekly(b)) : null,
      b.status === "confirmed" ? act("Cancel", "danger", () => run("DELETE", `/api/v1/bookings/${b.id}`, "Cancelled.")) : null));
}

// repeatWeekly books the same place and time on the same weekday for the
// next 4 weeks, skipping weeks where it is taken.
async function repeatWeekly(b) {
  const next = new Date(new Date(b.start).getTime() + 7 * 864e5).toISOString();
  const end = new Date(new Date(b.end).getTime() + 7 * 864e5).toISOString();
  try {
    const r = await api("POST", "/api/v1/bookings", { resource_type: b.resource_type, resource_id: b.resource_id, start: next, end, recurrence: "FREQ=WEEKLY;COUNT=4", skip_conflicts: true });
    const skipped = (r.skipped || []).length;
    say("mine-msg", `Booked ${r.bookings.length} more week(s)${skipped ? `; ${skipped} skipped (taken or not allowed)` : ""}.`, "ok");
    loadMine();
  } catch (e) { say("mine-msg", e.message, "err"); }
}

// ---- my own channel: visitors arriving, my bookings changed ----

function listenToMe() {
  live("/ws/me", token.get(), {
    onDelta: (m) => {
      let p = {};
      try { p = typeof m.event === "string" ? JSON.parse(m.event) : m.event || {}; } catch { /* keep {} */ }
      if (m.kind === "visitor.arrived") notice(`Your visitor ${p.visitor || ""}${p.company ? " (" + p.company + ")" : ""} has arrived.`);
      else if (m.kind === "visitor.checked_out") notice(`Your visitor ${p.visitor || ""} has left.`);
      else if (m.kind === "booking.released") notice(`Your booking of ${p.resource_name || "a desk"} was released: nobody checked in.`);
      if (!$("mine").hidden) loadMine();
      if (!$("visitors").hidden) loadVisitors();
    },
  });
}

function notice(text) {
  $("notice").textContent = text;
  $("notice").hidden = false;
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => { $("notice").hidden = true; }, 15000);
}

// ---- visitors ----

async function loadVisitors() {
  if (state.site && !$("v-date").value) $("v-date").value = todayIn(state.site.timezone);
  try {
    const r = await api("GET", `/api/v1/visits?host_id=${state.me.id}&limit=50`);
    $("visitors-list").replaceChildren(...(r.items.length ? r.items.map((v) => el("li", { class: "card", "data-visit": v.id },
      el("h3", {}, v.visitor.name + (v.visitor.company ? ` · ${v.visitor.company}` : "")),
      el("div", {}, `${day(v.expected_at, v.timezone)} ${clock(v.expected_at, v.timezone)} · ${v.site_name}`),
      el("div", { class: "muted visit-status" }, { expected: "Expected", checked_in: "Arrived", checked_out: "Left", cancelled: "Cancelled", flagged: "With reception" }[v.status] || v.status),
      v.status === "expected" ? el("button", { type: "button", class: "danger", onclick: async () => {
        try { await api("DELETE", `/api/v1/visits/${v.id}`); loadVisitors(); } catch (e) { say("visitors-msg", e.message, "err"); }
      } }, `Cancel ${v.visitor.name}'s visit`) : null))
      : [el("li", { class: "muted" }, "No visitors yet.")]));
  } catch (e) { say("visitors-msg", e.message, "err"); }
}

$("invite-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const tz = state.site.timezone;
  const body = {
    site_id: state.site.id, expected_at: zonedToUTC($("v-date").value, $("v-time").value, tz),
    visitor: { name: $("v-name").value.trim(), email: $("v-email").value.trim(), company: $("v-company").value.trim() || undefined },
    purpose: $("v-purpose").value.trim() || undefined,
  };
  try {
    const v = await api("POST", "/api/v1/visits", body);
    say("visitors-msg", `Invited ${v.visitor.name}.`, "ok");
    $("invite-text").textContent = v.invitation ? v.invitation.subject + "\n\n" + v.invitation.text : "";
    const png = await fetch(v.invite_qr_url, { headers: { Authorization: "Bearer " + token.get() } });
    if (png.ok) $("invite-qr").src = URL.createObjectURL(await png.blob());
    $("invitation").hidden = false;
    for (const id of ["v-name", "v-email", "v-company", "v-purpose"]) $(id).value = "";
    loadVisitors();
  } catch (err) { say("visitors-msg", err.message, "err"); }
});

// ---- people ----

let searchTimer = null;
$("q").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(search, 250); });
$("people-form").addEventListener("submit", (e) => { e.preventDefault(); search(); });

async function search() {
  const q = $("q").value.trim();
  if (q.length < 2) { $("people-list").replaceChildren(); return; }
  try {
    const r = await api("GET", `/api/v1/users?q=${encodeURIComponent(q)}&limit=20`);
    $("people-list").replaceChildren(...r.items.map((u) => {
      const where = el("div", { class: "muted" });
      const li = el("li", { class: "card" }, el("h3", {}, u.name), where,
        el("button", { type: "button", onclick: () => whereIs(u, where) }, `Where is ${u.name} today?`));
      return li;
    }));
  } catch (e) { $("people-list").replaceChildren(el("li", { class: "msg err" }, e.message)); }
}

async function whereIs(u, box) {
  const tz = state.site?.timezone || "UTC";
  try {
    const r = await api("GET", `/api/v1/users/${u.id}/whereabouts?date=${todayIn(tz)}`);
    box.textContent = r.items.length
      ? r.items.map((w) => `${w.resource_name} (${w.floor_name}, ${w.site_name}) ${clock(w.start, w.timezone)}–${clock(w.end, w.timezone)}${w.status === "checked_in" ? ", checked in" : ""}`).join("; ")
      : `${u.name} has no booking today.`;
  } catch (e) { box.textContent = e.message; }
}

start();
