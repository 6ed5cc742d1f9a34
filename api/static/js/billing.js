// The supervisor's billing page (#billing/<YYYY-MM>): the month's rows of the caller's
// panel (GET /billing?month=), filters (billable, at risk, missing consent or order),
// a CSV download, and the sign-off that freezes the month (POST /billing/<month>/sign-off).

import { api, apiWithHeaders } from "./api.js";
import { errorText, formatDateTime, h, patientLabel } from "./dom.js";

const FILTERS = [
  ["all", "All", () => true],
  ["billable", "Billable", (r) => r.status === "billable"],
  ["at_risk", "At risk", (r) => r.status === "at_risk"],
  [
    "missing",
    "Missing consent or order",
    (r) => r.flags.includes("missing_consent") || r.flags.includes("no_order"),
  ],
];
const FLAG_LABELS = {
  missing_consent: "no consent",
  no_order: "no order",
  no_interactive_contact: "no interactive contact",
  setup_not_recorded: "set-up not recorded",
  no_face_to_face: "no face-to-face visit",
  complexity_missing: "complexity not recorded",
  med_reconciliation_missing: "no medication reconciliation",
};
const SERVICE_LABELS = {
  device_days: "Device days",
  setup: "Set-up",
  time: "Time",
  transitional_care: "Transitional care",
};
const STATUS_LABELS = { billable: "Billable", at_risk: "At risk", none: "Nothing earned" };
const COLUMNS = [
  "Patient", "Programme", "Service", "Period", "Code", "Units", "Counted", "Status", "Missing",
];

/** The month before this one, as "YYYY-MM" (the one usually signed off). */
export function lastMonth(now = new Date()) {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return d.toISOString().slice(0, 7);
}

function codeCell(row) {
  if (row.code) return h("strong", {}, row.code);
  if (row.would_earn) {
    return h("span", { class: "muted", title: "reached, not billable yet" }, `(${row.would_earn})`);
  }
  return h("span", { class: "muted" }, "—");
}

function rowItem(row) {
  const period = `${row.first_day} – ${row.last_day}`;
  const status = STATUS_LABELS[row.status] || row.status;
  return h(
    "tr",
    { class: "billing-row", dataset: { patientId: row.patient_id, status: row.status } },
    h("td", {}, h("a", { href: `#patient/${row.patient_id}` }, patientLabel(row))),
    h("td", {}, row.program),
    h("td", {}, SERVICE_LABELS[row.service] || row.service),
    h("td", {}, period),
    h("td", { class: "billing-code" }, codeCell(row)),
    h("td", {}, row.units || ""),
    h("td", {}, `${row.quantity} ${row.unit}`),
    h("td", {}, h("span", { class: `billing-status billing-${row.status}` }, status)),
    h("td", { class: "billing-flags" }, row.flags.map((f) => FLAG_LABELS[f] || f).join(", ")),
  );
}

function signedText(headers) {
  const at = formatDateTime(headers.get("X-Billing-Signed-At"));
  const sha = headers.get("X-Billing-SHA256") || "";
  return `Signed off by ${headers.get("X-Billing-Signed-By")} on ${at}. SHA-256 ${sha}.`;
}

async function downloadCsv(month) {
  const query = { month, format: "csv" };
  const { data } = await apiWithHeaders("/billing", { query, text: true });
  const link = h("a", {
    href: URL.createObjectURL(new Blob([data], { type: "text/csv" })),
    download: `billing-${month}.csv`,
  });
  link.click();
  URL.revokeObjectURL(link.href);
}

function table(rows, filter) {
  const keep = FILTERS.find(([key]) => key === filter)[2];
  const shown = rows.filter(keep);
  if (!shown.length) return h("p", { class: "muted billing-empty" }, "No rows.");
  return h(
    "table",
    { class: "devices billing-table" },
    h("thead", {}, h("tr", {}, COLUMNS.map((t) => h("th", {}, t)))),
    h("tbody", {}, shown.map(rowItem)),
  );
}

export async function renderBilling(root, ctx, { month } = {}) {
  const wanted = /^\d{4}-\d{2}$/.test(month || "") ? month : lastMonth();
  const head = h(
    "div",
    { class: "page-head" },
    h("h1", {}, "Billing"),
    h(
      "label",
      { class: "billing-month" },
      "Month ",
      h("input", {
        type: "month",
        value: wanted,
        onchange: (e) => {
          if (e.target.value) window.location.hash = `#billing/${e.target.value}`;
        },
      }),
    ),
  );
  root.replaceChildren(head, h("p", { class: "loading" }, "Loading the month…"));
  let answer;
  try {
    answer = await apiWithHeaders("/billing", { query: { month: wanted } });
  } catch (error) {
    root.replaceChildren(head, h("p", { class: "error" }, errorText(error)));
    return;
  }
  // The document has the care rows, then the device rows; here, a patient's together.
  const order = Object.keys(SERVICE_LABELS);
  const rows = [...answer.data.rows].sort(
    (a, b) =>
      patientLabel(a).localeCompare(patientLabel(b)) ||
      a.program.localeCompare(b.program) ||
      order.indexOf(a.service) - order.indexOf(b.service) ||
      a.first_day.localeCompare(b.first_day),
  );
  const signed = answer.headers.get("X-Billing-Signed") === "true";
  let filter = "all";
  const body = h("div", { class: "billing-body" }, table(rows, filter));
  const filters = h(
    "div",
    { class: "billing-filters", role: "group", "aria-label": "Show" },
    FILTERS.map(([key, label, keep]) =>
      h(
        "button",
        {
          type: "button",
          class: "btn btn-small",
          dataset: { filter: key },
          "aria-pressed": String(key === filter),
          onclick: (e) => {
            filter = key;
            for (const b of filters.querySelectorAll("button")) {
              b.setAttribute("aria-pressed", String(b === e.currentTarget));
            }
            body.replaceChildren(table(rows, filter));
          },
        },
        `${label} (${rows.filter(keep).length})`,
      ),
    ),
  );
  const status = h(
    "p",
    { class: signed ? "billing-signed" : "muted billing-open" },
    signed ? signedText(answer.headers) : "Not signed off: the rows are counted anew each time.",
  );
  const download = h(
    "button",
    {
      type: "button",
      class: "btn btn-small",
      onclick: () => downloadCsv(wanted).catch((e) => ctx.notify(errorText(e), "error")),
    },
    "Download CSV",
  );
  const actions = h("div", { class: "billing-actions" }, download);
  if (!signed) {
    const sign = h(
      "button",
      {
        type: "button",
        class: "btn btn-primary",
        onclick: async () => {
          sign.disabled = true;
          try {
            const done = await api(`/billing/${wanted}/sign-off`, { method: "POST" });
            ctx.notify(`${done.month} signed off: ${done.row_count} rows.`);
            await renderBilling(root, ctx, { month: wanted });
          } catch (error) {
            sign.disabled = false;
            actions.append(h("p", { class: "error" }, errorText(error)));
          }
        },
      },
      `Sign off ${wanted}`,
    );
    actions.append(sign);
  }
  root.replaceChildren(head, status, actions, filters, body);
}
