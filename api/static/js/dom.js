// Small helpers: building elements, and words and numbers as the dashboard shows them.

const SVG_NS = "http://www.w3.org/2000/svg";

function fill(element, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") element.setAttribute("class", value);
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      element.addEventListener(key.slice(2), value);
    } else element.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** An HTML element: `h("a", {href: "#x", class: "link"}, "text", otherNode)`. */
export function h(tag, attrs, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

/** An SVG element, like `h`. */
export function s(tag, attrs, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

export const SEVERITIES = ["critical", "high", "medium", "low"];

/** 0 for critical ... 3 for low; unknown last. */
export function severityRank(severity) {
  const rank = SEVERITIES.indexOf(severity);
  return rank < 0 ? SEVERITIES.length : rank;
}

const KIND_LABELS = {
  weight_gain: "Weight gain",
  bp_high: "Blood pressure high",
  bp_low: "Blood pressure low",
  spo2_low: "SpO2 low",
  spo2_drop: "SpO2 drop",
  hr_high: "Heart rate high",
  hr_low: "Heart rate low",
  respiratory_decline: "Respiratory decline",
  missed_readings: "Missed readings",
  device_never_active: "Device never used",
  gateway_offline: "Gateway offline",
  device_problem: "Device problem",
  reading_gap: "Readings never arrived",
  frequency_drop: "Fewer readings",
  refill_overdue: "Refill overdue",
  low_pdc: "Low adherence",
  tcm_contact_missed: "TCM contact missed",
  tcm_visit_missed: "TCM visit missed",
};

export function kindLabel(kind) {
  return KIND_LABELS[kind] || String(kind).replaceAll("_", " ");
}

/** How a patient is named on screen: their first identifier (no names are stored). */
export function patientLabel(patient) {
  const first = (patient && patient.identifiers && patient.identifiers[0]) || null;
  if (first) return first.value;
  const id = (patient && (patient.patient_id || patient.id)) || "";
  return `Patient ${String(id).slice(0, 8)}`;
}

const dateFormat = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  timeZone: "UTC",
});
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});

/** A UTC day as "Mar 3" (the charts' daily buckets are UTC days). */
export function formatDay(date) {
  return dateFormat.format(date);
}

export function formatDateTime(value) {
  return value ? dateTimeFormat.format(new Date(value)) : "";
}

/** "5 min ago", "3 h ago", "2 days ago", or "in 20 min". */
export function relativeTime(value, now = Date.now()) {
  const minutes = Math.round((new Date(value).getTime() - now) / 60000);
  const size = Math.abs(minutes);
  let text;
  if (size < 1) return "just now";
  if (size < 60) text = `${size} min`;
  else if (size < 48 * 60) text = `${Math.round(size / 60)} h`;
  else text = `${Math.round(size / 1440)} days`;
  return minutes < 0 ? `${text} ago` : `in ${text}`;
}

/** Whole days from a date ("YYYY-MM-DD") to today, or null. */
export function daysSince(isoDate, now = new Date()) {
  if (!isoDate) return null;
  const [y, m, d] = isoDate.split("-").map(Number);
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Math.round((today - Date.UTC(y, m - 1, d)) / 86400000);
}

/** A number with at most `digits` decimals, trailing zeros dropped. */
export function formatNumber(value, digits = 1) {
  return Number(value.toFixed(digits)).toString();
}

export function errorText(error) {
  return error && error.message ? error.message : String(error);
}
