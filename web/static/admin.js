// The facilities admin: kiosks (pair, online state, revoke), the floor
// editor (drag desks and rooms, edit them, add a row), the booking policy,
// and the day's bookings.
import { api, token, adoptTokenFromURL, zonedToUTC, todayIn, addDays, clock, day, el } from "./lib/api.js";
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
    if (me.role !== "admin" && me.role !== "reception") return signIn("This page is for administrators and reception; your role is " + me.role + ".");
    st.role = me.role;
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
  if (st.role === "reception") { // reception runs the lobby: visitors and the roll call
    for (const b of document.querySelectorAll("#sections button")) b.hidden = b.dataset.sec !== "visitors";
  }
  const sec = location.hash.replace("#", "");
  section(SECTIONS.includes(sec) ? sec : st.role === "reception" ? "visitors" : "kiosks");
}

function signIn(message) {
  $("signin").hidden = false;
  $("admin").hidden = true;
  if (message) $("signin-msg").replaceChildren(el("div", { class: "msg err" }, message));
}
$("signin-form").addEventListener("submit", (e) => { e.preventDefault(); token.set($("token").value); start(); });

const SECTIONS = ["kiosks", "editor", "policy", "bookings", "visitors", "reports", "moves"];

function section(name) {
  st.section = name;
  for (const s of SECTIONS) $(s).hidden = s !== name;
  for (const b of document.querySelectorAll("#sections button")) {
    if (b.dataset.sec === name) b.setAttribute("aria-current", "page"); else b.removeAttribute("aria-current");
  }
  ({ kiosks: loadKiosks, editor: loadEditor, policy: loadPolicy, bookings: loadBookings, visitors: loadVisitors, reports: loadReports, moves: loadMoves })[name]().catch(fail);
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

// ---- files behind the token (SVG charts, CSV) ----

async function authed(path) {
  const res = await fetch(path, { headers: { Authorization: "Bearer " + token.get() } });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new Error(body.detail || `Request failed (${res.status})`);
  }
  return res.blob();
}

async function download(path, name) {
  try {
    const url = URL.createObjectURL(await authed(path));
    const a = el("a", { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (e) { fail(e); }
}

async function picture(path, alt) {
  const img = el("img", { alt, style: "max-width:100%;background:#fff;border:1px solid #c9d1d9;border-radius:8px" });
  img.src = URL.createObjectURL(await authed(path));
  return img;
}

// ---- visitors, on site, roll call ----

async function loadVisitors() {
  const tz = st.site.timezone;
  const r = await api("GET", `/api/v1/visits?site_id=${st.site.id}&date=${todayIn(tz)}&limit=200`);
  const act = (label, path) => el("button", { type: "button", onclick: async () => {
    try { await api("POST", path); say(label + " — done."); loadVisitors(); } catch (e) { fail(e); }
  } }, label);
  $("visit-table").tBodies[0].replaceChildren(...(r.items.length ? r.items.map((v) => el("tr", {},
    el("td", {}, v.visitor.name + (v.visitor.company ? ` (${v.visitor.company})` : "")), el("td", {}, v.host_name),
    el("td", {}, clock(v.expected_at, tz)), el("td", {}, v.status),
    el("td", {}, v.status === "expected" || v.status === "flagged" ? act("Check in", `/api/v1/visits/${v.id}/check-in`)
      : v.status === "checked_in" ? act("Check out", `/api/v1/visits/${v.id}/check-out`) : "")))
    : [el("tr", {}, el("td", { colspan: 5 }, "No visitors today."))]));
  const o = await api("GET", `/api/v1/sites/${st.site.id}/on-site`);
  $("onsite").replaceChildren(el("p", { role: "status" }, `${o.total} people on site, ${o.visitors} of them visitors.`),
    ...o.floors.map((f) => el("div", { class: "card" }, el("h3", {}, `${f.floor_name} (${f.people.length})`),
      el("ul", {}, ...f.people.map((p) => el("li", {}, `${p.name}${p.company ? " · " + p.company : ""}${p.where ? " · " + p.where : ""}${p.person_type === "visitor" ? " · visitor of " + p.host_name : ""}`))))));
  if (st.rollCall) showRollCall(await api("GET", `/api/v1/roll-calls/${st.rollCall}`));
}
$("onsite-csv").addEventListener("click", () => download(`/api/v1/sites/${st.site.id}/on-site?format=csv`, "on-site.csv"));
$("rollcall-start").addEventListener("click", async () => {
  if (!confirm("Start a roll call of everyone on site now?")) return;
  try { const rc = await api("POST", `/api/v1/sites/${st.site.id}/roll-calls`); st.rollCall = rc.id; showRollCall(rc); } catch (e) { fail(e); }
});
$("rollcall-close").addEventListener("click", async () => {
  try { showRollCall(await api("POST", `/api/v1/roll-calls/${st.rollCall}/close`)); st.rollCall = null; } catch (e) { fail(e); }
});

function showRollCall(rc) {
  $("rollcall").hidden = false;
  $("rollcall-h").textContent = `Roll call from ${new Date(rc.started_at).toLocaleTimeString()}${rc.closed_at ? " (closed)" : ""}`;
  $("rollcall-count").textContent = `${rc.safe} safe, ${rc.missing} missing of ${rc.total}.`;
  $("rollcall-list").replaceChildren(...rc.people.map((p) => el("li", { class: "card" },
    el("strong", {}, p.name), ` ${p.person_type === "visitor" ? "(visitor)" : ""} — ${p.safe ? "safe" : "missing"} `,
    !p.safe && !rc.closed_at ? el("button", { type: "button", class: "primary", onclick: async () => {
      try {
        await api("POST", `/api/v1/roll-calls/${rc.id}/marks`, { person_type: p.person_type, person_id: p.person_id, safe: true });
        showRollCall(await api("GET", `/api/v1/roll-calls/${rc.id}`));
      } catch (e) { fail(e); }
    } }, `Mark ${p.name} safe`) : null)));
}

// ---- reports ----

async function loadReports() {
  const tz = st.site.timezone;
  if (!$("r-to").value) { $("r-to").value = addDays(todayIn(tz), -1); $("r-from").value = addDays(todayIn(tz), -28); }
  const q = `site_id=${st.site.id}&from=${$("r-from").value}&to=${$("r-to").value}`;
  const occ = await api("GET", `/api/v1/reports/occupancy?${q}&bucket=day`);
  const peak = Math.max(0, ...occ.rows.map((r) => r.peak));
  const util = await api("GET", `/api/v1/reports/utilisation?${q}&resource_type=desk&group_by=floor`);
  const csv = (label, path, name) => el("button", { type: "button", onclick: () => download(path, name) }, label);
  $("report-body").replaceChildren(
    el("p", {}, `Highest day: ${peak} people at once.`),
    el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Floor"), el("th", { scope: "col" }, "Booked"), el("th", { scope: "col" }, "Checked in"), el("th", { scope: "col" }, "No-shows"))),
      el("tbody", {}, ...util.rows.map((r) => el("tr", {}, el("td", {}, r.name),
        el("td", {}, pct(r.booked_rate)), el("td", {}, pct(r.checked_in_rate)), el("td", {}, pct(r.no_show_rate)))))),
    el("p", { class: "row" }, csv("Occupancy CSV", `/api/v1/reports/occupancy?${q}&bucket=day&format=csv`, "occupancy.csv"),
      csv("Utilisation CSV", `/api/v1/reports/utilisation?${q}&resource_type=desk&group_by=resource&format=csv`, "utilisation.csv")),
    el("h3", {}, "When people are in (hour × weekday)"), await picture(`/api/v1/reports/occupancy/heatmap.svg?${q}`, "Occupancy heatmap by hour and weekday"),
    el("h3", {}, "People present per day"), await picture(`/api/v1/reports/occupancy/daily.svg?${q}`, "Daily occupancy chart"),
    el("h3", {}, `${st.floor.name}: desks by use`), await picture(`/api/v1/reports/utilisation/floor.svg?floor_id=${st.floor.id}&from=${$("r-from").value}&to=${$("r-to").value}`, `Floor plan of ${st.floor.name} coloured by utilisation`));
}
const pct = (v) => (typeof v === "number" ? Math.round(v * 100) + " %" : "–");
$("report-form").addEventListener("submit", (e) => { e.preventDefault(); loadReports().catch(fail); });

// ---- move planner ----

async function loadMoves() {
  const tz = st.site.timezone;
  if (!$("m-date").value) {
    $("m-date").value = addDays(todayIn(tz), 14); $("m-to").value = addDays(todayIn(tz), -1); $("m-from").value = addDays(todayIn(tz), -90);
  }
  $("m-floor").replaceChildren(...st.floors.map((f) => el("option", { value: f.id }, f.name)));
  const teams = (await api("GET", "/api/v1/teams?limit=200")).items;
  $("m-teams").replaceChildren(...teams.map((t) => el("label", { style: "font-weight:400" }, el("input", { type: "checkbox", value: t.id, style: "width:auto;min-height:0" }), " " + t.name)));
  const plans = (await api("GET", `/api/v1/move-plans?site_id=${st.site.id}&limit=50`)).items;
  $("move-list").replaceChildren(...plans.map(planCard));
}

function planCard(pl) {
  const run = (label, path) => el("button", { type: "button", onclick: async () => {
    try {
      const r = await api("POST", `/api/v1/move-plans/${pl.id}/${path}`);
      say(`${label}: ${summary(path, r)}`, path === "validate" && (r.findings || []).some((f) => f.severity === "error") ? "err" : "ok");
      if (path === "apply") loadMoves();
    } catch (e) { fail(e); }
  } }, label);
  return el("li", { class: "card" }, el("h3", {}, `${pl.name} — ${pl.status}, from ${pl.effective_date}`),
    el("ul", {}, ...pl.proposal.teams.map((t) => el("li", {}, `${t.team_name}: ${t.members} people, 90th-percentile day ${t.p90_peak}, demand ${t.demand}, ${t.desks} desks (ratio ${t.desk_ratio.toFixed(2)})${t.shortfall ? `, short by ${t.shortfall}` : ""}`))),
    el("p", { class: "row" }, run("Validate", "validate"), run("Simulate", "simulate"), pl.status === "draft" ? run("Apply", "apply") : null,
      el("button", { type: "button", onclick: () => download(`/api/v1/move-plans/${pl.id}/export.csv`, "move-plan.csv") }, "CSV"),
      el("button", { type: "button", onclick: async () => {
        try { $("move-list").prepend(el("li", {}, await picture(`/api/v1/move-plans/${pl.id}/plan.svg`, `${pl.name} coloured by team`))); } catch (e) { fail(e); }
      } }, "Show plan")));
}

function summary(path, r) {
  if (path === "validate") return (r.findings || []).length ? r.findings.map((f) => f.message).join(" ") : "no findings.";
  if (path === "simulate") {
    return `${r.days} days replayed; ${r.over_capacity.length ? r.over_capacity.length + " team-days over capacity" : "no day over capacity"}.`;
  }
  const b = r.bookings || [];
  return `applied; ${b.filter((x) => x.action === "moved").length} bookings moved, ${b.filter((x) => x.action === "cancelled").length} cancelled.`;
}

$("move-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const teamIDs = [...$("m-teams").querySelectorAll("input:checked")].map((i) => i.value);
  try {
    await api("POST", "/api/v1/move-plans", { name: $("m-name").value.trim(), site_id: st.site.id, effective_date: $("m-date").value,
      team_ids: teamIDs, target_floor_ids: [$("m-floor").value], basis: { from: $("m-from").value, to: $("m-to").value }, buffer: +$("m-buffer").value / 100 });
    say("Proposed.");
    loadMoves();
  } catch (err) { fail(err); }
});

start();
