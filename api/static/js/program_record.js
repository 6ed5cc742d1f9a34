// What is recorded of each programme beside its time, on the patient page: the consent,
// the RPM set-up, the TCM complexity and milestones, each with who recorded it and when
// (the programme's `recorded`, GET /patients/{id}/programs).

import { formatDateTime, h } from "./dom.js";

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

/** The block of one programme's record, or nothing when nothing is recorded. */
export function programRecord(program) {
  const items = FACTS.filter(([fact]) => program.recorded[fact]).map(([fact, label]) =>
    factItem(fact, label, program.recorded[fact]),
  );
  if (!items.length) return "";
  return h(
    "div",
    { class: "program-record", dataset: { programId: program.id } },
    h("h3", {}, `${program.kind} · recorded`),
    h("ul", { class: "program-facts" }, items),
  );
}
