// SVG charts for the dashboard, drawn by hand: a line chart over time and a
// bar chart. No library; every element is made with createElementNS.
"use strict";

const Charts = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const W = 600, H = 180, PAD = { l: 44, r: 10, t: 10, b: 22 };

  function el(name, attrs, text) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function clear(svg) { while (svg.firstChild) svg.removeChild(svg.firstChild); }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function fmt(v) {
    if (v >= 1000) return (v / 1000).toFixed(v >= 10000 ? 0 : 1) + "k";
    if (v >= 10 || v === 0) return v.toFixed(0);
    return v.toFixed(1);
  }

  function frame(svg, max) {
    const ih = H - PAD.t - PAD.b;
    for (let i = 0; i <= 4; i++) {
      const y = PAD.t + ih - (ih * i) / 4;
      svg.appendChild(el("line", { class: "axis", x1: PAD.l, x2: W - PAD.r, y1: y, y2: y }));
      svg.appendChild(el("text", { class: "grid-label", x: PAD.l - 6, y: y + 4, "text-anchor": "end" }, fmt((max * i) / 4)));
    }
  }

  function empty(svg, text) {
    svg.appendChild(el("text", { class: "empty", x: W / 2, y: H / 2, "text-anchor": "middle" }, text));
  }

  // series: [{ points: [[t, v], ...], dots: bool, bad: t => bool }]; x from t0 to t1.
  function line(svg, series, t0, t1, opts) {
    clear(svg);
    const all = series.flatMap(s => s.points.map(p => p[1]));
    const max = niceMax(Math.max(0, ...all));
    frame(svg, max);
    const iw = W - PAD.l - PAD.r, ih = H - PAD.t - PAD.b;
    const x = t => PAD.l + (iw * (t - t0)) / Math.max(1, t1 - t0);
    const y = v => PAD.t + ih - (ih * v) / max;
    svg.appendChild(el("text", { class: "grid-label", x: PAD.l, y: H - 6 }, opts.from));
    svg.appendChild(el("text", { class: "grid-label", x: W - PAD.r, y: H - 6, "text-anchor": "end" }, "now"));
    if (!all.length) { empty(svg, opts.empty || "no data yet"); return; }
    series.forEach((s, i) => {
      if (!s.points.length) return;
      const d = s.points.map((p, j) => (j ? "L" : "M") + x(p[0]).toFixed(1) + " " + y(p[1]).toFixed(1)).join(" ");
      if (s.area) {
        const first = s.points[0], last = s.points[s.points.length - 1];
        svg.appendChild(el("path", { class: "area", d: d + ` L${x(last[0]).toFixed(1)} ${y(0)} L${x(first[0]).toFixed(1)} ${y(0)} Z` }));
      }
      if (s.dots) {
        for (const p of s.points) {
          svg.appendChild(el("circle", { class: "dot" + (s.bad && s.bad(p) ? " bad" : ""), cx: x(p[0]).toFixed(1), cy: y(p[1]).toFixed(1), r: 2.5, "data-value": p[1] }));
        }
      } else {
        svg.appendChild(el("path", { class: "series s" + i, d, "data-points": s.points.length }));
      }
    });
  }

  // bars: [{ label, value }]
  function bars(svg, items) {
    clear(svg);
    const max = niceMax(Math.max(0, ...items.map(b => b.value)));
    frame(svg, max);
    if (!items.length) { empty(svg, "no usage recorded"); return; }
    const iw = W - PAD.l - PAD.r, ih = H - PAD.t - PAD.b;
    const bw = iw / items.length;
    items.forEach((b, i) => {
      const h = (ih * b.value) / max;
      const rect = el("rect", { class: "bar", x: (PAD.l + i * bw + bw * 0.1).toFixed(1), y: (PAD.t + ih - h).toFixed(1), width: (bw * 0.8).toFixed(1), height: h.toFixed(1), "data-value": b.value });
      rect.appendChild(el("title", {}, `${b.label}: ${b.value}`));
      svg.appendChild(rect);
      if (items.length <= 12) {
        svg.appendChild(el("text", { class: "grid-label", x: (PAD.l + i * bw + bw / 2).toFixed(1), y: H - 6, "text-anchor": "middle" }, String(b.label).slice(0, 12)));
      }
    });
  }

  return { line, bars };
})();
