// What is recorded of each programme beside its time, on the patient page: the consent,
// the RPM set-up, the TCM complexity and milestones, each with who recorded it and when
// (the programme's `recorded`, GET /patients/{id}/programs), each with a "Correct" button
// and the programme's "History" (js/record_corrections.js); for a TCM programme, the
// unsuccessful attempts at the interactive contact and a form to record one
// (POST .../programs/{id}/contact-attempts; two in time stand in for the contact).

import { api } from "./api.js";
import { errorText, h } from "./dom.js";
import { correctButton, historyButton, localInput } from "./record_corrections.js";
import { CONTACT_METHODS, FACTS, recordValue, recorderText } from "./record_text.js";

function recordItem(program, record, label, actions) {
  const isAttempt = record.fact === "contact_attempt";
  const who = isAttempt ? `by ${record.attempted_by_name}` : recorderText(record);
  return h(
    "li",
    {
      class: isAttempt ? "contact-attempt" : "program-fact",
      dataset: { fact: record.fact, recordId: record.id },
    },
    h("span", { class: "fact-label" }, `${label}: `),
    h("span", { class: "fact-value" }, recordValue(record)),
    h("small", { class: "muted fact-recorder" }, ` — ${who}`),
    isAttempt && record.note ? h("span", { class: "muted" }, ` (${record.note})`) : "",
    record.supersedes ? h("span", { class: "muted record-corrected" }, " (corrected)") : "",
    " ",
    correctButton(program, record, actions),
  );
}

/** The form that records the caller's unsuccessful attempt at the contact. */
function attemptForm(program, { base, refresh, report }) {
  const when = h("input", { type: "datetime-local", name: "at", value: localInput(Date.now()) });
  const method = h(
    "select",
    { name: "method" },
    CONTACT_METHODS.map(([value, label]) => h("option", { value }, label)),
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
 * programme: its contact attempts and their form). `actions`: the section's `base` path,
 * its `refresh` and its `report` of an error. */
export function programRecord(program, actions) {
  const items = FACTS.filter(([fact]) => program.recorded[fact]).map(([fact, label]) =>
    recordItem(program, program.recorded[fact], label, actions),
  );
  const tcm = program.kind === "TCM";
  const attemptLabel = FACTS.find(([fact]) => fact === "contact_attempt")[1];
  if (tcm) {
    items.push(...program.contact_attempts.map((a) => recordItem(program, a, attemptLabel, actions)));
  }
  if (!items.length && !tcm) return "";
  return h(
    "div",
    { class: "program-record", dataset: { programId: program.id } },
    h("h3", {}, `${program.kind} · recorded `, historyButton(program, actions)),
    h("ul", { class: "program-facts" }, items),
    tcm && !program.tcm.first_contact_at ? attemptForm(program, actions) : "",
  );
}
