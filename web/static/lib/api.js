// The REST API: the signed-in token, JSON requests, and RFC 9457 problems
// turned into errors whose message is the API's own `detail`.

const KEY = "perch.token";

// A token arriving in the URL fragment (a sign-in link: /#token=…) is kept
// and removed from the address bar; fragments never reach the server.
export function adoptTokenFromURL() {
  const m = location.hash.match(/token=([^&]+)/);
  if (m) {
    localStorage.setItem(KEY, decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
}

export const token = {
  get: () => localStorage.getItem(KEY) || "",
  set: (t) => localStorage.setItem(KEY, t.trim()),
  clear: () => localStorage.removeItem(KEY),
};

export class Problem extends Error {
  constructor(status, body) {
    super(body.detail || body.title || `Request failed (${status})`);
    this.status = status;
    this.code = body.code || "";
    this.field = body.field || "";
    this.body = body;
  }
}

// api calls the REST API with the stored token (or opts.token) and returns
// the decoded JSON (null for 204). Failures throw a Problem.
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: "application/json" };
  const t = opts.token ?? token.get();
  if (t) headers.Authorization = "Bearer " + t;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (opts.ifMatch) headers["If-Match"] = opts.ifMatch;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new Problem(0, { detail: "Perch cannot be reached. Check your connection and try again.", code: "offline" });
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Problem(res.status, data);
  return data;
}

// zonedToUTC turns a wall-clock date ("2026-11-24") and time ("09:30") in
// the IANA zone tz into an ISO instant, right across DST changes.
export function zonedToUTC(date, time, tz) {
  const [y, mo, d] = date.split("-").map(Number);
  const [h, mi] = (time || "00:00").split(":").map(Number);
  const want = Date.UTC(y, mo - 1, d, h, mi);
  let guess = want;
  for (let i = 0; i < 3; i++) {
    const off = offsetAt(guess, tz);
    const next = want - off;
    if (next === guess) break;
    guess = next;
  }
  return new Date(guess).toISOString();
}

function offsetAt(ms, tz) {
  const f = new Intl.DateTimeFormat("en-US", {
    timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  const asUTC = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  return asUTC - Math.floor(ms / 1000) * 1000;
}

// today in tz as YYYY-MM-DD.
export function todayIn(tz) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: tz }).format(new Date());
}

// addDays to a YYYY-MM-DD date.
export function addDays(date, n) {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

// clock formats an instant as HH:MM in tz.
export function clock(iso, tz) {
  return new Date(iso).toLocaleTimeString("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit" });
}

// day formats an instant's date in tz ("Tue 24 Nov").
export function day(iso, tz) {
  return new Date(iso).toLocaleDateString("en-GB", { timeZone: tz, weekday: "short", day: "numeric", month: "short" });
}

// el builds an element: el("button", {class: "x", onclick: f}, "text", child…).
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}
