// The dashboard: reads only the public REST API with the bearer token typed into the page, and
// takes changes from the live stream (live.js) instead of polling. The overview (fleet, chart,
// log, rollouts) is this file; the node, rollout and model pages are pages.js, reached by
// #/nodes/<id>, #/rollouts/<id>, #/models/<ref>.
"use strict";
(function () {
  const $ = (sel) => document.querySelector(sel);
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const timeFormat = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
    hour12: false, timeZoneName: "short" });
  const clockFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hour12: false });
  const state = { token: sessionStorage.getItem("tinyedge-token") || "", role: "", logCursor: null, live: null,
                  listeners: new Set(), throttles: new Map(), fleetOffset: 0 };

  async function api(path, init) {
    const res = await fetch(path, Object.assign({}, init, {
      headers: Object.assign({ Authorization: "Bearer " + state.token }, (init && init.headers) || {}) }));
    const text = await res.text();
    let body = null;
    try { body = JSON.parse(text); } catch (e) { body = text; }
    if (!res.ok) {
      const msg = body && body.error ? body.error.message : `HTTP ${res.status}`;
      const err = new Error(msg);
      err.status = res.status;
      throw err;
    }
    return body;
  }

  function cell(row, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }
  function link(parent, href, text) {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    parent.appendChild(a);
    return a;
  }
  function ago(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return `${s}s ago`;
    if (s < 3600) return `${Math.round(s / 60)}m ago`;
    if (s < 86400) return `${Math.round(s / 3600)}h ago`;
    return `${Math.round(s / 86400)}d ago`;
  }
  // Times in the viewer's own zone (the API speaks UTC).
  const time = (ms) => (ms ? timeFormat.format(new Date(ms)) : "-");
  const labelText = (index, name) => (name === null || name === undefined ? `label ${index}` : name);
  const probability = (e) => (e.probability !== undefined ? e.probability : e.score / 255).toFixed(2);
  const modelText = (name, id, version) => (version ? `${name || "model " + id} v${version}` : "-");

  // Runs fn at most once per `ms` (trailing call kept): pushes can come every second.
  function throttled(key, ms, fn) {
    if (state.throttles.has(key)) { state.throttles.get(key).again = true; return; }
    const entry = { again: false };
    state.throttles.set(key, entry);
    Promise.resolve(fn()).catch(() => {}).finally(() => setTimeout(() => {
      state.throttles.delete(key);
      if (entry.again) throttled(key, ms, fn);
    }, ms));
  }

  function query(form, extra) {
    const p = new URLSearchParams();
    for (const [k, v] of new FormData(form).entries()) if (String(v).trim() !== "") p.set(k, String(v).trim());
    for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
    const s = p.toString();
    return s ? "?" + s : "";
  }

  // One page of the fleet at a time: a 10,000-node fleet in one table is megabytes the browser
  // would lay out for rows nobody scrolls to.
  const FLEET_PAGE = 100;
  async function loadFleet() {
    const data = await api("/api/v1/nodes" + query($("#fleet-filter"), { limit: String(FLEET_PAGE), offset: String(state.fleetOffset) }));
    if (data.count > 0 && data.offset >= data.count) {  // the page emptied under a filter or a smaller fleet
      state.fleetOffset = Math.max(0, Math.floor((data.count - 1) / FLEET_PAGE) * FLEET_PAGE);
      return loadFleet();
    }
    const body = $("#fleet-table tbody");
    body.textContent = "";
    for (const n of data.nodes) {
      const tr = document.createElement("tr");
      tr.dataset.node = n.id;
      link(cell(tr, ""), "#/nodes/" + encodeURIComponent(n.id), n.id);
      cell(tr, n.status, "status-" + n.status);
      cell(tr, modelText(n.model_name, n.model_id, n.model_version));
      cell(tr, (n.groups || []).join(", "));
      const seen = cell(tr, ago(n.last_seen_age_ms));
      seen.title = time(n.last_seen_ms);
      body.appendChild(tr);
    }
    $("#fleet-summary").textContent = `${data.count} nodes, ${data.online} online`;
    const shown = data.nodes.length;
    $("#fleet-range").textContent = data.count > shown ? `${data.offset + 1}–${data.offset + shown} of ${data.count}` : "";
    $("#fleet-prev").hidden = $("#fleet-next").hidden = data.count <= FLEET_PAGE;
    $("#fleet-prev").disabled = data.offset === 0;
    $("#fleet-next").disabled = data.next_offset === null;
  }

  // Events per label over the last hour, by the labels' names.
  async function labelChart(container, legend, extra) {
    const data = await api("/api/v1/stats/labels?window=1h" + (extra || ""));
    const buckets = [];
    for (let t = data.from_ms - (data.from_ms % data.bucket_ms); t < data.to_ms; t += data.bucket_ms) buckets.push(t);
    const series = new Map(), names = new Map();
    for (const b of data.buckets) {
      // Align the server's buckets (which start at from_ms) to our grid.
      const start = buckets.length ? buckets[Math.min(buckets.length - 1, Math.max(0, Math.floor((b.bucket_start_ms - buckets[0]) / data.bucket_ms)))] : b.bucket_start_ms;
      if (!series.has(b.label)) series.set(b.label, new Map());
      if (b.label_name) names.set(b.label, b.label_name);
      const s = series.get(b.label);
      s.set(start, (s.get(start) || 0) + b.count);
    }
    window.TinyCharts.lines(container, legend, buckets, series, names, (ms) => clockFormat.format(new Date(ms)));
    return data;
  }
  const loadChart = () => labelChart($("#label-chart"), $("#label-legend"));

  function eventRow(e) {
    const tr = document.createElement("tr");
    tr.dataset.node = e.node;
    tr.dataset.id = e.id;
    cell(tr, e.id);
    cell(tr, time(e.at_ms)).title = e.at;
    link(cell(tr, ""), "#/nodes/" + encodeURIComponent(e.node), e.node);
    cell(tr, `${e.model_id} v${e.model_version}`);
    cell(tr, labelText(e.label, e.label_name), e.label_name === null ? "muted" : "label");
    cell(tr, probability(e));
    cell(tr, `${(e.latency_us / 1000).toFixed(2)} ms`);
    return tr;
  }

  async function loadLog(more) {
    const extra = more && state.logCursor ? { cursor: String(state.logCursor) } : {};
    const err = $("#log-error");
    let data;
    try {
      data = await api("/api/v1/events" + query($("#log-filter"), extra));
      err.hidden = true;
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
      return;
    }
    const body = $("#log-table tbody");
    if (!more) body.textContent = "";
    for (const e of data.events) body.appendChild(eventRow(e));
    state.logCursor = data.next_cursor;
    $("#log-more").hidden = data.next_cursor === null;
  }

  // Pushed events go on top of the log when they match its filter (node/group are the only ones
  // the page can judge itself; with others set, a Search shows them).
  function pushLog(events) {
    const f = $("#log-filter").elements;
    for (const k of ["label", "min_score", "since", "until", "group"]) if (f[k].value.trim() !== "") return;
    const node = f.node.value.trim();
    const body = $("#log-table tbody");
    const limit = Number(f.limit.value) || 100;
    for (const e of events) {
      if (node && e.node !== node) continue;
      if (body.querySelector(`tr[data-id="${e.id}"]`)) continue;
      body.insertBefore(eventRow(e), body.firstChild);
    }
    while (body.children.length > limit) body.removeChild(body.lastChild);
  }

  async function exportCsv() {
    const res = await fetch("/api/v1/events" + query($("#log-filter"), { format: "csv", limit: "5000" }),
                            { headers: { Authorization: "Bearer " + state.token } });
    if (!res.ok) return;
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = "tinyedge-events.csv";
    a.click();
    URL.revokeObjectURL(url);
  }

  // One wave's bar: activated (green), failed/refused/timed out (red), in flight (blue).
  function waveRow(parent, phase) {
    const row = document.createElement("div");
    row.className = "wave";
    row.dataset.phase = phase.name;
    const name = document.createElement("span");
    name.textContent = phase.name + (phase.current ? " ◂" : "");
    const bar = document.createElement("div");
    bar.className = "bar";
    const c = phase.counts || {};
    const done = c.activated || 0;
    const failed = (c.refused || 0) + (c.failed || 0) + (c.timed_out || 0);
    const busy = (c.offered || 0) + (c.downloading || 0) + (c.verifying || 0);
    const size = Math.max(1, phase.size || 0);
    for (const [cls, v] of [["done", done], ["failed", failed], ["busy", busy]]) {
      const seg = document.createElement("div");
      seg.className = cls;
      seg.style.width = `${(100 * v) / size}%`;
      bar.appendChild(seg);
    }
    const text = document.createElement("span");
    text.className = "muted wave-text";
    text.textContent = `${done}/${phase.size} activated` + (busy ? `, ${busy} updating` : "") +
                       (failed ? `, ${failed} failed` : "");
    row.append(name, bar, text);
    parent.appendChild(row);
  }

  async function loadRollouts() {
    const list = $("#rollout-list");
    let data;
    try {
      data = await api("/api/v1/rollouts");
    } catch (e) {
      list.textContent = "";
      const p = document.createElement("p");
      p.className = "muted";
      p.textContent = e.status === 503 ? "rollout engine not running" : e.message;
      list.appendChild(p);
      return;
    }
    const rollouts = (data.rollouts || []).slice(-5).reverse();
    list.textContent = "";
    if (!rollouts.length) {
      const p = document.createElement("p");
      p.className = "muted";
      p.textContent = "none yet";
      list.appendChild(p);
    }
    for (const r of rollouts) {
      const div = document.createElement("div");
      div.className = "rollout";
      div.dataset.rollout = r.id;
      const h = document.createElement("strong");
      link(h, `#/rollouts/${r.id}`, `#${r.id} model ${r.model_id} v${r.version} → ${r.target} · ${r.state}`);
      div.appendChild(h);
      if (r.reason) {
        const why = document.createElement("div");
        why.className = r.state === "paused" ? "reason paused" : "muted";
        why.textContent = r.reason;
        div.appendChild(why);
      }
      for (const phase of r.phases || []) waveRow(div, phase);
      list.appendChild(div);
    }
  }

  async function refreshOverview() {
    const status = $("#conn-status");
    try {
      await Promise.all([loadFleet(), loadChart(), loadRollouts()]);
      status.textContent = "connected as " + (state.role || "?");
      status.className = "muted";
    } catch (e) {
      status.textContent = e.status === 401 ? "token refused" : "error: " + e.message;
      status.className = "error";
    }
  }

  // --- live updates --------------------------------------------------------------------------
  function setLive(kind, text) {
    const el = $("#live-status");
    el.dataset.state = kind;
    el.textContent = text;
    el.className = kind === "lost" || kind === "refused" ? "error" : "muted";
  }
  const onLive = (fn) => { state.listeners.add(fn); return () => state.listeners.delete(fn); };
  function emit(kind, payload) {
    for (const fn of [...state.listeners]) {
      try { fn(kind, payload); } catch (e) { console.warn(e); }
    }
  }
  function startLive() {
    if (state.live) state.live.close();
    state.live = window.TinyLive.start(state.token, {
      hello: (p) => { if (p.reconnected) emit("reconnected", p); },
      events: (p) => emit("events", p),
      nodes: (p) => emit("nodes", p),
      rollouts: (p) => emit("rollouts", p),
    }, setLive);
  }
  onLive((kind, p) => {
    if (!$("#page").hidden) return;  // the overview is not shown
    if (kind === "events") {
      pushLog(p.events);
      throttled("chart", 5000, loadChart);
    }
    if (kind === "nodes" || kind === "reconnected") throttled("fleet", 2000, loadFleet);
    if (kind === "rollouts" || kind === "reconnected") throttled("rollouts", 1000, loadRollouts);
    if (kind === "reconnected") loadLog(false);
  });

  // --- pages ---------------------------------------------------------------------------------
  const ctx = { api, $, cell, link, ago, time, labelText, probability, modelText, waveRow, labelChart, eventRow,
                onLive, throttled, role: () => state.role };

  async function route() {
    const hash = location.hash || "#/";
    const overview = hash === "#/" || hash === "#";
    $("#overview").hidden = !overview;
    $("#page").hidden = overview;
    for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("here", a.getAttribute("href") === hash.split("/").slice(0, 2).join("/") || (overview && a.getAttribute("href") === "#/"));
    if (!state.token) return;
    if (overview) return refreshOverview().then(() => loadLog(false));
    await window.TinyPages.show($("#page"), hash, ctx);
  }

  async function connect() {
    state.token = $("#token").value.trim();
    sessionStorage.setItem("tinyedge-token", state.token);
    try {
      state.role = (await api("/api/v1/session")).role;
    } catch (e) {
      state.role = "";
      $("#conn-status").textContent = e.status === 401 ? "token refused" : "error: " + e.message;
      $("#conn-status").className = "error";
      return;
    }
    document.body.dataset.role = state.role;
    startLive();
    route();
  }

  $("#tz").textContent = "times in " + zone;
  $("#token-form").addEventListener("submit", (e) => { e.preventDefault(); connect(); });
  $("#fleet-filter").addEventListener("submit", (e) => { e.preventDefault(); state.fleetOffset = 0; loadFleet().catch(() => {}); });
  $("#fleet-prev").addEventListener("click", () => { state.fleetOffset = Math.max(0, state.fleetOffset - FLEET_PAGE); loadFleet().catch(() => {}); });
  $("#fleet-next").addEventListener("click", () => { state.fleetOffset += FLEET_PAGE; loadFleet().catch(() => {}); });
  $("#log-filter").addEventListener("submit", (e) => { e.preventDefault(); loadLog(false); });
  $("#log-more").addEventListener("click", () => loadLog(true));
  $("#log-csv").addEventListener("click", exportCsv);
  $("#fleet-table tbody").addEventListener("click", (e) => {
    const tr = e.target.closest("tr");
    if (!tr || e.target.closest("a")) return;
    $("#log-filter").elements.node.value = tr.dataset.node;
    loadLog(false);
  });
  window.addEventListener("hashchange", route);
  if (state.token) {
    $("#token").value = state.token;
    connect();
  }
})();
