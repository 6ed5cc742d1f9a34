// Corrections of what is recorded of a programme, on the patient page: a "Correct" button
// on each recorded fact opens a form with its value (what changes, and why; or Withdraw),
// POST .../programs/{id}/records/{record_id}/corrections; and a programme's "History"
// lists every record, corrected and withdrawn ones too, with who, when and why
// (GET .../programs/{id}/records). Nothing is overwritten: a correction is a new record.

import { api } from "./api.js";
import { errorText, h } from "./dom.js";
import {
  CONSENT_METHODS,
  CONTACT_METHODS,
  FACT_LABELS,
  recordValue,
  recorderText,
} from "./record_text.js";

/** "2026-03-03T14:05" in the browser's own time zone: a datetime-local input's value. */
export function localInput(value) {
  const date = new Date(value);
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 16);
}

function select(name, options, value) {
  return h(
    "select",
    { name, "aria-label": name },
    options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)),
  );
}

/** The inputs of a fact's value, filled with the record's: [name, input, to the body]. */
function valueInputs(record) {
  const day = () => ["on", h("input", { type: "date", name: "on", value: record.on }), (v) => v];
  const instant = () => [
    "at",
    h("input", { type: "datetime-local", name: "at", value: localInput(record.at) }),
    (v) => new Date(v).toISOString(),
  ];
  const text = (name, value) => [name, h("input", { type: "text", name, value: value || "" }), (v) => v];
  switch (record.fact) {
    case "consent":
      return [day(), ["method", select("method", CONSENT_METHODS, record.method), (v) => v]];
    case "setup":
      return [day(), text("by", record.by)];
    case "complexity": {
      const levels = [["moderate", "Moderate"], ["high", "High"]];
      return [["complexity", select("complexity", levels, record.complexity), (v) => v]];
    }
    case "contact":
      return [instant()];
    case "contact_attempt":
      return [
        instant(),
        ["method", select("method", CONTACT_METHODS, record.method), (v) => v],
        text("note", record.note),
      ];
    default:
      return [day()];
  }
}

function correctionForm(program, record, { base, refresh, report }) {
  const inputs = valueInputs(record);
  const reason = h("input", { type: "text", name: "reason", required: true, placeholder: "why" });
  const save = h("button", { type: "submit", class: "btn btn-small btn-primary" }, "Save correction");
  const withdraw = h("button", { type: "button", class: "btn btn-small btn-quiet" }, "Withdraw");
  const form = h(
    "form",
    { class: "correct-form", "aria-label": `Correct ${FACT_LABELS[record.fact]}` },
    inputs.map(([name, input]) => h("label", {}, `${name} `, input)),
    h("label", {}, "reason ", reason),
    save,
    withdraw,
  );
  const send = async (body) => {
    save.disabled = withdraw.disabled = true;
    const path = `${base}/programs/${program.id}/records/${record.id}/corrections`;
    try {
      await api(path, { method: "POST", body: { reason: reason.value.trim(), ...body } });
    } catch (error) {
      report(errorText(error));
    }
    refresh();
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = {};
    for (const [name, input, toBody] of inputs) {
      const before = name === "at" ? localInput(record[name]) : record[name] || "";
      if (input.value !== before) body[name] = input.value === "" ? null : toBody(input.value);
    }
    send(body);
  });
  withdraw.addEventListener("click", () => {
    if (form.reportValidity()) send({ withdraw: true });
  });
  return form;
}

/** The "Correct" button of a recorded fact; it opens the form under the item. */
export function correctButton(program, record, actions) {
  const button = h("button", { type: "button", class: "btn btn-small btn-quiet" }, "Correct");
  button.addEventListener("click", () => {
    button.replaceWith(correctionForm(program, record, actions));
  });
  return button;
}

function historyItem(record) {
  const later = record.superseded_by ? " record-superseded" : "";
  return h(
    "li",
    { class: `record-history-item${later}`, dataset: { recordId: record.id } },
    h("span", { class: "fact-label" }, `${FACT_LABELS[record.fact]}: `),
    h("span", { class: "fact-value" }, recordValue(record)),
    h("small", { class: "muted" }, ` — ${recorderText(record)}`),
    record.reason ? h("span", { class: "record-reason" }, ` (why: ${record.reason})`) : "",
  );
}

/** The programme's "History" button; it lists every record under the current ones, the
 * oldest first. */
export function historyButton(program, { base, report }) {
  const button = h("button", { type: "button", class: "btn btn-small btn-quiet" }, "History");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const records = await api(`${base}/programs/${program.id}/records`);
      const list = h("ol", { class: "record-history" }, records.map(historyItem));
      button.closest(".program-record").querySelector(".program-facts").after(list);
      button.remove();
    } catch (error) {
      report(errorText(error));
      button.disabled = false;
    }
  });
  return button;
}
