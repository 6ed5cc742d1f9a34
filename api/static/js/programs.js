// The patient page's Programmes section: the patient's care programmes (RPM, CCM,
// TCM) with their consent and the minutes logged in the patient's month (their calendar
// and zone, counted as billing counts them: GET /month-time), what is recorded of each
// with who recorded it (js/program_record.js), the caller's timer on
// the patient (kept by the hub, so a reload or another tab finds it running), and
// the latest time entries.

import { api } from "./api.js";
import { errorText, formatDateTime, h } from "./dom.js";
import { programRecord } from "./program_record.js";

const ACTIVITIES = [
  ["data_review", "Data review"],
  ["call", "Call"],
  ["care_plan_update", "Care plan update"],
  ["medication_reconciliation", "Medication reconciliation"],
  ["education", "Education"],
  ["other", "Other"],
];
const ACTIVITY_LABELS = Object.fromEntries(ACTIVITIES);
const SHOWN_ENTRIES = 10;

function consentText(program) {
  if (program.consent) return `${program.consent.method}, ${program.consent.on}`;
  return program.kind === "TCM" ? "not needed" : "none recorded";
}

function programRow(program, minutes) {
  const conditions = program.conditions.length ? [h("br"), program.conditions.join(", ")] : "";
  const missing = !program.consent && program.kind !== "TCM";
  return h(
    "tr",
    { class: `program${program.ended_on ? " program-ended" : ""}`, dataset: { programId: program.id } },
    h("td", {}, h("strong", {}, program.kind), conditions),
    h("td", {}, program.started_on, " – ", program.ended_on || "ongoing"),
    h("td", {}, program.ordering.name, h("br"), h("code", {}, program.ordering.npi)),
    h("td", { class: missing ? "consent-missing" : "" }, consentText(program)),
    h("td", { class: "program-minutes" }, `${minutes || 0} min`),
  );
}

/** "7 min", or "7 min 3 s". */
function duration(seconds) {
  const rest = seconds % 60;
  return `${Math.floor(seconds / 60)} min${rest ? ` ${rest} s` : ""}`;
}

function entryRow(entry) {
  const state = entry.counts ? "" : entry.superseded_by ? "corrected" : "withdrawn";
  const activity = ACTIVITY_LABELS[entry.activity] || entry.activity;
  return h(
    "li",
    { class: `time-entry${entry.counts ? "" : " time-entry-void"}`, dataset: { entryId: entry.id } },
    h("time", { datetime: entry.started_at }, formatDateTime(entry.started_at)),
    ` · ${entry.program_kind} · ${duration(entry.seconds)} · ${activity}`,
    entry.interactive ? " · live contact" : "",
    state ? ` (${state})` : "",
    entry.note ? h("span", { class: "muted" }, ` — ${entry.note}`) : "",
  );
}

function activityPicker() {
  return h(
    "select",
    { name: "activity", "aria-label": "Activity" },
    ACTIVITIES.map(([value, label]) => h("option", { value }, label)),
  );
}

/** The timer controls: Start (toward an open programme), or the running timer's Stop. */
function timerControls(timer, programs, base, refresh, report) {
  const act = async (path, options) => {
    try {
      await api(`${base}/timer${path}`, options);
    } catch (error) {
      report(errorText(error));
    }
    refresh();
  };
  if (timer) {
    const kind = (programs.find((p) => p.id === timer.program_id) || {}).kind || "programme";
    const since = formatDateTime(timer.started_at);
    const activity = activityPicker();
    const live = h("input", { type: "checkbox", name: "interactive" });
    const stop = h("button", { type: "button", class: "btn btn-small btn-primary" }, "Stop");
    stop.addEventListener("click", () => {
      stop.disabled = true;
      act("/stop", { method: "POST", body: { activity: activity.value, interactive: live.checked } });
    });
    const discard = h("button", { type: "button", class: "btn btn-small btn-quiet" }, "Discard");
    discard.addEventListener("click", () => act("", { method: "DELETE" }));
    return h(
      "div",
      { class: "timer timer-running", dataset: { startedAt: timer.started_at } },
      h("span", { class: "timer-state" }, `Timer running (${kind}) since ${since}`),
      activity,
      h("label", {}, live, " live contact"),
      stop,
      discard,
    );
  }
  const open = programs.filter((p) => !p.ended_on);
  if (!open.length) return h("p", { class: "muted timer" }, "No open programme to log time toward.");
  const which = h(
    "select",
    { name: "program", "aria-label": "Programme" },
    open.map((p) => h("option", { value: p.id }, p.kind)),
  );
  const start = h("button", { type: "button", class: "btn btn-small" }, "Start timer");
  start.addEventListener("click", () => {
    start.disabled = true;
    act("/start", { method: "POST", body: { program_id: Number(which.value) } });
  });
  return h("div", { class: "timer" }, which, start);
}

async function fill(section, patientId) {
  const base = `/patients/${encodeURIComponent(patientId)}`;
  const head = h("h2", {}, "Programmes and time");
  const problem = h("p", { class: "error", hidden: true });
  const report = (text) => {
    problem.textContent = text;
    problem.hidden = false;
  };
  let programs, entries, timer, month;
  try {
    [programs, entries, timer, month] = await Promise.all([
      api(`${base}/programs`),
      api(`${base}/time-entries`),
      api(`${base}/timer`),
      api(`${base}/month-time`),
    ]);
  } catch (error) {
    section.replaceChildren(head, h("p", { class: "error" }, errorText(error)));
    return;
  }
  if (!programs.length) {
    section.replaceChildren(head, h("p", { class: "muted" }, "Not enrolled in a care programme."));
    return;
  }
  // The patient's own month, counted as billing counts it (GET /month-time).
  const minutes = Object.fromEntries(month.programs.map((p) => [p.program_id, p.minutes]));
  const refresh = () =>
    fill(section, patientId).then(() => {
      if (!problem.hidden) section.append(problem);
    });
  const columns = ["Programme", "Dates", "Ordering", "Consent", `This month (${month.month}, ${month.time_zone})`];
  section.replaceChildren(
    head,
    h(
      "table",
      { class: "devices programs" },
      h("thead", {}, h("tr", {}, columns.map((name) => h("th", { scope: "col" }, name)))),
      h("tbody", {}, programs.map((p) => programRow(p, minutes[p.id]))),
    ),
    h(
      "div",
      { class: "program-records" },
      programs.map((p) => programRecord(p, { base, refresh, report })),
    ),
    timerControls(timer, programs, base, refresh, report),
    h("ul", { class: "time-entries" }, entries.slice(-SHOWN_ENTRIES).reverse().map(entryRow)),
  );
}

/** The section; it fills itself once the programmes, entries and timer are loaded. */
export function programsSection(patientId) {
  const section = h(
    "section",
    { class: "patient-programs", "aria-label": "Programmes and time" },
    h("h2", {}, "Programmes and time"),
    h("p", { class: "loading" }, "Loading programmes…"),
  );
  fill(section, patientId);
  return section;
}
