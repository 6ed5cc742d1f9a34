// What is recorded of each programme beside its time, on the patient page: the consent,
// the RPM set-up, the TCM complexity and milestones, each with who recorded it and when
// (the programme's `recorded`, GET /patients/{id}/programs); for a TCM programme, the
// unsuccessful attempts at the interactive contact and a form to record one
// (POST .../programs/{id}/contact-attempts; two in time stand in for the contact).

import { api } from "./api.js";
import { errorText, formatDateTime, h } from "./dom.js";

/** The facts in the order they are shown, with their labels. */
const FACTS = [
  ["consent", "Consent"],
  ["setup", "Device set-up"],
  ["complexity", "Complexity"],
  ["contact", "Interactive contact"],
  ["face_to_face", "Face-to-face visit"],
  ["med_reconciliation", "Medication reconciliation"],
];

/** A record's value as the page says it: "verbal, 2026-03-01", "2026-03-02 by RN Lee". */
export function recordValue(record) {
  switch (record.fact) {
    case "consent":
      return `${record.method}, ${record.on}`;
    case "setup":
      return `${record.on} by ${record.by}`;
    case "complexity":
      return record.complexity;
    case "contact":
      return formatDateTime(record.at);
    default:
      return record.on;
  }
}

/** "recorded by ann, Mar 3, 10:02"; older records kept neither. */
export function recorderText(record) {
  if (!record.recorded_by_name) return "recorded before who and when were kept";
  const when = record.recorded_at ? `, ${formatDateTime(record.recorded_at)}` : "";
  return `recorded by ${record.recorded_by_name}${when}`;
}

function factItem(fact, label, record) {
  return h(
    "li",
    { class: "program-fact", dataset: { fact, recordId: record.id } },
    h("span", { class: "fact-label" }, `${label}: `),
    h("span", { class: "fact-value" }, recordValue(record)),
    h("small", { class: "muted fact-recorder" }, ` — ${recorderText(record)}`),
  );
}

const METHODS = [
  ["telephone", "Telephone"],
  ["electronic", "Electronic (message, e-mail, video)"],
  ["in_person", "In person"],
];
const METHOD_LABELS = Object.fromEntries(METHODS);

function attemptItem(attempt) {
  const how = (METHOD_LABELS[attempt.method] || attempt.method).split(" (")[0].toLowerCase();
  return h(
    "li",
    { class: "contact-attempt", dataset: { recordId: attempt.id } },
    h("span", { class: "fact-label" }, "Unsuccessful contact attempt: "),
    h("span", { class: "fact-value" }, `${formatDateTime(attempt.at)}, ${how}`),
    h("small", { class: "muted fact-recorder" }, ` — by ${attempt.attempted_by_name}`),
    attempt.note ? h("span", { class: "muted" }, ` (${attempt.note})`) : "",
  );
}

/** "2026-03-03T14:05" in the browser's own time zone: a datetime-local input's value. */
function localInput(date) {
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 16);
}

/** The form that records the caller's unsuccessful attempt at the contact. */
function attemptForm(program, { base, refresh, report }) {
  const when = h("input", { type: "datetime-local", name: "at", value: localInput(new Date()) });
  const method = h(
    "select",
    { name: "method" },
    METHODS.map(([value, label]) => h("option", { value }, label)),
  );
  const note = h("input", { type: "text", name: "note", maxlength: 2000, placeholder: "note" });
  const button = h("button", { type: "submit", class: "btn btn-small" }, "Record attempt");
  const form = h(
    "form",
    { class: "attempt-form", "aria-label": "Unsuccessful contact attempt" },
    h("label", {}, "When ", when),
    h("label", {}, "How ", method),
    note,
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    const body = { at: new Date(when.value).toISOString(), method: method.value };
    if (note.value.trim()) body.note = note.value.trim();
    try {
      await api(`${base}/programs/${program.id}/contact-attempts`, { method: "POST", body });
    } catch (error) {
      report(errorText(error));
    }
    refresh();
  });
  return form;
}

/** The block of one programme's record (nothing when nothing is recorded, but for a TCM
 * programme: its contact attempts and their form). */
export function programRecord(program, actions) {
  const items = FACTS.filter(([fact]) => program.recorded[fact]).map(([fact, label]) =>
    factItem(fact, label, program.recorded[fact]),
  );
  const tcm = program.kind === "TCM";
  if (tcm) items.push(...program.contact_attempts.map(attemptItem));
  if (!items.length && !tcm) return "";
  return h(
    "div",
    { class: "program-record", dataset: { programId: program.id } },
    h("h3", {}, `${program.kind} · recorded`),
    h("ul", { class: "program-facts" }, items),
    tcm && !program.tcm.first_contact_at ? attemptForm(program, actions) : "",
  );
}
