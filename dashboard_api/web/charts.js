// Tiny SVG line chart: one series per label over time buckets. No dependencies.
"use strict";
window.TinyCharts = (function () {
  const NS = "http://www.w3.org/2000/svg";
  const PALETTE = ["#2f6fdf", "#e67e22", "#1b8a4b", "#c0392b", "#8e44ad", "#16a085", "#d35400", "#7f8c8d",
                   "#2c3e50", "#f1c40f", "#27ae60", "#e84393"];

  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (parent) parent.appendChild(node);
    return node;
  }

  // series: Map label -> Map bucketStartMs -> count; buckets: sorted array of bucket starts;
  // names: Map label -> name (the model's label names); fmt: bucket start -> axis text.
  function lines(container, legend, buckets, series, names, fmt) {
    container.textContent = "";
    legend.textContent = "";
    const W = 600, H = 240, L = 44, R = 8, T = 8, B = 22;
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "events per label" }, container);
    let max = 1;
    for (const s of series.values()) for (const v of s.values()) max = Math.max(max, v);
    const x = (i) => L + (buckets.length <= 1 ? 0 : (i * (W - L - R)) / (buckets.length - 1));
    const y = (v) => T + (H - T - B) * (1 - v / max);
    for (let k = 0; k <= 4; k++) {
      const v = Math.round((max * k) / 4);
      el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#e3e6ea" }, svg);
      el("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", "font-size": 10, fill: "#6b7480" }, svg).textContent = v;
    }
    if (buckets.length) {
      fmt = fmt || ((ms) => new Date(ms).toISOString().substring(11, 16));
      for (const i of [0, Math.floor((buckets.length - 1) / 2), buckets.length - 1]) {
        el("text", { x: x(i), y: H - 6, "text-anchor": "middle", "font-size": 10, fill: "#6b7480" }, svg).textContent =
          fmt(buckets[i]);
      }
    }
    let n = 0;
    for (const [label, s] of [...series.entries()].sort((a, b) => a[0] - b[0])) {
      const color = PALETTE[n++ % PALETTE.length];
      const pts = buckets.map((b, i) => `${x(i).toFixed(1)},${y(s.get(b) || 0).toFixed(1)}`).join(" ");
      el("polyline", { points: pts, fill: "none", stroke: color, "stroke-width": 1.6 }, svg);
      const item = document.createElement("span");
      const swatch = document.createElement("i");
      swatch.style.background = color;
      item.appendChild(swatch);
      item.appendChild(document.createTextNode((names && names.get(label)) || `label ${label}`));
      legend.appendChild(item);
    }
    if (!series.size) {
      el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", fill: "#6b7480" }, svg).textContent = "no events in the last hour";
    }
  }

  // Grouped bars: groups = [{name, values: [v per series]}], series = [{name, color}]; values are
  // shares (0..1) or counts, drawn against the largest.
  function bars(container, groups, series, opts) {
    container.textContent = "";
    opts = opts || {};
    const W = 600, H = opts.height || 200, L = 44, R = 8, T = 8, B = 34;
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": opts.title || "bars" }, container);
    let max = 0;
    for (const g of groups) for (const v of g.values) max = Math.max(max, v);
    if (max <= 0) max = 1;
    const y = (v) => T + (H - T - B) * (1 - v / max);
    for (let k = 0; k <= 4; k++) {
      const v = (max * k) / 4;
      el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#e3e6ea" }, svg);
      el("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", "font-size": 10, fill: "#6b7480" }, svg).textContent =
        opts.percent ? `${Math.round(v * 100)}%` : String(Math.round(v));
    }
    const slot = (W - L - R) / Math.max(1, groups.length);
    const bw = Math.max(2, (slot * 0.8) / series.length);
    groups.forEach((g, i) => {
      g.values.forEach((v, k) => {
        const x = L + i * slot + slot * 0.1 + k * bw;
        const r = el("rect", { x: x.toFixed(1), y: y(v).toFixed(1), width: (bw - 1).toFixed(1),
                               height: Math.max(0, H - B - y(v)).toFixed(1), fill: series[k].color }, svg);
        r.dataset.series = series[k].name;
        r.dataset.group = g.name;
        r.dataset.value = String(v);
      });
      el("text", { x: L + i * slot + slot / 2, y: H - B + 14, "text-anchor": "middle", "font-size": 10, fill: "#1d232b" },
         svg).textContent = g.name.length > 14 ? g.name.slice(0, 13) + "…" : g.name;
    });
    series.forEach((s, k) => {
      el("rect", { x: L + k * 110, y: H - 12, width: 10, height: 10, fill: s.color }, svg);
      el("text", { x: L + k * 110 + 14, y: H - 3, "font-size": 11, fill: "#1d232b" }, svg).textContent = s.name;
    });
    if (!groups.length) {
      el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", fill: "#6b7480" }, svg).textContent = opts.empty || "no results yet";
    }
    return svg;
  }

  // One measured figure on a scale with its noise floor (shaded) and bound (red line) marked.
  function gauge(container, g) {
    const W = 600, H = 46, L = 8, R = 8;
    const max = Math.max(g.bound || 0, g.value || 0, g.floor || 0) * 1.3 || 1;
    const x = (v) => L + (W - L - R) * Math.max(0, Math.min(1, v / max));
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "gauge", role: "img", "aria-label": g.title }, container);
    el("rect", { x: L, y: 14, width: W - L - R, height: 10, fill: "#e8ebef", rx: 5 }, svg);
    if (g.floor > 0) {
      const f = el("rect", { x: L, y: 14, width: (x(g.floor) - L).toFixed(1), height: 10, fill: "#cfd8e3", rx: 5 }, svg);
      f.classList.add("noise-floor");
      el("text", { x: x(g.floor), y: 40, "text-anchor": "middle", "font-size": 10, fill: "#6b7480" }, svg).textContent =
        `noise floor ${g.fmt(g.floor)}`;
    }
    if (g.bound > 0) {
      const b = el("line", { x1: x(g.bound), x2: x(g.bound), y1: 8, y2: 30, stroke: "#c0392b", "stroke-width": 2 }, svg);
      b.classList.add("bound");
      el("text", { x: x(g.bound), y: 8, "text-anchor": "middle", "font-size": 10, fill: "#c0392b" }, svg).textContent =
        `bound ${g.fmt(g.bound)}`;
    }
    const over = g.bound > 0 && g.value > g.bound;
    const dot = el("circle", { cx: x(g.value), cy: 19, r: 6, fill: over ? "#c0392b" : "#1b8a4b" }, svg);
    dot.classList.add("value");
    return svg;
  }

  return { lines, bars, gauge, PALETTE };
})();
