// The floor plan as SVG: every desk and room drawn at its plan position,
// its state shown by shape and text as well as colour (for colour-blind
// people), each one a keyboard-reachable button with a spoken label.

const NS = "http://www.w3.org/2000/svg";

export const STATES = {
  free: { label: "free", glyph: "circle" },
  booked: { label: "booked", glyph: "cross" },
  checked_in: { label: "occupied", glyph: "square" },
  assigned: { label: "assigned", glyph: "diamond" },
  not_bookable: { label: "not bookable", glyph: "slash" },
  mine: { label: "yours", glyph: "star" },
};

function s(tag, attrs = {}, ...children) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, v);
  for (const c of children) if (c) e.append(c);
  return e;
}

// stateOf is what to show for a resource: "mine" wins when one of its
// bookings in the window is the viewer's.
export function stateOf(r) {
  if ((r.bookings || []).some((b) => b.mine)) return "mine";
  return r.state;
}

// glyph draws a state's shape centred on (x, y) with radius r.
export function glyph(state, x, y, r) {
  const cls = "st st-" + state;
  switch (STATES[state]?.glyph) {
    case "cross":
      return s("g", { class: cls },
        s("rect", { x: x - r, y: y - r, width: 2 * r, height: 2 * r, rx: r * 0.2 }),
        s("path", { d: `M${x - r * 0.6} ${y - r * 0.6}L${x + r * 0.6} ${y + r * 0.6}M${x + r * 0.6} ${y - r * 0.6}L${x - r * 0.6} ${y + r * 0.6}`, class: "mark" }));
    case "square":
      return s("g", { class: cls },
        s("rect", { x: x - r, y: y - r, width: 2 * r, height: 2 * r, rx: r * 0.2 }),
        s("path", { d: `M${x - r * 0.5} ${y}L${x - r * 0.1} ${y + r * 0.45}L${x + r * 0.55} ${y - r * 0.45}`, class: "mark" }));
    case "diamond":
      return s("g", { class: cls }, s("path", { d: `M${x} ${y - r * 1.2}L${x + r * 1.2} ${y}L${x} ${y + r * 1.2}L${x - r * 1.2} ${y}Z` }));
    case "slash":
      return s("g", { class: cls }, s("circle", { cx: x, cy: y, r }),
        s("path", { d: `M${x - r * 0.7} ${y + r * 0.7}L${x + r * 0.7} ${y - r * 0.7}`, class: "mark" }));
    case "star": {
      let d = "";
      for (let i = 0; i < 10; i++) {
        const a = Math.PI / 5 * i - Math.PI / 2, rr = i % 2 ? r * 0.5 : r * 1.2;
        d += (i ? "L" : "M") + (x + rr * Math.cos(a)).toFixed(1) + " " + (y + rr * Math.sin(a)).toFixed(1);
      }
      return s("g", { class: cls }, s("path", { d: d + "Z" }));
    }
    default:
      return s("g", { class: cls }, s("circle", { cx: x, cy: y, r }));
  }
}

// renderPlan draws resources on svg. opts: width, height (plan units),
// image (a plan image URL), onSelect(resource), dim(resource) → true to
// grey out (filtered away), selected (a resource id), draggable + onMove.
export function renderPlan(svg, resources, opts) {
  // A live update redraws the plan: keep the keyboard's place on it.
  const active = document.activeElement;
  const focusedId = active && svg.contains(active) ? active.dataset.id : null;
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${opts.width} ${opts.height}`);
  svg.setAttribute("role", "group");
  svg.setAttribute("aria-label", opts.label || "Floor plan");
  svg.append(s("rect", { x: 0, y: 0, width: opts.width, height: opts.height, class: "floor" }));
  if (opts.image) svg.append(s("image", { href: opts.image, x: 0, y: 0, width: opts.width, height: opts.height, preserveAspectRatio: "xMidYMid meet" }));
  const size = opts.deskSize || 70;
  for (const r of resources) {
    const st = stateOf(r);
    const label = `${r.resource_type === "room" ? "Room" : "Desk"} ${r.name}, ${STATES[st]?.label || st}` +
      (r.free_until ? `, free until ${opts.clock ? opts.clock(r.free_until) : r.free_until}` : "") +
      (r.reason ? ` (${r.reason})` : "");
    const g = s("g", {
      class: "res" + (opts.selected === r.id ? " selected" : "") + (opts.dim && opts.dim(r) ? " dim" : ""),
      tabindex: "0", role: "button", "aria-label": label, "data-id": r.id, "data-state": st, "data-type": r.resource_type,
    });
    g.append(s("title", {}, document.createTextNode(label)));
    if (r.resource_type === "room") {
      const w = r.width || 400, h = r.height || 300;
      g.append(s("rect", { x: r.x, y: r.y, width: w, height: h, class: "room st-" + st, rx: 12 }));
      g.append(glyph(st, r.x + 70, r.y + 70, 40));
      g.append(s("text", { x: r.x + w / 2, y: r.y + h / 2, class: "room-name" }, document.createTextNode(r.name)));
      g.append(s("text", { x: r.x + w / 2, y: r.y + h / 2 + 70, class: "state-text" }, document.createTextNode(STATES[st]?.label || st)));
    } else {
      g.append(glyph(st, r.x, r.y, size));
      g.append(s("text", { x: r.x, y: r.y + size + 55, class: "desk-name" }, document.createTextNode(r.name)));
    }
    const pick = () => opts.onSelect && opts.onSelect(r);
    g.addEventListener("click", pick);
    // Enter acts on key down, Space on key up, as buttons do (acting on
    // Space's key down would let its key up press the sheet's first button).
    g.addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); pick(); } else if (e.key === " ") e.preventDefault();
    });
    g.addEventListener("keyup", (e) => { if (e.key === " ") { e.preventDefault(); pick(); } });
    if (opts.draggable) makeDraggable(svg, g, r, opts);
    svg.append(g);
    if (r.id === focusedId) g.focus({ preventScroll: true });
  }
}

// makeDraggable moves a desk or room with the pointer (or arrow keys, 10
// units a press; 100 with Shift) and reports the new position.
function makeDraggable(svg, g, r, opts) {
  let start = null;
  const toPlan = (e) => {
    const pt = svg.createSVGPoint();
    pt.x = e.clientX; pt.y = e.clientY;
    return pt.matrixTransform(svg.getScreenCTM().inverse());
  };
  g.addEventListener("pointerdown", (e) => {
    const p = toPlan(e);
    start = { px: p.x, py: p.y, x: r.x, y: r.y };
    g.setPointerCapture(e.pointerId);
  });
  g.addEventListener("pointermove", (e) => {
    if (!start) return;
    const p = toPlan(e);
    g.setAttribute("transform", `translate(${p.x - start.px} ${p.y - start.py})`);
  });
  g.addEventListener("pointerup", (e) => {
    if (!start) return;
    const p = toPlan(e);
    const x = Math.round(start.x + p.x - start.px), y = Math.round(start.y + p.y - start.py);
    start = null;
    if (x !== r.x || y !== r.y) opts.onMove(r, clampTo(x, opts.width), clampTo(y, opts.height));
  });
  g.addEventListener("keydown", (e) => {
    const step = e.shiftKey ? 100 : 10;
    const d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
    if (!d) return;
    e.preventDefault();
    opts.onMove(r, clampTo(r.x + d[0], opts.width), clampTo(r.y + d[1], opts.height));
  });
}

const clampTo = (v, max) => Math.max(0, Math.min(max, v));

// legend lists every state with its shape and words.
export function legend(container) {
  container.replaceChildren();
  for (const [st, info] of Object.entries(STATES)) {
    const svg = s("svg", { viewBox: "-60 -60 120 120", width: 22, height: 22, "aria-hidden": "true" }, glyph(st, 0, 0, 40));
    const item = document.createElement("li");
    item.append(svg, document.createTextNode(" " + info.label));
    container.append(item);
  }
}
