// The pages behind the overview: a node, a rollout (waves, per-node states, the reason for every
// pause, the quality gate drawn, operator actions), the rollout list, the model registry, one
// model and the drift watches. An id the gateway does not know gives a page that says so. Each
// page re-reads what it shows when the live stream says it changed (ctx.onLive), never on a timer.
"use strict";
window.TinyPages = (function () {
  let unsubscribe = null;
  let generation = 0;  // which show() is current: a re-read of a page left behind must not draw
  const COLORS = { canary: "#e67e22", control: "#2f6fdf" };

  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k.startsWith("data-")) node.dataset[k.slice(5).replace(/-(.)/g, (m, c) => c.toUpperCase())] = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
    return node;
  }
  const section = (id, title, ...children) => h("section", { id }, h("h2", {}, title), ...children);
  function table(id, headers, rows) {
    const t = h("table", { id }, h("thead", {}, h("tr", {}, ...headers.map((x) => h("th", {}, x)))));
    const body = h("tbody");
    for (const r of rows) body.append(r);
    t.append(body);
    return t;
  }
  function facts(pairs) {
    const dl = h("dl", { class: "facts" });
    for (const [k, v] of pairs) dl.append(h("dt", {}, k), h("dd", { "data-fact": k }, v));
    return dl;
  }
  // An unknown id (404) or a refused request gets a page that says what went wrong.
  function problem(page, title, message) {
    page.textContent = "";
    page.append(section("not-found", title, h("p", { class: "error" }, message), h("p", {}, h("a", { href: "#/" }, "Back to the fleet"))));
  }

  // --- node ------------------------------------------------------------------------------------
  async function nodePage(page, id, ctx) {
    const node = await ctx.api("/api/v1/nodes/" + encodeURIComponent(id));
    const events = await ctx.api(`/api/v1/events?node=${encodeURIComponent(id)}&limit=200`);
    page.textContent = "";
    const head = section("node-head", `Node ${node.id}`,
      facts([["status", node.status], ["model", ctx.modelText(node.model_name, node.model_id, node.model_version)],
             ["hardware", node.hardware || "-"], ["firmware", String(node.firmware_version)],
             ["bearer", node.bearer || "-"], ["boot id", String(node.boot_id)],
             ["first seen", ctx.time(node.first_seen_ms)], ["last seen", ctx.time(node.last_seen_ms)],
             ["groups", (node.groups || []).join(", ") || "-"]]));
    if (ctx.role() === "operator") {
      const form = h("form", { id: "groups-form", class: "filters" },
                     h("label", {}, "Groups", h("input", { name: "groups", size: "30", value: (node.groups || []).join(",") })),
                     h("button", { type: "submit" }, "Save groups"), h("span", { class: "muted", id: "groups-result" }));
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const groups = form.elements.groups.value.split(",").map((s) => s.trim()).filter(Boolean);
        try {
          await ctx.api(`/api/v1/nodes/${encodeURIComponent(id)}/groups`, { method: "PUT",
            headers: { "Content-Type": "application/json" }, body: JSON.stringify({ groups }) });
          form.querySelector("#groups-result").textContent = "saved";
        } catch (err) {
          form.querySelector("#groups-result").textContent = err.message;
        }
      });
      head.append(form);
    }
    if (node.rollout) head.append(nodeUpdate(node, ctx, () => nodePage(page, id, ctx)));
    page.append(head);
    page.append(await enrollSection(id, ctx));

    // Results over time: label mix (named), scores, latency.
    const chart = h("div", { class: "chart", id: "node-label-chart" }), legend = h("div", { class: "legend" });
    page.append(section("node-labels", "Label mix, last hour", chart, legend));
    await ctx.labelChart(chart, legend, "&node=" + encodeURIComponent(id));
    const hist = new Array(8).fill(0);
    const lat = [];
    for (const e of events.events) {
      hist[Math.min(7, Math.floor(e.score / 32))]++;
      lat.push(e.latency_us);
    }
    lat.sort((a, b) => a - b);
    const pct = (q) => (lat.length ? lat[Math.min(lat.length - 1, Math.ceil(q * lat.length) - 1)] / 1000 : 0);
    const scores = h("div", { class: "chart", id: "node-scores" });
    page.append(section("node-results", `Scores and latency, last ${events.events.length} results`, scores,
      facts([["latency p50", `${pct(0.5).toFixed(2)} ms`], ["latency p95", `${pct(0.95).toFixed(2)} ms`]])));
    window.TinyCharts.bars(scores, hist.map((v, i) => ({ name: `${(i * 32 / 255).toFixed(2)}–${(Math.min(255, i * 32 + 31) / 255).toFixed(2)}`,
                                                         values: [v] })), [{ name: "results by probability", color: "#2f6fdf" }]);
    page.append(section("node-log", "Recent results", table("node-log-table",
      ["Id", "Time", "Node", "Model", "Label", "Probability", "Latency"], events.events.slice(0, 20).map(ctx.eventRow))));

    await nodeTelemetry(page, id, ctx);
    await nodeOtaHistory(page, id, node, ctx);
  }

  // The unfinished rollout that still has this node to update, and for operators the button that
  // takes the node out of it (it keeps the model it runs).
  function nodeUpdate(node, ctx, reload) {
    const r = node.rollout;
    const line = h("p", { id: "node-rollout" }, "Update: ", h("a", { href: `#/rollouts/${r.id}` }, `rollout #${r.id}`),
                   ` (${r.state}), this node ${r.node_state}`);
    if (ctx.role() !== "operator") return line;
    const b = h("button", { type: "button", "data-action": "cancel-node" }, "Cancel update");
    b.addEventListener("click", async () => {
      if (!window.confirm(`Take ${node.id} out of rollout #${r.id}? It keeps the model it runs.`)) return;
      try {
        await ctx.api(`/api/v1/rollouts/${r.id}/nodes/${encodeURIComponent(node.id)}/cancel`, { method: "POST" });
      } catch (e) {
        b.replaceWith(h("span", { class: "error" }, e.message));
        return;
      }
      reload();
    });
    line.append(" ", b);
    return line;
  }

  // Telemetry over time: the node's own counters since each boot (failed inferences, the link's
  // reconnects and the results it dropped or still holds), and its reboots (a new boot id).
  async function nodeTelemetry(page, id, ctx) {
    const data = await ctx.api(`/api/v1/nodes/${encodeURIComponent(id)}/telemetry?limit=200`);
    const rows = data.telemetry.slice().reverse();  // oldest first
    const sec = section("node-telemetry", `Telemetry, last ${rows.length} reports`);
    page.append(sec);
    if (!rows.length) {
      sec.append(h("p", { class: "muted" }, "this node has sent no telemetry"));
      return;
    }
    const boots = [];
    for (const t of rows) if (!boots.length || boots[boots.length - 1].boot_id !== t.boot_id) boots.push(t);
    const last = rows[rows.length - 1];
    sec.append(facts([["reboots", String(boots.length - 1)], ["uptime", `${last.uptime_s} s`],
                      ["inferences", String(last.inferences)], ["failed inferences", String(last.failed_inferences)],
                      ["reconnects", String(last.reconnects)], ["dropped results", String(last.dropped_results)],
                      ["pending results", String(last.pending_results)], ["free RAM", `${last.free_ram_bytes} bytes`],
                      ["last report", ctx.time(last.received_ms)]]));
    // One point per report (reports stored in one batch share a receive time), labelled by time.
    const names = new Map([[0, "failed inferences"], [1, "reconnects"], [2, "dropped results"]]);
    const series = new Map([...names.keys()].map((k) => [k, new Map()]));
    rows.forEach((t, i) => {
      series.get(0).set(i, t.failed_inferences);
      series.get(1).set(i, t.reconnects);
      series.get(2).set(i, t.dropped_results);
    });
    const chart = h("div", { class: "chart", id: "node-telemetry-chart" }), legend = h("div", { class: "legend" });
    sec.append(h("h3", {}, "Counters since boot, per report"), chart, legend);
    window.TinyCharts.lines(chart, legend, rows.map((t, i) => i), series, names, (i) =>
      new Date(rows[i].received_ms).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", hour12: false }));
    if (boots.length > 1) {
      sec.append(h("h3", {}, "Boots"), table("node-boots-table", ["Boot id", "First report"],
        boots.map((b) => h("tr", { "data-boot": String(b.boot_id) }, h("td", {}, String(b.boot_id)), h("td", {}, ctx.time(b.received_ms))))));
    }
  }

  // Model and OTA history: what the node itself reported about each update (state and reason by
  // name), and the versions it activated.
  async function nodeOtaHistory(page, id, node, ctx) {
    const data = await ctx.api(`/api/v1/nodes/${encodeURIComponent(id)}/ota?limit=100`);
    const sec = section("node-ota", "Model and OTA history");
    page.append(sec);
    const activated = data.ota.filter((o) => o.state === "activated");
    sec.append(facts([["running", ctx.modelText(node.model_name, node.model_id, node.model_version)],
                      ["activated", activated.length ? activated.map((o) => `v${o.version} at ${ctx.time(o.received_ms)}`).join("; ") : "none reported"]]));
    if (!data.ota.length) {
      sec.append(h("p", { class: "muted" }, "this node has reported no update"));
      return;
    }
    sec.append(table("node-ota-table", ["When", "Model", "Version", "State", "Reason", "Progress", "Active"],
      data.ota.map((o) => h("tr", { "data-state": o.state }, h("td", {}, ctx.time(o.received_ms)), h("td", {}, String(o.model_id)),
        h("td", {}, `v${o.version}`), h("td", { class: "state-" + o.state }, o.state), h("td", {}, o.reason === "ok" ? "" : o.reason),
        h("td", {}, o.total_bytes ? `${Math.round((100 * o.bytes_written) / o.total_bytes)}%` : "-"),
        h("td", {}, o.active_version ? `v${o.active_version}` : "-")))));
  }

  // --- a node's enrolled classes (#16) ----------------------------------------------------------
  // The classes the node learned on the device, as its last answer listed them, and its last
  // refusal; operators can ask it to learn one more or forget one. The node answers later (it
  // captures its examples first): the section re-reads itself a few times after a request.
  async function enrollSection(id, ctx) {
    const path = `/api/v1/nodes/${encodeURIComponent(id)}/enrollment`;
    const box = section("node-enroll", "Enrolled classes");
    const draw = async () => {
      const state = await ctx.api(path + "?limit=10").catch((e) => ({ labels: [], log: [], error: e.message }));
      box.querySelectorAll(":scope > :not(h2)").forEach((n) => n.remove());
      if (state.error) box.append(h("p", { class: "error" }, state.error));
      const row = (l) => h("tr", { "data-label": l.label }, h("td", {}, l.label), h("td", {}, String(l.examples_used || "-")),
                           h("td", {}, l.nearest_label ? `${l.distance.toFixed(2)} (${l.nearest_label})` : "-"),
                           h("td", {}, ctx.time(l.enrolled_ms)));
      box.append(state.labels.length
        ? table("node-enroll-table", ["Label", "Examples", "Distance to nearest", "Enrolled"], state.labels.map(row))
        : h("p", { class: "muted", id: "node-enroll-none" }, "no class enrolled on this node"));
      const refused = state.log.find((e) => !e.ok);
      if (refused) box.append(h("p", { class: "muted", id: "node-enroll-refusal" },
                                `last refusal: ${refused.action} '${refused.label}': ${refused.result} (${ctx.time(refused.received_ms)})`));
      if (ctx.role() === "operator") box.append(enrollForm(id, ctx, path, state.labels, draw));
    };
    await draw();
    return box;
  }

  function enrollForm(id, ctx, path, labels, redraw) {
    const form = h("form", { id: "enroll-form", class: "filters" },
                   h("label", {}, "Label", h("input", { name: "label", size: "16", maxlength: "16", pattern: "[!-~]{1,16}" })),
                   h("label", {}, "Examples", h("input", { name: "examples", type: "number", min: "1", max: "32", value: "5" })),
                   h("button", { type: "submit", "data-action": "enroll" }, "Enroll"),
                   h("span", { class: "muted", id: "enroll-result" }));
    const result = form.querySelector("#enroll-result");
    const send = async (query, init, what) => {
      try {
        await ctx.api(path + query, init);
        result.textContent = `${what}: sent, waiting for the node`;
        for (const ms of [500, 1500, 4000]) setTimeout(redraw, ms);
      } catch (err) {
        result.textContent = `${what}: ${err.message}`;
      }
    };
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const label = form.elements.label.value.trim();
      send("", { method: "POST", headers: { "Content-Type": "application/json" },
                 body: JSON.stringify({ label, examples: Number(form.elements.examples.value) }) }, `enroll '${label}'`);
    });
    for (const l of labels) {
      const b = h("button", { type: "button", "data-action": "remove", "data-label": l.label }, `Remove ${l.label}`);
      b.addEventListener("click", () => {
        if (!window.confirm(`Have ${id} forget '${l.label}'?`)) return;
        send("?label=" + encodeURIComponent(l.label), { method: "DELETE" }, `remove '${l.label}'`);
      });
      form.append(b);
    }
    return form;
  }

  // --- rollouts --------------------------------------------------------------------------------
  async function rolloutsPage(page, ctx) {
    const data = await ctx.api("/api/v1/rollouts");
    page.textContent = "";
    const rows = (data.rollouts || []).slice().reverse().map((r) => h("tr", { "data-rollout": String(r.id) },
      h("td", {}, h("a", { href: `#/rollouts/${r.id}` }, `#${r.id}`)), h("td", {}, `model ${r.model_id} v${r.version}`),
      h("td", {}, r.target), h("td", { class: "state-" + r.state }, r.state), h("td", {}, r.reason || ""),
      h("td", {}, ctx.time(r.created_ms))));
    page.append(section("rollouts-page", "Rollouts", rows.length ? table("rollouts-table",
      ["Rollout", "Model", "Target", "State", "Reason", "Started"], rows) : h("p", { class: "muted" }, "none yet")));
  }

  function gauge(parent, title, value, bound, floor, fmt, id) {
    const box = h("div", { class: "gauge-box", id });
    box.append(h("div", {}, h("strong", {}, title + ": "), h("span", { class: "gauge-value" }, fmt(value)),
                 bound > 0 ? h("span", { class: "muted" }, ` (bound ${fmt(bound)}${floor > 0 ? `, noise floor ${fmt(floor)}` : ""})`) : h("span", { class: "muted" }, " (check off)")));
    window.TinyCharts.gauge(box, { title, value, bound, floor, fmt });
    parent.append(box);
  }

  function drawGate(parent, gate) {
    const names = new Map();
    const share = { canary: new Map(), control: new Map() };
    for (const side of ["canary", "control"]) {
      for (const l of gate[side].labels) {
        names.set(l.label, l.label_name === null ? `label ${l.label}` : l.label_name);
        share[side].set(l.label, l.share);
      }
    }
    const labels = [...names.keys()].sort((a, b) => a - b);
    const series = [{ name: `canary (v${gate.version}, ${gate.canary.results} results)`, color: COLORS.canary },
                    { name: `control (${gate.control.results} results)`, color: COLORS.control }];
    const verdict = h("p", { id: "gate-verdict", class: "gate-" + gate.outcome }, gate.engine_verdict || gate.message);
    parent.append(verdict);
    const mix = h("div", { class: "chart", id: "gate-labels" });
    parent.append(h("h3", {}, "Label mix"), mix);
    window.TinyCharts.bars(mix, labels.map((l) => ({ name: names.get(l), values: [share.canary.get(l) || 0, share.control.get(l) || 0] })),
                           series, { percent: true, title: "label mix, canary vs control" });
    gauge(parent, "Label divergence (JSD, bits)", gate.label_jsd, gate.label_jsd_bound, gate.label_jsd_noise_floor,
          (v) => v.toFixed(3), "gauge-jsd");
    const scores = h("div", { class: "chart", id: "gate-scores" });
    parent.append(h("h3", {}, "Score distribution"), scores);
    const total = (side) => Math.max(1, gate[side].score_histogram.reduce((a, b) => a + b, 0));
    window.TinyCharts.bars(scores, gate.canary.score_histogram.map((v, i) => ({
      name: `${(i * 32 / 255).toFixed(2)}–${(Math.min(255, i * 32 + 31) / 255).toFixed(2)}`,
      values: [v / total("canary"), gate.control.score_histogram[i] / total("control")] })), series,
      { percent: true, title: "score distribution, canary vs control" });
    gauge(parent, "Mean probability drop", gate.mean_score_drop, gate.bounds.max_mean_score_drop, 0, (v) => v.toFixed(3), "gauge-score");
    const latency = h("div", { class: "chart", id: "gate-latency" });
    parent.append(h("h3", {}, "Latency"), latency);
    window.TinyCharts.bars(latency, [
      { name: "p50 (ms)", values: [gate.canary.p50_latency_us / 1000, gate.control.p50_latency_us / 1000] },
      { name: "p95 (ms)", values: [gate.canary.p95_latency_us / 1000, gate.control.p95_latency_us / 1000] }], series,
      { title: "latency, canary vs control", height: 160 });
    gauge(parent, "p95 latency increase", gate.p95_latency_increase, gate.bounds.max_p95_latency_increase, 0,
          (v) => `${(v * 100).toFixed(1)}%`, "gauge-latency");
  }

  function actions(r, ctx, reload) {
    if (ctx.role() !== "operator") return null;
    const bar = h("div", { id: "rollout-actions", class: "actions" });
    const result = h("span", { class: "muted", id: "action-result" });
    const finished = ["completed", "aborted", "rolled_back"].includes(r.state);
    const add = (label, path, body, enabled, confirmText) => {
      const b = h("button", { type: "button", "data-action": label.toLowerCase().replace(/ /g, "-") }, label);
      b.disabled = !enabled;
      b.addEventListener("click", async () => {
        if (confirmText && !window.confirm(confirmText)) return;
        try {
          await ctx.api(`/api/v1/rollouts/${r.id}/${path}`, { method: "POST", headers: { "Content-Type": "application/json" },
                                                             body: body ? JSON.stringify(body) : "" });
          result.textContent = `${label}: done`;
        } catch (e) {
          result.textContent = `${label}: ${e.message}`;
        }
        reload();
      });
      bar.append(b);
    };
    add("Pause", "pause", null, r.state === "running");
    add("Resume", "resume", null, r.state === "paused");
    add("Abort", "abort", { rollback: false }, !finished && r.state !== "rolling_back", `Abort rollout #${r.id}?`);
    add("Roll back", "abort", { rollback: true }, !finished && r.state !== "rolling_back" && r.previous_ref > 0,
        `Abort rollout #${r.id} and offer v${r.previous_version} back?`);
    bar.append(result);
    return bar;
  }

  // One page of a rollout's nodes at a time: a 2,000-node rollout listed whole was 390 KB.
  const NODE_PAGE = 100;

  // Operators may take a node that has not activated out of a running rollout: it stops its
  // download and keeps its model.
  function cancelButton(r, n, ctx, reload) {
    const open = ["pending", "offered", "downloading", "verifying"].includes(n.state);
    if (ctx.role() !== "operator" || !open || ["completed", "aborted", "rolled_back"].includes(r.state)) return "";
    const b = h("button", { type: "button", "data-action": "cancel-node" }, "Cancel update");
    b.addEventListener("click", async () => {
      if (!window.confirm(`Take ${n.node_id} out of rollout #${r.id}? It keeps the model it runs.`)) return;
      try {
        await ctx.api(`/api/v1/rollouts/${r.id}/nodes/${encodeURIComponent(n.node_id)}/cancel`, { method: "POST" });
      } catch (e) {
        b.replaceWith(h("span", { class: "error" }, e.message));
        return;
      }
      reload();
    });
    return b;
  }

  async function rolloutPage(page, id, ctx, offset = 0) {
    if (!/^[1-9][0-9]{0,17}$/.test(id)) throw Object.assign(new Error(`'${id}' is not a rollout id (a positive number)`), { status: 404 });
    const [r, gate] = await Promise.all([ctx.api(`/api/v1/rollouts/${id}?limit=${NODE_PAGE}&offset=${offset}`),
                                         ctx.api(`/api/v1/rollouts/${id}/gate`).catch(() => null)]);
    page.textContent = "";
    const reload = (at = offset) => rolloutPage(page, id, ctx, at).catch((e) => problem(page, `Rollout ${id}`, e.message));
    const head = section("rollout-head", `Rollout #${r.id}: model ${r.model_id} v${r.version} → ${r.target}`);
    head.append(facts([["state", r.state], ["phase", r.phase || "-"], ["from", r.previous_version ? `v${r.previous_version}` : "-"],
                       ["nodes", `${r.counts.activated}/${r.target_size} activated, ${r.failures} failed`],
                       ["started", ctx.time(r.created_ms)], ["updated", ctx.time(r.updated_ms)],
                       ["soak until", r.soak_until_ms ? ctx.time(r.soak_until_ms) : "-"]]));
    if (r.reason) head.append(h("p", { id: "rollout-reason", class: r.state === "paused" ? "reason paused" : "reason" },
                                (r.state === "paused" ? "Paused: " : "") + r.reason));
    const acts = actions(r, ctx, reload);
    if (acts) head.append(acts);
    page.append(head);
    const waves = section("rollout-waves", "Waves");
    for (const p of r.phases || []) ctx.waveRow(waves, p);
    page.append(waves);
    const gateSection = section("rollout-gate", "Quality gate: canary against control");
    if (gate) drawGate(gateSection, gate);
    else gateSection.append(h("p", { class: "muted" }, "no gate figures"));
    page.append(gateSection);
    const names = (r.phases || []).map((p) => p.name);
    const rows = (r.nodes || []).map((n) => h("tr", { "data-node": n.node_id, "data-state": n.state },
      h("td", {}, h("a", { href: "#/nodes/" + encodeURIComponent(n.node_id) }, n.node_id)), h("td", {}, names[n.phase] || String(n.phase)),
      h("td", { class: "state-" + n.state }, n.state + (n.rollback ? " (rollback)" : "")),
      h("td", {}, n.total_bytes ? `${Math.round((100 * n.bytes_written) / n.total_bytes)}%` : "-"), h("td", {}, n.reason || ""),
      h("td", {}, cancelButton(r, n, ctx, reload))));
    const nodes = section("rollout-nodes", "Nodes", table("rollout-node-table", ["Node", "Wave", "State", "Progress", "Reason", ""], rows));
    nodes.append(pager("rollout-nodes-pager", r.nodes_offset || 0, (r.nodes || []).length, r.nodes_count, r.next_offset, reload));
    page.append(nodes);
  }

  // "41–140 of 2000" with earlier/next buttons, for a list the API pages.
  function pager(id, offset, shown, count, next, go) {
    const bar = h("div", { id, class: "pager" });
    if (!count || count <= shown) return bar;
    const prev = h("button", { type: "button", "data-page": "prev" }, "Earlier");
    const nextButton = h("button", { type: "button", "data-page": "next" }, "Next");
    prev.disabled = offset === 0;
    nextButton.disabled = next === null || next === undefined;
    prev.addEventListener("click", () => go(Math.max(0, offset - NODE_PAGE)));
    nextButton.addEventListener("click", () => go(next));
    bar.append(prev, h("span", { class: "muted" }, `${offset + 1}–${offset + shown} of ${count}`), nextButton);
    return bar;
  }

  // --- models ----------------------------------------------------------------------------------
  async function modelsPage(page, ctx) {
    const data = await ctx.api("/api/v1/models");
    page.textContent = "";
    const rows = data.models.map((m) => h("tr", { "data-model": String(m.id) },
      h("td", {}, h("a", { href: `#/models/${m.id}` }, `#${m.id}`)), h("td", {}, m.name || "-"), h("td", {}, String(m.model_id)),
      h("td", {}, `v${m.version}`), h("td", {}, (m.hardware || []).join(", ") || "any"), h("td", {}, `${m.payload_size} B`),
      h("td", {}, m.arena_bytes === null ? "?" : `${m.arena_bytes} B`), h("td", {}, (m.labels || []).join(", ") || "-"),
      h("td", {}, String(m.key_id).slice(0, 16)), h("td", {}, deltasText(m)), h("td", {}, String(m.running_on)),
      h("td", {}, ctx.time(m.uploaded_ms))));
    page.append(section("models-page", "Model registry", rows.length ? table("models-table",
      ["Ref", "Name", "Model id", "Version", "Hardware", "Size", "Arena", "Labels", "Key id", "Deltas", "Nodes", "Uploaded"], rows)
      : h("p", { class: "muted" }, "no packages registered")));
  }

  // A version's delta packages, each by its base and its bytes on the wire: offered to the nodes
  // that run the base, the full package going to the rest.
  function deltasText(m) {
    const deltas = m.deltas || [];
    if (!deltas.length) return "-";
    return deltas.map((d) => `from ${d.base_version === null ? String(d.base_sha256).slice(0, 8) : "v" + d.base_version} (${d.wire_size} B)`).join(", ");
  }

  async function modelPage(page, id, ctx, offset = 0) {
    if (!/^[1-9][0-9]{0,17}$/.test(id)) throw Object.assign(new Error(`'${id}' is not a registry id (a positive number)`), { status: 404 });
    const m = await ctx.api(`/api/v1/models/${id}?limit=${NODE_PAGE}&offset=${offset}`);
    page.textContent = "";
    page.append(section("model-head", `Model ${m.name || m.model_id} v${m.version}`, facts([
      ["registry ref", `#${m.id}`], ["model id", String(m.model_id)], ["version", String(m.version)],
      ["hardware", (m.hardware || []).join(", ") || "any"], ["size", `${m.payload_size} bytes`],
      ["arena", m.arena_bytes === null ? "unknown" : `${m.arena_bytes} bytes`], ["labels", (m.labels || []).join(", ") || "none"],
      ["signature key id", m.key_id], ["payload SHA-256", m.payload_sha256], ["uploaded", ctx.time(m.uploaded_ms)],
      ["delta packages", deltasText(m)],
      ["results (24 h)", m.results_24h ? `${m.results_24h.count}, latency p50 ${(m.results_24h.p50_us / 1000).toFixed(2)} ms` : "none"],
      ["accuracy", m.accuracy === null ? m.accuracy_note : `${(m.accuracy * 100).toFixed(1)}%`]])));
    const rows = m.nodes.map((n) => h("tr", { "data-node": n.id }, h("td", {}, h("a", { href: "#/nodes/" + encodeURIComponent(n.id) }, n.id)),
                                      h("td", { class: "status-" + n.status }, n.status)));
    await modelGateHistory(page, m, ctx);
    const count = m.nodes_count === undefined ? m.nodes.length : m.nodes_count;
    const nodes = section("model-nodes", `Runs on ${count} nodes`, rows.length ? table("model-node-table", ["Node", "Status"], rows)
      : h("p", { class: "muted" }, "no node runs it"));
    nodes.append(pager("model-nodes-pager", m.nodes_offset || 0, m.nodes.length, count, m.next_offset,
                       (at) => modelPage(page, id, ctx, at).catch((e) => problem(page, `Model ${id}`, e.message))));
    page.append(nodes);
  }

  // Results carry no true labels, so the log cannot tell this version's accuracy. What it can
  // tell is how this version's answers compared with the version it replaced, in each rollout of
  // it: the quality gate's label-mix divergence and probability drop, canary against control.
  async function modelGateHistory(page, m, ctx) {
    const list = await ctx.api("/api/v1/rollouts").catch(() => ({ rollouts: [] }));
    const mine = (list.rollouts || []).filter((r) => r.model_id === m.model_id && r.version === m.version).slice(-5).reverse();
    const gates = await Promise.all(mine.map((r) => ctx.api(`/api/v1/rollouts/${r.id}/gate`).catch(() => null)));
    const sec = section("model-gate", "Agreement with the previous version (quality gate, not accuracy)",
      h("p", { class: "muted" }, "The log holds no true labels, so accuracy is not known. Each rollout of this version " +
        "compared its canary nodes' answers with the control nodes' (the version they ran before): divergence of the " +
        "label mix and drop of the mean probability, against the gate's bounds."));
    page.append(sec);
    const rows = [];
    mine.forEach((r, i) => {
      const g = gates[i];
      if (!g) return;
      rows.push(h("tr", { "data-rollout": String(r.id) }, h("td", {}, h("a", { href: `#/rollouts/${r.id}` }, `#${r.id}`)),
        h("td", {}, `${g.canary.results} / ${g.control.results}`),
        h("td", { "data-figure": "jsd" }, `${g.label_jsd.toFixed(3)} bits (bound ${g.label_jsd_bound.toFixed(3)})`),
        h("td", {}, `${g.mean_score_drop.toFixed(3)} (bound ${g.bounds.max_mean_score_drop.toFixed(3)})`),
        h("td", { class: "gate-" + g.outcome }, g.engine_verdict || g.message)));
    });
    sec.append(rows.length ? table("model-gate-table", ["Rollout", "Results canary / control", "Label divergence (JSD)",
                                                        "Mean probability drop", "Verdict"], rows)
                           : h("p", { class: "muted" }, "no rollout of this version has gate figures"));
  }

  // --- drift -----------------------------------------------------------------------------------
  // Each watch (model version x node group): its latest window against its baseline, label mix and
  // top-1 probability drawn with the bound and noise floor, and the alarms it raised.
  function drawWatch(parent, w, ctx, reload) {
    const group = w.key.group === "" ? "ungrouped nodes" : `group ${w.key.group}`;
    const id = `watch-${w.key.model_id}-${w.key.version}-${w.key.group || "-"}`;
    const box = h("div", { class: "watch", id, "data-state": w.state });
    box.append(h("h3", {}, `model ${w.key.model_id} v${w.key.version}, ${group}: `, h("span", { class: "watch-state state-" + w.state }, w.state),
                 h("span", { class: "muted" }, ` ${w.results} results, window ${w.window_results}, baseline ${w.baseline_results}`)));
    const series = [{ name: "latest window", color: COLORS.canary }, { name: "baseline", color: COLORS.control }];
    const names = new Map();
    const share = { window: new Map(), baseline: new Map() };
    for (const side of ["window", "baseline"]) {
      for (const l of w[side + "_labels"]) {
        const key = l.label === null ? -1 : l.label;
        names.set(key, l.name === null ? `label ${l.label}` : l.name);
        share[side].set(key, l.share);
      }
    }
    const labels = [...names.keys()].sort((a, b) => a - b);
    const mix = h("div", { class: "chart" });
    box.append(mix);
    window.TinyCharts.bars(mix, labels.map((l) => ({ name: names.get(l), values: [share.window.get(l) || 0, share.baseline.get(l) || 0] })),
                           series, { percent: true, title: "label mix, latest window vs baseline", height: 160 });
    gauge(box, "Label mix divergence (JSD, bits)", w.label_mix.jsd_bits, w.label_mix.bound_bits, w.label_mix.noise_floor_bits,
          (v) => v.toFixed(3), id + "-label");
    const scores = h("div", { class: "chart" });
    box.append(scores);
    window.TinyCharts.bars(scores, w.window_scores.map((v, i) => ({
      name: `${(i * w.score_bin_width / 255).toFixed(2)}–${(Math.min(255, (i + 1) * w.score_bin_width - 1) / 255).toFixed(2)}`,
      values: [v, w.baseline_scores[i]] })), series, { percent: true, title: "top-1 probability, latest window vs baseline", height: 160 });
    gauge(box, "Probability divergence (JSD, bits)", w.score.jsd_bits, w.score.bound_bits, w.score.noise_floor_bits,
          (v) => v.toFixed(3), id + "-score");
    if (w.input && w.input.judged) drawInput(box, w.input, id);
    if (ctx.role() === "operator" && w.state !== "learning") {
      const button = h("button", { type: "button", class: "rebaseline" }, "Accept as normal (learn the baseline again)");
      button.addEventListener("click", async () => {
        const q = new URLSearchParams({ model_id: w.key.model_id, version: w.key.version });
        if (w.key.group !== "") q.set("group", w.key.group);
        await ctx.api("/api/v1/drift/rebaseline?" + q, { method: "POST" });
        reload();
      });
      box.append(h("p", {}, button));
    }
    parent.append(box);
  }

  // The input statistics nodes report in Telemetry: the window's per-period standard deviation
  // against the baseline's, and the shifts of mean and standard deviation against their bounds.
  function drawInput(box, input, id) {
    const chart = h("div", { class: "chart", id: id + "-input-chart" }), legend = h("div", { class: "legend" });
    box.append(h("h4", {}, `Input (int8 steps), last ${input.window_periods} telemetry periods`), chart, legend);
    const names = new Map([[0, "input standard deviation"], [1, "baseline"]]);
    const series = new Map([[0, new Map()], [1, new Map()]]);
    input.window_stddevs.forEach((v, i) => {
      series.get(0).set(i, v);
      series.get(1).set(i, input.stddev.baseline_steps);
    });
    window.TinyCharts.lines(chart, legend, input.window_stddevs.map((v, i) => i), series, names, (i) => `period ${i + 1}`);
    for (const [title, s, key] of [["Input mean shift (int8 steps)", input.mean, "mean"], ["Input standard deviation shift (int8 steps)", input.stddev, "stddev"]]) {
      gauge(box, title, Math.abs(s.shift_steps), s.bound_steps, s.noise_floor_steps, (v) => v.toFixed(2), `${id}-input-${key}`);
    }
  }

  async function driftPage(page, ctx) {
    const d = await ctx.api("/api/v1/drift");
    page.textContent = "";
    const rows = d.alerts.map((a) => h("tr", { "data-alert": a.id, class: a.active ? "alert-active" : "" },
      h("td", {}, ctx.time(a.raised_ms)), h("td", {}, `model ${a.key.model_id} v${a.key.version}`),
      h("td", {}, a.key.group === "" ? "(ungrouped)" : a.key.group), h("td", {}, a.kind.replaceAll("_", " ")),
      h("td", {}, a.at_raise.shift_steps !== undefined
        ? `${a.at_raise.shift_steps.toFixed(2)} (|shift| > ${a.at_raise.bound_steps.toFixed(2)} int8 steps)`
        : `${a.at_raise.jsd_bits.toFixed(3)} > ${a.at_raise.bound_bits.toFixed(3)} bits`),
      h("td", {}, a.active ? "active" : `cleared ${ctx.time(a.cleared_ms)} (${a.cleared_by})`)));
    page.append(section("drift-alerts", `Drift alarms (${d.alerts.filter((a) => a.active).length} active)`,
      rows.length ? table("drift-alert-table", ["Raised", "Model", "Group", "Kind", "Divergence", "State"], rows)
        : h("p", { class: "muted" }, "none raised")));
    const watches = section("drift-watches", "Watches: latest results against their baseline");
    if (!d.watches.length) watches.append(h("p", { class: "muted" }, "no results yet"));
    for (const w of d.watches) drawWatch(watches, w, ctx, () => driftPage(page, ctx));
    page.append(watches);
  }

  async function show(page, hash, ctx) {
    if (unsubscribe) unsubscribe();
    unsubscribe = null;
    const parts = hash.replace(/^#\/?/, "").split("/").map((s) => { try { return decodeURIComponent(s); } catch (e) { return s; } });
    const [kind, id] = parts;
    const pages = {
      nodes: id !== undefined && parts.length === 2 ? () => nodePage(page, id, ctx) : null,
      rollouts: parts.length === 1 ? () => rolloutsPage(page, ctx) : parts.length === 2 ? () => rolloutPage(page, id, ctx) : null,
      models: parts.length === 1 ? () => modelsPage(page, ctx) : parts.length === 2 ? () => modelPage(page, id, ctx) : null,
      drift: parts.length === 1 ? () => driftPage(page, ctx) : null,
    };
    const what = { nodes: "Node", rollouts: "Rollout", models: "Model", drift: "Drift" }[kind];
    const run = pages[kind];
    if (!run) return problem(page, "No such page", `The dashboard has no page at ${hash}.`);
    page.textContent = "";
    page.append(h("p", { class: "muted" }, "loading…"));
    const gen = ++generation;
    const load = () => (gen !== generation ? Promise.resolve() : run()).catch((e) => problem(page, `${what} ${id || ""}`.trim(),
      e.status === 404 ? `${what} '${id}' does not exist on this gateway: ${e.message}` :
      e.status === 503 ? `This gateway does not run this service: ${e.message}` : e.message));
    await load();
    // Re-read on the changes that concern this page.
    unsubscribe = ctx.onLive((kind2, p) => {
      if (kind2 === "reconnected") return ctx.throttled("page" + gen, 1000, load);
      if (kind === "rollouts" && kind2 === "rollouts") return ctx.throttled("page" + gen, 1000, load);
      if (kind === "nodes" && kind2 === "events" && p.events.some((e) => e.node === id)) return ctx.throttled("page" + gen, 3000, load);
      if (kind === "nodes" && kind2 === "nodes" && p.nodes.some((n) => n.id === id)) return ctx.throttled("page" + gen, 1000, load);
      if (kind === "rollouts" && kind2 === "events" && parts.length === 2) return ctx.throttled("page" + gen, 5000, load);
      if (kind === "models" && kind2 === "nodes") return ctx.throttled("page" + gen, 2000, load);
      if (kind === "drift" && kind2 === "events") return ctx.throttled("page" + gen, 5000, load);
    });
  }

  return { show };
})();
