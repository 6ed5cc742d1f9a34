// One patient: who, their 30- or 90-day trends of each measure of the spec with the
// pathway's limits and the alerts' markers, their unresolved alerts, their care
// programmes with the caller's timer, and their devices.

import { alertCard, alertsUnavailable, patientAlerts } from "./alerts.js";
import { api } from "./api.js";
import { drawChart } from "./chart.js";
import { devicesSection } from "./devices.js";
import { programsSection } from "./programs.js";
import { careSection } from "./care.js";
import { daysSince, errorText, formatNumber, h, kindLabel, patientLabel } from "./dom.js";
import { vendorSections } from "./vendors.js";

const DAY_MS = 86400000;
const HOUR_MS = 3600000;

/**
 * The charts, one per measure of the hub's measure spec (GET /api/v1/measures),
 * in its order, and which charts an alert of each kind is marked on. Loaded once.
 */
let catalogue = null;

async function loadCatalogue() {
  if (!catalogue) {
    catalogue = api("/measures").then(
      ({ measures }) => ({
        charts: measures.map((m) => ({
          measure: m.measure,
          title: m.label,
          digits: m.digits,
          unit: m.symbol,
          fields: m.fields.map((f) => f.label),
        })),
        kindMeasures: measures.reduce((byKind, m) => {
          for (const kind of m.alert_kinds) (byKind[kind] ||= []).push(m.measure);
          return byKind;
        }, {}),
      }),
      (error) => {
        catalogue = null;
        throw error;
      },
    );
  }
  return catalogue;
}

function points(buckets, second) {
  return buckets
    .filter((b) => (second ? b.mean2 !== null && b.mean2 !== undefined : true))
    .map((b) => ({
      t: new Date(b.bucket),
      mean: second ? b.mean2 : b.mean,
      min: second ? b.min2 : b.min,
      max: second ? b.max2 : b.max,
      count: b.count,
    }));
}

/**
 * A weight-gain limit: the lowest weight of the days within its window back
 * from the newest day, plus the gain; drawn over that window.
 */
function gainLines(gains, weights) {
  if (!weights.length) return [];
  const newest = weights[weights.length - 1].t.getTime();
  return gains.map((gain) => {
    const start = newest - gain.hours * HOUR_MS;
    const inWindow = weights.filter((p) => p.t.getTime() >= start);
    const lowest = Math.min(...inWindow.map((p) => p.min));
    return { label: gain.label, value: lowest + gain.kg, bound: "upper", from: new Date(start) };
  });
}

function chartSpec(chart, readings, limits, markers, range) {
  const buckets = readings.buckets || [];
  const series =
    chart.fields.length === 2
      ? [
          { key: chart.fields[0], label: chart.fields[0], cls: "s-sys", points: points(buckets, false) },
          { key: chart.fields[1], label: chart.fields[1], cls: "s-dia", points: points(buckets, true) },
        ]
      : [{ key: "value", label: chart.title, cls: "s-main", points: points(buckets, false) }];
  const lines = limits
    ? limits.lines.map((l) => ({ label: l.label, value: l.value, bound: l.bound }))
    : [];
  if (limits && limits.gains.length) lines.push(...gainLines(limits.gains, series[0].points));
  const newest = series.map((x) => x.points[x.points.length - 1]).filter(Boolean);
  const latest = newest.length
    ? `latest ${newest.map((p) => formatNumber(p.mean, chart.digits)).join("/")} ${chart.unit}`
    : "no readings";
  return {
    latest,
    from: range.from,
    to: range.to,
    bucketMs: DAY_MS,
    unit: chart.unit,
    digits: chart.digits,
    series,
    lines,
    markers,
    ariaLabel: `${chart.title}, daily means over ${range.days} days; ${latest}`,
  };
}

function chartCard(chart) {
  return h(
    "figure",
    { class: "chart", id: `chart-${chart.measure}`, dataset: { measure: chart.measure } },
    h(
      "div",
      { class: "chart-head" },
      h("h3", {}, chart.title),
      h("span", { class: "latest muted" }, ""),
    ),
    h("div", { class: "chart-plot" }, h("p", { class: "loading" }, "Loading…")),
    h(
      "figcaption",
      { class: "muted" },
      chart.fields.length === 2
        ? [
            h("span", { class: "key s-sys" }, chart.fields[0]),
            " ",
            h("span", { class: "key s-dia" }, chart.fields[1]),
            " · ",
          ]
        : null,
      "Daily mean and range (UTC days); dashed: pathway limits; ▼ alerts.",
    ),
  );
}

function markersFor(measure, alerts, kindMeasures) {
  return alerts
    .filter((a) => (kindMeasures[a.kind] || []).includes(measure))
    .map((a) => ({
      t: new Date(a.opened_at),
      severity: a.severity,
      alertId: a.id,
      label: `${kindLabel(a.kind)} (${a.severity}): ${a.reason}`,
    }));
}

function header(patient) {
  const since = daysSince(patient.discharge_date);
  const overrides = Object.entries(patient.threshold_overrides || {});
  return h(
    "div",
    { class: "page-head patient-head" },
    h("p", { class: "crumb" }, h("a", { href: "#worklist" }, "← Worklist")),
    h("h1", {}, patientLabel(patient), " ", h("span", { class: "chip" }, patient.pathway)),
    h(
      "dl",
      { class: "facts" },
      patient.identifiers.map((i) => [h("dt", {}, i.system), h("dd", {}, i.value)]),
      h("dt", {}, "Discharged"),
      h("dd", {}, patient.discharge_date ? `${patient.discharge_date} (day ${since})` : "—"),
      h("dt", {}, "Time zone"),
      h("dd", {}, patient.timezone),
      overrides.length
        ? [
            h("dt", {}, "Own limits"),
            h("dd", { class: "own-limits" }, overrides.map(([k, v]) => `${k} ${v}`).join(", ")),
          ]
        : null,
    ),
  );
}

/** The patient's overrides as the thresholds route labels them (the measure's label). */
function ownLimitsText(ownLimits) {
  return ownLimits.map((o) => [o.label, o.value, o.unit].filter((x) => x !== "").join(" ")).join(", ");
}

function rangeOf(days) {
  const now = new Date();
  const tomorrow = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return { days, now, from: new Date(tomorrow - days * DAY_MS), to: new Date(tomorrow) };
}

function focusAlert(root, alertId) {
  const card = root.querySelector(`#alert-${CSS.escape(String(alertId))}`);
  if (!card) return false;
  root.querySelectorAll(".alert-card.focused").forEach((c) => c.classList.remove("focused"));
  card.classList.add("focused");
  card.scrollIntoView({ block: "center" });
  card.focus({ preventScroll: true });
  return true;
}

const back = () => h("p", { class: "crumb" }, h("a", { href: "#worklist" }, "← Worklist"));

function rangeToggle(patientId, days) {
  return h(
    "div",
    { class: "range-toggle", role: "group", "aria-label": "Days shown" },
    [30, 90].map((d) =>
      h(
        "a",
        {
          class: "btn btn-small",
          href: `#patient/${patientId}/${d}`,
          "aria-pressed": String(d === days),
        },
        `${d} days`,
      ),
    ),
  );
}

function showAlerts(list, { alerts, error }, ctx) {
  const open = alerts.filter((a) => a.status !== "resolved");
  if (error) list.replaceChildren(alertsUnavailable(error));
  else if (!open.length) list.replaceChildren(h("p", { class: "muted" }, "No unresolved alerts."));
  else {
    const onChange = () => ctx.refreshAlertCount();
    list.replaceChildren(...open.map((a) => alertCard(a, { onChange })));
  }
}

async function fillChart(card, chart, patientId, range, limitsLoaded, alertsLoaded, kindMeasures) {
  const plot = card.querySelector(".chart-plot");
  const query = {
    measure: chart.measure,
    bucket: "1d",
    from: range.from.toISOString(),
    to: range.now.toISOString(),
  };
  try {
    const [readings, limits, { alerts }] = await Promise.all([
      api(`/patients/${patientId}/readings`, { query }),
      limitsLoaded,
      alertsLoaded,
    ]);
    const ownLimits = limits ? limits.measures.find((m) => m.measure === chart.measure) : null;
    const markers = markersFor(chart.measure, alerts, kindMeasures);
    const spec = chartSpec(chart, readings, ownLimits, markers, range);
    card.querySelector(".latest").textContent = spec.latest;
    drawChart(plot, spec);
    card.dataset.drawn = "true";
  } catch (error) {
    const what = chart.title.toLowerCase();
    plot.replaceChildren(h("p", { class: "error" }, `Could not load ${what}: ${errorText(error)}`));
  }
}

export async function renderPatient(root, ctx, { patientId, days = 30, alertId = null }) {
  root.replaceChildren(h("p", { class: "loading" }, "Loading patient…"));
  const range = rangeOf(days);
  let patient;
  try {
    patient = await api(`/patients/${encodeURIComponent(patientId)}`);
  } catch (error) {
    const text = error.status === 404 ? "No such patient on your panel." : errorText(error);
    root.replaceChildren(back(), h("p", { class: "error" }, text));
    return;
  }
  let charts, kindMeasures;
  try {
    ({ charts, kindMeasures } = await loadCatalogue());
  } catch (error) {
    root.replaceChildren(back(), h("p", { class: "error" }, `Could not load the measures: ${errorText(error)}`));
    return;
  }
  const cards = charts.map(chartCard);
  const alertList = h(
    "div",
    { class: "alert-list", id: "patient-alerts" },
    h("p", { class: "loading" }, "Loading alerts…"),
  );
  const grid = h("div", { class: "chart-grid" }, cards);
  // A marker (click, or Enter on a focused one) brings its alert's card into view.
  const toMarkedAlert = (event) => {
    const marker = event.target.closest && event.target.closest(".marker");
    if (marker && (event.type === "click" || event.key === "Enter")) {
      focusAlert(root, marker.dataset.alertId);
    }
  };
  grid.addEventListener("click", toMarkedAlert);
  grid.addEventListener("keydown", toMarkedAlert);
  root.replaceChildren(
    header(patient),
    h(
      "section",
      { class: "trends", "aria-label": "Trends" },
      h("div", { class: "section-head" }, h("h2", {}, "Trends"), rangeToggle(patient.id, days)),
      grid,
    ),
    h(
      "section",
      { class: "patient-alerts", "aria-label": "Unresolved alerts" },
      h("h2", {}, "Unresolved alerts"),
      alertList,
    ),
    programsSection(patient.id),
    careSection(patient.id),
    devicesSection(patient.id),
    vendorSections(patient.id),
  );

  const alertsLoaded = patientAlerts(patient.id).then(
    (alerts) => ({ alerts }),
    (error) => ({ alerts: [], error }),
  );
  const limitsLoaded = api(`/patients/${patient.id}/thresholds`).catch(() => null);
  limitsLoaded.then((limits) => {
    const own = root.querySelector(".own-limits");
    if (own && limits && limits.own_limits.length) own.textContent = ownLimitsText(limits.own_limits);
  });
  alertsLoaded.then((loaded) => {
    showAlerts(alertList, loaded, ctx);
    if (alertId !== null) focusAlert(root, alertId);
  });
  await Promise.all(
    charts.map((chart, i) =>
      fillChart(cards[i], chart, patient.id, range, limitsLoaded, alertsLoaded, kindMeasures),
    ),
  );
}
