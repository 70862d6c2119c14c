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

  // series: Map label -> Map bucketStartMs -> count; buckets: sorted array of bucket starts.
  function lines(container, legend, buckets, series) {
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
      const fmt = (ms) => new Date(ms).toISOString().substring(11, 16);
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
      item.appendChild(document.createTextNode(`label ${label}`));
      legend.appendChild(item);
    }
    if (!series.size) {
      el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", fill: "#6b7480" }, svg).textContent = "no events in the last hour";
    }
  }

  return { lines };
})();
