// The dashboard: reads only the public REST API with the bearer token typed into the page.
"use strict";
(function () {
  const $ = (sel) => document.querySelector(sel);
  const state = { token: sessionStorage.getItem("tinyedge-token") || "", logCursor: null, timer: null };

  async function api(path) {
    const res = await fetch(path, { headers: { Authorization: "Bearer " + state.token } });
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

  function ago(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return `${s}s ago`;
    if (s < 3600) return `${Math.round(s / 60)}m ago`;
    if (s < 86400) return `${Math.round(s / 3600)}h ago`;
    return `${Math.round(s / 86400)}d ago`;
  }

  function query(form, extra) {
    const p = new URLSearchParams();
    for (const [k, v] of new FormData(form).entries()) if (String(v).trim() !== "") p.set(k, String(v).trim());
    for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
    const s = p.toString();
    return s ? "?" + s : "";
  }

  async function loadFleet() {
    const data = await api("/api/v1/nodes" + query($("#fleet-filter")));
    const body = $("#fleet-table tbody");
    body.textContent = "";
    for (const n of data.nodes) {
      const tr = document.createElement("tr");
      tr.dataset.node = n.id;
      cell(tr, n.id);
      cell(tr, n.status, "status-" + n.status);
      cell(tr, n.model_version ? `${n.model_name || n.model_id} v${n.model_version}` : "-");
      cell(tr, (n.groups || []).join(", "));
      cell(tr, ago(n.last_seen_age_ms)).title = n.last_seen;
      body.appendChild(tr);
    }
    $("#fleet-summary").textContent = `${data.count} nodes, ${data.online} online`;
  }

  async function loadChart() {
    const data = await api("/api/v1/stats/labels?window=1h");
    const buckets = [];
    for (let t = data.from_ms - (data.from_ms % data.bucket_ms); t < data.to_ms; t += data.bucket_ms) buckets.push(t);
    const series = new Map();
    for (const b of data.buckets) {
      // Align the server's buckets (which start at from_ms) to our grid.
      const start = buckets.length ? buckets[Math.min(buckets.length - 1, Math.max(0, Math.floor((b.bucket_start_ms - buckets[0]) / data.bucket_ms)))] : b.bucket_start_ms;
      if (!series.has(b.label)) series.set(b.label, new Map());
      const s = series.get(b.label);
      s.set(start, (s.get(start) || 0) + b.count);
    }
    window.TinyCharts.lines($("#label-chart"), $("#label-legend"), buckets, series);
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
    for (const e of data.events) {
      const tr = document.createElement("tr");
      tr.dataset.node = e.node;
      cell(tr, e.id);
      cell(tr, e.at.replace("T", " ").replace("Z", ""));
      cell(tr, e.node);
      cell(tr, `${e.model_id} v${e.model_version}`);
      cell(tr, e.label);
      cell(tr, (e.score / 255).toFixed(2));
      cell(tr, `${(e.latency_us / 1000).toFixed(2)} ms`);
      body.appendChild(tr);
    }
    state.logCursor = data.next_cursor;
    $("#log-more").hidden = data.next_cursor === null;
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

  function waveRow(parent, phase) {
    const row = document.createElement("div");
    row.className = "wave";
    const name = document.createElement("span");
    name.textContent = phase.name;
    const bar = document.createElement("div");
    bar.className = "bar";
    const counts = phase.counts || {};
    const size = Math.max(1, phase.size || 0);
    let done = 0, failed = 0, busy = 0;
    for (const [k, v] of Object.entries(counts)) {
      if (/succeed|done|updated|complete/i.test(k)) done += v;
      else if (/fail|reject|rolled/i.test(k)) failed += v;
      else if (!/pending/i.test(k)) busy += v;
    }
    for (const [cls, v] of [["done", done], ["failed", failed], ["busy", busy]]) {
      const seg = document.createElement("div");
      seg.className = cls;
      seg.style.width = `${(100 * v) / size}%`;
      bar.appendChild(seg);
    }
    const text = document.createElement("span");
    text.className = "muted";
    text.textContent = `${done}/${phase.size} done` + (failed ? `, ${failed} failed` : "");
    row.append(name, bar, text);
    parent.appendChild(row);
  }

  async function loadRollouts() {
    const list = $("#rollout-list");
    let data;
    try {
      data = await api("/api/v1/rollouts");
    } catch (e) {
      list.innerHTML = "";
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
      const detail = await api(`/api/v1/rollouts/${r.id}`).catch(() => r);
      const div = document.createElement("div");
      div.className = "rollout";
      const h = document.createElement("strong");
      const model = detail.package ? `model ${detail.package.model_id} v${detail.package.version}` : "";
      h.textContent = `#${r.id} ${model} → ${detail.target || ""} · ${detail.state || r.state}`;
      div.appendChild(h);
      if (detail.reason) {
        const why = document.createElement("div");
        why.className = "muted";
        why.textContent = detail.reason;
        div.appendChild(why);
      }
      for (const phase of detail.phases || []) waveRow(div, phase);
      list.appendChild(div);
    }
  }

  async function refresh() {
    const status = $("#conn-status");
    try {
      await Promise.all([loadFleet(), loadChart(), loadRollouts()]);
      status.textContent = "connected · " + new Date().toLocaleTimeString();
      status.className = "muted";
    } catch (e) {
      status.textContent = e.status === 401 ? "token refused" : "error: " + e.message;
      status.className = "error";
    }
  }

  function connect() {
    state.token = $("#token").value.trim();
    sessionStorage.setItem("tinyedge-token", state.token);
    clearInterval(state.timer);
    refresh().then(() => loadLog(false));
    state.timer = setInterval(refresh, 5000);
  }

  $("#token-form").addEventListener("submit", (e) => { e.preventDefault(); connect(); });
  $("#fleet-filter").addEventListener("submit", (e) => { e.preventDefault(); loadFleet().catch(() => {}); });
  $("#log-filter").addEventListener("submit", (e) => { e.preventDefault(); loadLog(false); });
  $("#log-more").addEventListener("click", () => loadLog(true));
  $("#log-csv").addEventListener("click", exportCsv);
  $("#fleet-table tbody").addEventListener("click", (e) => {
    const tr = e.target.closest("tr");
    if (!tr) return;
    $("#log-filter").elements.node.value = tr.dataset.node;
    loadLog(false);
  });
  if (state.token) {
    $("#token").value = state.token;
    connect();
  }
})();
