// Trend charts as hand-drawn SVG: daily mean with its min-max range, the
// pathway's limits as dashed lines, and alert markers at the alerts' opening times.
//
// drawChart(plot, spec) draws into the element `plot` at its current width and
// redraws when that width changes. spec:
//   from, to            Date: the x range
//   bucketMs            the width of one bucket (points sit in its middle)
//   unit, digits        for labels
//   series              [{key, label, cls, points: [{t: Date, mean, min, max, count}]}]
//   lines               [{label, value, bound: "upper"|"lower", from?: Date}]
//   markers             [{t: Date, label, severity, alertId}]

import { formatDay, formatNumber, s } from "./dom.js";

const HEIGHT = 210;
const MARGIN = { top: 16, right: 10, bottom: 24, left: 44 };
const DAY_MS = 86400000;

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo, hi, count = 4) {
  const raw = (hi - lo) / Math.max(count, 1);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((m) => m >= raw) || raw;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    ticks.push(Number(v.toFixed(10)));
  }
  return ticks;
}

function yDomain(spec) {
  const values = [];
  for (const series of spec.series) {
    for (const p of series.points) values.push(p.min, p.max, p.mean);
  }
  for (const line of spec.lines) values.push(line.value);
  const finite = values.filter((v) => Number.isFinite(v));
  if (!finite.length) return [0, 1];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (hi - lo < 1e-9) {
    lo -= 1;
    hi += 1;
  }
  const pad = (hi - lo) * 0.08;
  return [lo - pad, hi + pad];
}

/** UTC days to label, at least `minGap` pixels apart. */
function xTicks(from, to, width, minGap = 58) {
  const pxPerDay = width / ((to - from) / DAY_MS);
  const stepDays = [1, 2, 7, 14, 28, 56].find((d) => d * pxPerDay >= minGap) || 91;
  const ticks = [];
  const first = Math.ceil(from.getTime() / DAY_MS) * DAY_MS;
  // Count back from the end so that the newest day is always labelled.
  const last = Math.floor((to.getTime() - 1) / DAY_MS) * DAY_MS;
  for (let t = last; t >= first; t -= stepDays * DAY_MS) ticks.unshift(new Date(t));
  return ticks;
}

/** Each limit's label above (upper) or below (lower) its line, pushed apart so none overlap. */
function limitLabels(lines, y, digits, spacing = 12) {
  const labels = lines
    .map((line) => ({
      y: line.bound === "lower" ? y(line.value) + 12 : y(line.value) - 4,
      text: `${line.label} ${formatNumber(line.value, digits)}`,
    }))
    .sort((a, b) => a.y - b.y);
  for (let i = 1; i < labels.length; i++) {
    labels[i].y = Math.max(labels[i].y, labels[i - 1].y + spacing);
  }
  return labels;
}

function draw(plot, spec) {
  const width = Math.max(Math.round(plot.clientWidth || 0), 260);
  const inner = { w: width - MARGIN.left - MARGIN.right, h: HEIGHT - MARGIN.top - MARGIN.bottom };
  const [lo, hi] = yDomain(spec);
  const t0 = spec.from.getTime();
  const t1 = spec.to.getTime();
  const x = (t) => MARGIN.left + ((t - t0) / (t1 - t0)) * inner.w;
  const y = (v) => MARGIN.top + (1 - (v - lo) / (hi - lo)) * inner.h;
  const pointCount = spec.series.reduce((n, series) => n + series.points.length, 0);
  // Smaller dots where the days are narrow (90 days on a phone).
  const dayWidth = (inner.w * spec.bucketMs) / (t1 - t0);
  const radius = Math.min(3.2, Math.max(1.6, dayWidth / 2.5));

  const svg = s("svg", {
    class: "chart-svg",
    width,
    height: HEIGHT,
    viewBox: `0 0 ${width} ${HEIGHT}`,
    role: "img",
    "aria-label": spec.ariaLabel || "",
    "data-points": pointCount,
  });

  const grid = s("g", { class: "grid" });
  for (const value of niceTicks(lo, hi)) {
    grid.append(
      s("line", { x1: MARGIN.left, x2: width - MARGIN.right, y1: y(value), y2: y(value) }),
      s("text", { x: MARGIN.left - 6, y: y(value) + 4, class: "tick tick-y" }, formatNumber(value)),
    );
  }
  for (const day of xTicks(spec.from, spec.to, inner.w)) {
    const at = x(day.getTime() + DAY_MS / 2);
    if (at < MARGIN.left || at > width - MARGIN.right) continue;
    grid.append(
      s("line", { x1: at, x2: at, y1: MARGIN.top, y2: HEIGHT - MARGIN.bottom, class: "vgrid" }),
      s("text", { x: at, y: HEIGHT - 6, class: "tick tick-x" }, formatDay(day)),
    );
  }
  svg.append(grid);

  const limits = s("g", { class: "limits" });
  const end = width - MARGIN.right;
  for (const line of spec.lines) {
    const start = line.from ? Math.max(x(line.from.getTime()), MARGIN.left) : MARGIN.left;
    const at = y(line.value);
    limits.append(
      s(
        "line",
        { x1: start, x2: end, y1: at, y2: at, class: `limit limit-${line.bound}` },
        s("title", {}, `${line.label}: ${formatNumber(line.value, spec.digits)} ${spec.unit}`),
      ),
    );
  }
  for (const label of limitLabels(spec.lines, y, spec.digits)) {
    limits.append(s("text", { x: end - 2, y: label.y, class: "limit-label" }, label.text));
  }
  svg.append(limits);

  const markers = s("g", { class: "markers" });
  for (const marker of spec.markers) {
    const t = marker.t.getTime();
    if (t < t0 || t > t1) continue;
    const at = x(t);
    markers.append(
      s(
        "g",
        {
          class: `marker sev-${marker.severity}`,
          tabindex: 0,
          role: "button",
          "aria-label": marker.label,
          dataset: { alertId: marker.alertId },
        },
        s("title", {}, marker.label),
        s("line", { x1: at, x2: at, y1: MARGIN.top, y2: HEIGHT - MARGIN.bottom }),
        s("path", { d: `M${at - 6},${MARGIN.top - 10}h12l-6,9z` }),
      ),
    );
  }
  svg.append(markers);

  for (const series of spec.series) {
    const group = s("g", { class: `series ${series.cls}` });
    let path = "";
    let previous = null;
    for (const p of series.points) {
      const t = p.t.getTime() + spec.bucketMs / 2;
      const gap = previous !== null && t - previous > 2.5 * spec.bucketMs;
      path += `${path && !gap ? "L" : "M"}${x(t).toFixed(1)},${y(p.mean).toFixed(1)}`;
      previous = t;
      if (p.max > p.min) {
        group.append(s("line", { x1: x(t), x2: x(t), y1: y(p.min), y2: y(p.max), class: "range" }));
      }
    }
    if (path) group.append(s("path", { d: path, class: "trend" }));
    for (const p of series.points) {
      const t = p.t.getTime() + spec.bucketMs / 2;
      const value = (v) => formatNumber(v, spec.digits);
      const words = `${formatDay(p.t)} ${series.label}: ${value(p.mean)} ${spec.unit}`;
      const spread =
        p.count > 1 ? ` (${value(p.min)}–${value(p.max)}, ${p.count} readings)` : "";
      group.append(
        s("circle", { cx: x(t), cy: y(p.mean), r: radius, class: "pt" }, s("title", {}, words + spread)),
      );
    }
    svg.append(group);
  }

  if (!pointCount) {
    svg.append(
      s("text", { x: MARGIN.left + inner.w / 2, y: MARGIN.top + inner.h / 2, class: "empty" },
        "No readings in these days"),
    );
  }
  plot.replaceChildren(svg);
  plot.dataset.drawnWidth = String(width);
}

const observed = new WeakMap();
const resizer =
  "ResizeObserver" in window
    ? new ResizeObserver((entries) => {
        for (const entry of entries) {
          const spec = observed.get(entry.target);
          const width = Math.round(entry.target.clientWidth);
          if (spec && String(Math.max(width, 260)) !== entry.target.dataset.drawnWidth) {
            draw(entry.target, spec);
          }
        }
      })
    : null;

/** Draw `spec` into `plot`, and again whenever the plot's width changes. */
export function drawChart(plot, spec) {
  observed.set(plot, spec);
  draw(plot, spec);
  if (resizer) resizer.observe(plot);
}
