// Alerts: the queue of unresolved alerts, and the card (acknowledge, resolve,
// snooze) that the queue and the patient page both show.

import { api } from "./api.js";
import {
  errorText,
  formatDateTime,
  h,
  kindLabel,
  patientLabel,
  relativeTime,
} from "./dom.js";

const SNOOZE_CHOICES = [
  [60, "1 hour"],
  [240, "4 hours"],
  [1440, "1 day"],
];

/** Unresolved alerts (of one patient, if given) in the hub's order: most severe first. */
export async function unresolvedAlerts(patientId) {
  return api("/alerts", { query: { status: "unresolved", patient_id: patientId } });
}

/** A patient's alerts, resolved ones too (for the charts' markers). */
export async function patientAlerts(patientId) {
  return api("/alerts", { query: { status: "all", patient_id: patientId } });
}

function isSnoozed(alert) {
  return Boolean(alert.snoozed_until) && new Date(alert.snoozed_until) > new Date();
}

function statusText(alert) {
  if (alert.status === "resolved") return "Resolved";
  if (isSnoozed(alert)) return `Snoozed until ${formatDateTime(alert.snoozed_until)}`;
  if (alert.status === "acknowledged") {
    return alert.acknowledged_at
      ? `Acknowledged ${relativeTime(alert.acknowledged_at)}`
      : "Acknowledged";
  }
  return "Open";
}

/**
 * One alert with its actions. `patient` (optional) names the patient with a
 * link to their page; `onChange(alert)` is called with the alert the hub
 * returns after an action.
 */
export function alertCard(alert, { patient, onChange } = {}) {
  const note = h("input", {
    type: "text",
    class: "note",
    name: "note",
    maxlength: 500,
    placeholder: "Note (optional)",
    "aria-label": "Note",
  });
  const snoozeFor = h(
    "select",
    { class: "snooze-for", "aria-label": "Snooze for" },
    SNOOZE_CHOICES.map(([minutes, label]) => h("option", { value: minutes }, label)),
  );
  const problem = h("p", { class: "error", role: "alert", hidden: true });
  const buttons = [];

  async function act(action, extra = {}) {
    buttons.forEach((b) => (b.disabled = true));
    problem.hidden = true;
    const body = { ...extra };
    if (note.value.trim()) body.note = note.value.trim();
    try {
      const updated = await api(`/alerts/${alert.id}/${action}`, { method: "POST", body });
      const replacement = alertCard(updated, { patient, onChange });
      card.replaceWith(replacement);
      if (onChange) onChange(updated, replacement);
    } catch (error) {
      problem.textContent = `Could not ${action} this alert: ${errorText(error)}`;
      problem.hidden = false;
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  const button = (cls, label, onclick) =>
    h("button", { type: "button", class: `btn ${cls}`, onclick }, label);
  const resolved = alert.status === "resolved";
  if (!resolved) {
    if (alert.status !== "acknowledged") {
      buttons.push(button("btn-primary act-ack", "Acknowledge", () => act("ack")));
    }
    buttons.push(
      button("act-resolve", "Resolve", () => act("resolve")),
      button("act-snooze", "Snooze", () => act("snooze", { minutes: Number(snoozeFor.value) })),
    );
  }

  const findings = alert.evidence_count
    ? ` · ${alert.evidence_count} finding${alert.evidence_count === 1 ? "" : "s"}`
    : "";
  const patientLink = patient
    ? h("a", { href: `#patient/${alert.patient_id}`, class: "alert-patient" }, patientLabel(patient))
    : null;
  const classes = ["alert-card", `sev-${alert.severity}`, `status-${alert.status}`];
  if (isSnoozed(alert)) classes.push("snoozed");
  const card = h(
    "article",
    {
      class: classes.join(" "),
      id: `alert-${alert.id}`,
      dataset: { alertId: alert.id, patientId: alert.patient_id, status: alert.status },
      tabindex: -1,
    },
    h(
      "header",
      { class: "alert-head" },
      h("span", { class: `badge sev-${alert.severity}` }, alert.severity),
      h("strong", { class: "alert-kind" }, kindLabel(alert.kind)),
      patientLink,
      h("span", { class: "alert-status" }, statusText(alert)),
    ),
    h("p", { class: "alert-reason" }, alert.reason),
    h(
      "p",
      { class: "alert-meta" },
      h(
        "time",
        { datetime: alert.opened_at, title: formatDateTime(alert.opened_at) },
        `Opened ${relativeTime(alert.opened_at)}`,
      ),
      findings,
    ),
    resolved ? null : h("div", { class: "alert-actions" }, note, buttons, snoozeFor),
    problem,
  );
  return card;
}

/** A message for when the alert routes are missing or failing. */
export function alertsUnavailable(error) {
  const text = error && error.missingRoute
    ? "The alert service is not available on this hub yet."
    : `Alerts could not be loaded: ${errorText(error)}`;
  return h("p", { class: "muted alerts-unavailable" }, text);
}

/** The alert queue: every unresolved alert on the caller's panel. */
export async function renderAlertQueue(root, ctx) {
  root.replaceChildren(h("h1", {}, "Alerts"), h("p", { class: "loading" }, "Loading alerts…"));
  let alerts;
  let patients = [];
  try {
    [alerts, patients] = await Promise.all([unresolvedAlerts(), api("/patients")]);
  } catch (error) {
    root.replaceChildren(h("h1", {}, "Alerts"), alertsUnavailable(error));
    return;
  }
  const byId = new Map(patients.map((p) => [p.id, p]));
  const list = h("div", { class: "alert-list", id: "alert-queue" });
  const empty = h("p", { class: "muted empty-queue" }, "No unresolved alerts. ");
  function refresh() {
    const open = list.querySelectorAll(".alert-card:not(.status-resolved)").length;
    empty.hidden = open > 0;
    ctx.setAlertCount(list.querySelectorAll(".alert-card:not(.status-resolved):not(.snoozed)").length);
  }
  for (const alert of alerts) {
    const patient = byId.get(alert.patient_id) || { id: alert.patient_id };
    list.append(alertCard(alert, { patient, onChange: refresh }));
  }
  root.replaceChildren(
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "Alerts"),
      h("p", { class: "muted" }, "Unresolved, most severe first; snoozed ones last."),
    ),
    empty,
    list,
  );
  refresh();
}
