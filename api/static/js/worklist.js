// The worklist: the caller's patients in the hub's priority order.
//
// It is GET /worklist. A hub without that route yet gets the caller's panel
// (GET /patients) instead, ordered here by their open alerts' severity (when
// the alert routes answer) and then by the days since discharge.

import { api } from "./api.js";
import { SEVERITIES, daysSince, errorText, h, kindLabel, patientLabel, severityRank } from "./dom.js";

async function panelRows() {
  const patients = await api("/patients");
  let alerts = [];
  try {
    alerts = await api("/alerts", { query: { status: "unresolved" } });
  } catch {
    // no alert routes yet: order by discharge only
  }
  const worst = new Map();
  const reasons = new Map();
  const counts = new Map();
  for (const alert of alerts) {
    const rank = severityRank(alert.severity);
    worst.set(alert.patient_id, Math.min(rank, worst.get(alert.patient_id) ?? 99));
    const tally = counts.get(alert.patient_id) || {};
    tally[alert.severity] = (tally[alert.severity] || 0) + 1;
    counts.set(alert.patient_id, tally);
    const list = reasons.get(alert.patient_id) || [];
    list.push(`${kindLabel(alert.kind)} (${alert.severity})`);
    reasons.set(alert.patient_id, list);
  }
  const rows = patients.map((p) => ({
    patient_id: p.id,
    identifiers: p.identifiers,
    pathway: p.pathway,
    discharge_date: p.discharge_date,
    days_since_discharge: daysSince(p.discharge_date),
    reasons: reasons.get(p.id) || [],
    alerts: counts.get(p.id) || {},
    rank: worst.get(p.id) ?? 99,
  }));
  const since = (row) => row.days_since_discharge ?? Infinity;
  rows.sort((a, b) => a.rank - b.rank || since(a) - since(b));
  return rows;
}

function risk(row) {
  const parts = [];
  if (row.high_risk) parts.push(h("span", { class: "badge risk-high" }, "High risk"));
  for (const [key, name] of [["lace", "LACE"], ["hospital", "HOSPITAL"]]) {
    if (row[key] !== undefined && row[key] !== null) {
      parts.push(h("span", { class: "score" }, `${name} ${row[key]}`));
    }
  }
  return parts.length ? parts : h("span", { class: "muted none" }, "—");
}

/** Open alerts by severity: from the worklist's counts, or the panel's own tally. */
function alertBadges(row) {
  const counts = row.alerts || {};
  const badges = SEVERITIES.filter((sev) => counts[sev]).map((sev) =>
    h("span", { class: `badge sev-${sev}` }, `${counts[sev]} ${sev}`),
  );
  if (counts.snoozed) badges.push(h("span", { class: "score" }, `${counts.snoozed} snoozed`));
  // A transitional-care deadline due today or overdue (ranked above all but critical).
  for (const deadline of (row.deadlines || []).filter((d) => d.pressing)) {
    const state = deadline.left_hours < 0 ? "overdue" : "due today";
    badges.push(h("span", { class: "badge sev-high deadline", title: deadline.note }, `${deadline.name} ${state}`));
  }
  // One that something stands in for (two unsuccessful contact attempts in time): quietly.
  for (const deadline of (row.deadlines || []).filter((d) => d.satisfied)) {
    const text = `${deadline.name} ${deadline.satisfied}`;
    badges.push(h("span", { class: "badge deadline deadline-satisfied", title: deadline.note }, text));
  }
  return badges.length ? badges : h("span", { class: "muted none" }, "—");
}

function discharge(row) {
  if (row.days_since_discharge === null || row.days_since_discharge === undefined) {
    return h("span", { class: "muted" }, "—");
  }
  return h("span", { title: row.discharge_date || "" }, `day ${row.days_since_discharge}`);
}

function rowItem(row, index) {
  const reasons = row.reasons || [];
  return h(
    "li",
    { class: "wl-row", dataset: { patientId: row.patient_id } },
    h("span", { class: "wl-rank", "aria-label": `Priority ${index + 1}` }, index + 1),
    h(
      "a",
      { class: "wl-patient", href: `#patient/${row.patient_id}` },
      h("strong", {}, patientLabel(row)),
      row.identifiers && row.identifiers[0]
        ? h("small", { class: "muted" }, row.identifiers[0].system)
        : null,
    ),
    h("span", { class: "wl-pathway" }, h("span", { class: "chip" }, row.pathway || "—")),
    h("span", { class: "wl-discharge" }, h("span", { class: "label" }, "Discharge "), discharge(row)),
    h("span", { class: "wl-risk" }, risk(row)),
    h("span", { class: "wl-alerts" }, alertBadges(row)),
    h(
      "span",
      { class: "wl-reasons" },
      reasons.length
        ? h("ul", {}, reasons.slice(0, 4).map((r) => h("li", {}, r)))
        : h("span", { class: "muted" }, "No open findings"),
    ),
  );
}

export async function renderWorklist(root) {
  root.replaceChildren(h("h1", {}, "Worklist"), h("p", { class: "loading" }, "Loading worklist…"));
  let rows;
  let fallback = false;
  try {
    const worklist = await api("/worklist");
    rows = Array.isArray(worklist) ? worklist : worklist.patients;
  } catch (error) {
    if (!error.missingRoute) {
      root.replaceChildren(h("h1", {}, "Worklist"), h("p", { class: "error" }, errorText(error)));
      return;
    }
    rows = await panelRows();
    fallback = true;
  }
  const list = h(
    "ol",
    { class: "worklist", id: "worklist", dataset: { source: fallback ? "patients" : "worklist" } },
    rows.map(rowItem),
  );
  root.replaceChildren(
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "Worklist"),
      h("p", { class: "muted" }, fallback
        ? "Your panel, by open alerts and days since discharge (the hub has no worklist yet)."
        : "Your patients, highest priority first."),
    ),
    h(
      "div",
      { class: "wl-head", "aria-hidden": "true" },
      ["#", "Patient", "Pathway", "Discharge", "Risk", "Alerts", "Why"].map((t) => h("span", {}, t)),
    ),
    rows.length ? list : h("p", { class: "muted" }, "No patients on your panel."),
  );
}
