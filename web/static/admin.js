// The facilities admin: kiosks (pair, online state, revoke), the floor
// editor (drag desks and rooms, edit them, add a row), the booking policy,
// and the day's bookings.
import { api, token, adoptTokenFromURL, zonedToUTC, todayIn, addDays, clock, el } from "./lib/api.js";
import { renderPlan } from "./lib/plan.js";

const $ = (id) => document.getElementById(id);
const st = { sites: [], site: null, floors: [], floor: null, zones: [], rooms: [], resources: [], selected: null, section: "kiosks" };

function say(text, kind) { $("msg").replaceChildren(text ? el("div", { class: "msg " + (kind || "ok") }, text) : ""); }
const fail = (e) => say(e.message, "err");

async function start() {
  adoptTokenFromURL();
  if (!token.get()) return signIn();
  try {
    const me = await api("GET", "/api/v1/me");
    if (me.role !== "admin") return signIn("This page is for administrators; your role is " + me.role + ".");
    $("who").textContent = me.name;
  } catch (e) {
    if (e.status === 401) token.clear();
    return signIn(e.message);
  }
  $("signin").hidden = true;
  const r = await api("GET", "/api/v1/sites?limit=100");
  st.sites = r.items;
  $("site").replaceChildren(...st.sites.map((s) => el("option", { value: s.id }, s.name)));
  await selectSite($("site").value);
  $("admin").hidden = false; // only now: every section needs a site and floor
  const sec = location.hash.replace("#", "");
  section(["kiosks", "editor", "policy", "bookings"].includes(sec) ? sec : "kiosks");
}

function signIn(message) {
  $("signin").hidden = false;
  $("admin").hidden = true;
  if (message) $("signin-msg").replaceChildren(el("div", { class: "msg err" }, message));
}
$("signin-form").addEventListener("submit", (e) => { e.preventDefault(); token.set($("token").value); start(); });

function section(name) {
  st.section = name;
  for (const s of ["kiosks", "editor", "policy", "bookings"]) $(s).hidden = s !== name;
  for (const b of document.querySelectorAll("#sections button")) {
    if (b.dataset.sec === name) b.setAttribute("aria-current", "page"); else b.removeAttribute("aria-current");
  }
  ({ kiosks: loadKiosks, editor: loadEditor, policy: loadPolicy, bookings: loadBookings })[name]().catch(fail);
}
for (const b of document.querySelectorAll("#sections button")) b.addEventListener("click", () => section(b.dataset.sec));

async function selectSite(id) {
  st.site = st.sites.find((s) => s.id === id);
  const f = await api("GET", `/api/v1/sites/${id}/floors?limit=100`);
  st.floors = f.items;
  $("floor").replaceChildren(...st.floors.map((x) => el("option", { value: x.id }, x.name)));
  st.rooms = [];
  for (const fl of st.floors) st.rooms.push(...(await api("GET", `/api/v1/floors/${fl.id}/rooms?limit=500`)).items.map((r) => ({ ...r, floor: fl.name })));
  $("pair-room").replaceChildren(...st.rooms.map((r) => el("option", { value: r.id }, `${r.name} (${r.floor})`)));
  await selectFloor($("floor").value);
}

async function selectFloor(id) {
  st.floor = st.floors.find((f) => f.id === id);
  st.zones = (await api("GET", `/api/v1/floors/${id}/zones?limit=100`)).items;
  $("res-zone").replaceChildren(el("option", { value: "" }, "No zone"), ...st.zones.map((z) => el("option", { value: z.id }, z.name)));
  if (st.section !== "kiosks") section(st.section);
}
$("site").addEventListener("change", (e) => selectSite(e.target.value).catch(fail));
$("floor").addEventListener("change", (e) => selectFloor(e.target.value).catch(fail));

// ---- kiosks ----

async function loadKiosks() {
  const r = await api("GET", "/api/v1/kiosks?limit=200");
  const roomName = (id) => st.rooms.find((x) => x.id === id)?.name || "a room";
  $("kiosk-list").replaceChildren(...(r.items.length ? r.items.map((k) => el("li", { class: "card", "data-kiosk": k.id },
    el("h3", {}, k.name || "(unnamed kiosk)"),
    el("div", {}, k.kind === "room" ? `Door of ${roomName(k.room_id)}` : k.kind === "lobby" ? "Lobby display" : "Waiting to be paired"),
    el("div", { class: "muted" }, `${k.status}${k.status === "paired" ? (k.online ? " · online" : " · offline") : ""}${k.last_seen_at ? " · last seen " + new Date(k.last_seen_at).toLocaleString() : ""}`),
    k.status === "paired" ? el("button", { class: "danger", type: "button", onclick: () => revoke(k) }, `Revoke ${k.name || "kiosk"}`) : null))
    : [el("li", { class: "muted" }, "No kiosks yet.")]));
}

async function revoke(k) {
  if (!confirm(`Revoke ${k.name || "this kiosk"}? Its screen goes back to pairing.`)) return;
  try { await api("DELETE", `/api/v1/kiosks/${k.id}`); say("Revoked."); loadKiosks(); } catch (e) { fail(e); }
}

$("pair-kind").addEventListener("change", () => { $("pair-room").disabled = $("pair-kind").value !== "room"; });
$("pair-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = { pairing_code: $("pair-code").value.trim().toUpperCase(), kind: $("pair-kind").value, name: $("pair-name").value.trim() };
  if (body.kind === "room") body.room_id = $("pair-room").value; else body.site_id = st.site.id;
  try {
    await api("POST", "/api/v1/kiosks/pair", body);
    say(`Paired ${body.name || "the kiosk"}. Its screen switches over by itself.`);
    $("pair-code").value = "";
    loadKiosks();
  } catch (err) { fail(err); }
});

// ---- floor editor ----

async function loadEditor() {
  const [d, r] = await Promise.all([
    api("GET", `/api/v1/floors/${st.floor.id}/desks?limit=500`),
    api("GET", `/api/v1/floors/${st.floor.id}/rooms?limit=500`),
  ]);
  st.resources = [
    ...d.items.map((x) => ({ ...x, resource_type: "desk", name: x.code, state: x.bookable ? "free" : "not_bookable" })),
    ...r.items.map((x) => ({ ...x, resource_type: "room", state: x.bookable ? "free" : "not_bookable" })),
  ];
  drawEditor();
}

function drawEditor() {
  renderPlan($("plan"), st.resources, {
    width: st.floor.width, height: st.floor.height, label: `Editing ${st.floor.name}`, selected: st.selected?.id, image: st.floor.plan_image_url,
    draggable: true, onMove: move, onSelect: selectResource,
  });
}

async function move(r, x, y) {
  try {
    await api("PATCH", `/api/v1/${r.resource_type}s/${r.id}`, { x, y });
    r.x = x; r.y = y;
    say(`Moved ${r.name} to ${x}, ${y}.`);
  } catch (e) { fail(e); }
  drawEditor();
  document.querySelector(`#plan [data-id="${r.id}"]`)?.focus();
}

function selectResource(r) {
  st.selected = r;
  $("res-form").hidden = false;
  $("res-h").textContent = `${r.resource_type === "room" ? "Room" : "Desk"} ${r.name}`;
  $("res-name").value = r.name;
  $("res-zone").value = r.zone_id || "";
  $("res-amen").value = (r.amenities || []).join(", ");
  $("res-bookable").checked = r.bookable;
  drawEditor();
}

$("res-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const r = st.selected;
  const body = { zone_id: $("res-zone").value || null, amenities: $("res-amen").value.split(",").map((x) => x.trim()).filter(Boolean), bookable: $("res-bookable").checked };
  body[r.resource_type === "room" ? "name" : "code"] = $("res-name").value.trim();
  try { await api("PATCH", `/api/v1/${r.resource_type}s/${r.id}`, body); say("Saved."); await loadEditor(); } catch (err) { fail(err); }
});
$("res-delete").addEventListener("click", async () => {
  const r = st.selected;
  if (!r || !confirm(`Delete ${r.name}?`)) return;
  try { await api("DELETE", `/api/v1/${r.resource_type}s/${r.id}`); st.selected = null; $("res-form").hidden = true; say("Deleted."); await loadEditor(); } catch (err) { fail(err); }
});
$("row-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = { prefix: $("row-prefix").value, count: +$("row-count").value, x: +$("row-x").value, y: +$("row-y").value, step_x: +$("row-step").value, step_y: 0 };
  try { const r = await api("POST", `/api/v1/floors/${st.floor.id}/desks/bulk`, body); say(`Added ${r.items ? r.items.length : body.count} desks.`); await loadEditor(); } catch (err) { fail(err); }
});

$("plan-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const file = $("plan-file").files[0];
  if (!file) return say("Choose a PNG or SVG file first.", "err");
  try {
    const res = await fetch(`/api/v1/floors/${st.floor.id}/plan`, {
      method: "PUT", body: file,
      headers: { Authorization: "Bearer " + token.get(), "Content-Type": file.type || (file.name.endsWith(".svg") ? "image/svg+xml" : "image/png") },
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.detail || `Upload failed (${res.status})`);
    Object.assign(st.floor, body);
    say(`The plan image of ${st.floor.name} is updated.`);
    drawEditor();
  } catch (err) { fail(err); }
});
$("plan-remove").addEventListener("click", async () => {
  try { Object.assign(st.floor, await api("DELETE", `/api/v1/floors/${st.floor.id}/plan`)); say("Plan image removed."); drawEditor(); } catch (err) { fail(err); }
});

// ---- policy ----

async function loadPolicy() {
  const p = await api("GET", `/api/v1/sites/${st.site.id}/policy`);
  st.policy = p;
  $("p-from").value = p.bookable_from; $("p-until").value = p.bookable_until;
  $("p-ahead").value = p.max_days_ahead; $("p-perday").value = p.max_desk_bookings_per_day;
  $("p-grace").value = p.no_show_grace_minutes; $("p-walkups").checked = p.walk_ups; $("p-show").checked = p.show_booker_to_colleagues;
}
$("policy-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const p = { ...st.policy, bookable_from: $("p-from").value, bookable_until: $("p-until").value, max_days_ahead: +$("p-ahead").value,
    max_desk_bookings_per_day: +$("p-perday").value, no_show_grace_minutes: +$("p-grace").value, walk_ups: $("p-walkups").checked,
    show_booker_to_colleagues: $("p-show").checked };
  try { st.policy = await api("PUT", `/api/v1/sites/${st.site.id}/policy`, p); say("Policy saved."); } catch (err) { fail(err); }
});

// ---- bookings ----

async function loadBookings() {
  const tz = st.site.timezone, d = todayIn(tz);
  const r = await api("GET", `/api/v1/bookings?user=all&floor_id=${st.floor.id}&from=${encodeURIComponent(zonedToUTC(d, "00:00", tz))}&to=${encodeURIComponent(zonedToUTC(addDays(d, 1), "00:00", tz))}&limit=200`);
  const people = {};
  $("booking-table").tBodies[0].replaceChildren(...r.items.map((b) => el("tr", {},
    el("td", {}, b.resource_name), el("td", {}, people[b.user_id] || b.user_id.slice(0, 8)),
    el("td", {}, `${clock(b.start, tz)}–${clock(b.end, tz)}`), el("td", {}, b.status))));
}

start();
