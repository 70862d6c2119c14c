// Live updates: reads GET /api/v1/stream (server-sent events) with fetch, because EventSource
// cannot send the Authorization header the rest of the API takes. A lost connection is said so
// on the page and retried with back-off (1, 2, 4, 8, then every 10 s); the gateway's first
// message after a reconnect ("hello") tells the page to reload what it may have missed.
"use strict";
window.TinyLive = (function () {
  function start(token, handlers, status) {
    let stopped = false, controller = null, attempt = 0, connectedOnce = false;

    function dispatch(block) {
      let name = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trim();
      }
      if (!data) return;  // comments (keep-alive) and retry hints
      let payload;
      try { payload = JSON.parse(data); } catch (e) { return; }
      if (name === "hello") {
        status(connectedOnce ? "reconnected" : "live", connectedOnce ? "live again (reconnected)" : "live");
        payload.reconnected = connectedOnce;
        connectedOnce = true;
        attempt = 0;
      }
      if (handlers[name]) handlers[name](payload);
    }

    async function run() {
      while (!stopped) {
        controller = new AbortController();
        try {
          const res = await fetch("/api/v1/stream", { headers: { Authorization: "Bearer " + token },
                                                      signal: controller.signal, cache: "no-store" });
          if (res.status === 401 || res.status === 403) {
            status("refused", "live updates refused: the token was not accepted");
            return;
          }
          if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
          const reader = res.body.getReader();
          const decoder = new TextDecoder();
          let buffer = "";
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += decoder.decode(value, { stream: true });
            let at;
            while ((at = buffer.indexOf("\n\n")) >= 0) {
              dispatch(buffer.slice(0, at));
              buffer = buffer.slice(at + 2);
            }
          }
          throw new Error("the gateway closed the stream");
        } catch (e) {
          if (stopped) return;
          attempt++;
          const wait = Math.min(10, 2 ** Math.min(attempt - 1, 3));
          status("lost", `live connection lost (${e.message || e}); reconnecting in ${wait} s`);
          await new Promise((r) => setTimeout(r, wait * 1000));
          if (!stopped) status("connecting", "reconnecting…");
        }
      }
    }
    run();
    return { close() { stopped = true; if (controller) controller.abort(); } };
  }
  return { start };
})();
