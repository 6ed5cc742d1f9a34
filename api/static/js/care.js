// The patient page's care progress: each open transitional-care episode's clock (the
// interactive contact and the face-to-face visit, with their deadlines and the time
// left), and each open RPM or CCM programme's period and month ("days 12 of 16",
// "minutes 14 of 20", interactive contact yes/no). GET /patients/{id}/care-progress.

import { api } from "./api.js";
import { errorText, h } from "./dom.js";

/** "39 h", or "3 d" from 48 hours on. */
function hours(value) {
  const size = Math.abs(value);
  return size < 48 ? `${Math.floor(size)} h` : `${Math.floor(size / 24)} d`;
}

/** "once", "twice", "3 times". */
function times(count) {
  return count === 1 ? "once" : count === 2 ? "twice" : `${count} times`;
}

/** Where a deadline stands: "4 d left", "due today, 8 h left", "overdue 5 d", "met …",
 * "attempted twice". */
function standing(clock) {
  const met = String(clock.met || "").slice(0, 10);
  switch (clock.status) {
    case "met":
      return `met ${met}`;
    case "met_late":
      return `met late, ${met}`;
    case "attempted":
      return `attempted ${times(clock.attempts)}`;
    case "due_today":
      return `due today, ${hours(clock.left_hours)} left`;
    case "overdue":
      return `overdue ${hours(clock.left_hours)}`;
    default:
      return `${hours(clock.left_hours)} left`;
  }
}

function clockItem(clock) {
  return h(
    "li",
    { class: `tcm-clock clock-${clock.status}`, dataset: { status: clock.status } },
    h("strong", {}, clock.name),
    ` — due ${clock.due} `,
    h("span", { class: "clock-status" }, `(${standing(clock)})`),
    h("br"),
    h("small", { class: "muted" }, clock.note),
  );
}

function tcmBlock(tcm) {
  return h(
    "div",
    { class: "tcm", dataset: { programId: tcm.program_id } },
    h(
      "p",
      {},
      h("strong", {}, "Transitional care"),
      ` · discharged ${tcm.discharged_on} · complexity ${tcm.complexity || "not recorded"}`,
      ` · period ends ${tcm.period_ends}`,
    ),
    h("ul", { class: "tcm-clocks" }, tcm.clocks.map(clockItem)),
  );
}

function programLine(p) {
  const parts = [];
  if (p.period) {
    const { days, target_days: target, target_code: code, days_left: left } = p.period;
    parts.push(
      h("span", { class: "progress-days" }, `days ${days} of ${target} (${code}), ${left} left`),
    );
  }
  if (p.month) {
    const m = p.month;
    const minutes = m.next_at === null ? `minutes ${m.minutes}` : `minutes ${m.minutes} of ${m.next_at} (${m.next_code})`;
    parts.push(h("span", { class: "progress-minutes" }, minutes));
    parts.push(
      h("span", { class: "progress-contact" }, `interactive contact ${m.interactive ? "yes" : "no"}`),
    );
  }
  const risky = (p.period && p.period.at_risk) || (p.month && p.month.at_risk);
  return h(
    "li",
    { class: `program-progress${risky ? " at-risk" : ""}`, dataset: { programId: p.program_id } },
    h("strong", {}, p.kind),
    " · ",
    parts.flatMap((part, i) => (i ? [" · ", part] : [part])),
    risky ? h("span", { class: "badge sev-low" }, "at risk") : "",
    h("br"),
    h("small", { class: "muted" }, [p.period && p.period.text, p.month && p.month.text].filter(Boolean).join("; ")),
  );
}

async function fill(section, patientId) {
  const head = h("h2", {}, "Care progress");
  let progress;
  try {
    progress = await api(`/patients/${encodeURIComponent(patientId)}/care-progress`);
  } catch (error) {
    section.replaceChildren(head, h("p", { class: "error" }, errorText(error)));
    return;
  }
  if (!progress.tcm.length && !progress.programs.length) {
    section.replaceChildren(head, h("p", { class: "muted" }, "No open programme."));
    return;
  }
  section.replaceChildren(
    head,
    ...progress.tcm.map(tcmBlock),
    progress.programs.length
      ? h("ul", { class: "program-progress-list" }, progress.programs.map(programLine))
      : "",
  );
}

/** The section; it fills itself once the progress is loaded. */
export function careSection(patientId) {
  const section = h(
    "section",
    { class: "patient-care", "aria-label": "Care progress" },
    h("h2", {}, "Care progress"),
    h("p", { class: "loading" }, "Loading care progress…"),
  );
  fill(section, patientId);
  return section;
}
