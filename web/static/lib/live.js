// A live channel (/ws/kiosk, /ws/floors/{id}, /ws/me): the token travels as
// a subprotocol (browsers cannot set headers, and URLs end up in logs); on
// any drop it reconnects with backoff and jitter and resumes from the last
// seq, so nothing is missed. While the socket is down, onStatus(false) lets
// the page show a banner and fall back to polling (opts.poll, every
// opts.pollEvery ms) until the socket is back.
export function live(path, token, handlers, opts = {}) {
  let ws = null, since = -1, closed = false, attempt = 0, pollTimer = null, revoked = false;
  const pollEvery = opts.pollEvery || 15000;
  const status = (up) => handlers.onStatus && handlers.onStatus(up);

  function startPolling() {
    if (!opts.poll || pollTimer) return;
    pollTimer = setInterval(() => opts.poll(), pollEvery);
  }
  function stopPolling() {
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
  }

  function connect() {
    if (closed) return;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const url = `${proto}//${location.host}${path}${path.includes("?") ? "&" : "?"}${since >= 0 ? "since=" + since : ""}`;
    try {
      ws = new WebSocket(url.replace(/[?&]$/, ""), ["perch", "bearer." + token]);
    } catch (e) {
      retry();
      return;
    }
    ws.onopen = () => { attempt = 0; status(true); stopPolling(); };
    ws.onmessage = (ev) => {
      let m;
      try { m = JSON.parse(ev.data); } catch { return; }
      if (typeof m.seq === "number") since = Math.max(since, m.seq);
      const h = handlers["on" + m.type[0].toUpperCase() + m.type.slice(1)];
      if (h) h(m);
    };
    ws.onclose = (ev) => {
      ws = null;
      if (closed) return;
      if (ev.code === 1008) { revoked = true; status(false); handlers.onRevoked && handlers.onRevoked(ev.reason); return; }
      status(false);
      startPolling();
      retry();
    };
  }

  function retry() {
    if (closed || revoked) return;
    attempt++;
    const base = Math.min(30000, 250 * 2 ** Math.min(attempt, 7));
    setTimeout(connect, base / 2 + Math.random() * base / 2);
  }

  connect();
  return {
    close() { closed = true; stopPolling(); if (ws) ws.close(1000); },
    get connected() { return ws !== null && ws.readyState === 1; },
  };
}
