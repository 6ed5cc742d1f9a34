// How the patient page says what is recorded of a programme (js/program_record.js and its
// corrections, js/record_corrections.js): the facts' labels and values, who recorded one.

import { formatDateTime } from "./dom.js";

/** The facts in the order they are shown, with their labels. */
export const FACTS = [
  ["consent", "Consent"],
  ["setup", "Device set-up"],
  ["complexity", "Complexity"],
  ["contact", "Interactive contact"],
  ["face_to_face", "Face-to-face visit"],
  ["med_reconciliation", "Medication reconciliation"],
  ["contact_attempt", "Unsuccessful contact attempt"],
];
export const FACT_LABELS = Object.fromEntries(FACTS);

/** How a contact was attempted. */
export const CONTACT_METHODS = [
  ["telephone", "Telephone"],
  ["electronic", "Electronic (message, e-mail, video)"],
  ["in_person", "In person"],
];
export const CONSENT_METHODS = [
  ["verbal", "Verbal"],
  ["written", "Written"],
  ["electronic", "Electronic"],
];

function contactHow(method) {
  const found = CONTACT_METHODS.find(([value]) => value === method);
  return (found ? found[1] : method).split(" (")[0].toLowerCase();
}

/** A record's value as the page says it: "verbal, 2026-03-01", "2026-03-02 by RN Lee". */
export function recordValue(record) {
  if (record.withdrawn) return "withdrawn";
  switch (record.fact) {
    case "consent":
      return `${record.method}, ${record.on}`;
    case "setup":
      return `${record.on} by ${record.by}`;
    case "complexity":
      return record.complexity;
    case "contact":
      return formatDateTime(record.at);
    case "contact_attempt":
      return `${formatDateTime(record.at)}, ${contactHow(record.method)}`;
    default:
      return record.on;
  }
}

/** "recorded by ann, Mar 3, 10:02" ("corrected by" for a correction); older records kept
 * neither. */
export function recorderText(record) {
  if (!record.recorded_by_name) return "recorded before who and when were kept";
  const when = record.recorded_at ? `, ${formatDateTime(record.recorded_at)}` : "";
  const verb = record.supersedes ? "corrected" : "recorded";
  return `${verb} by ${record.recorded_by_name}${when}`;
}
