// A patient's Fitbit connection on the patient page: its status, a "Connect
// Fitbit" link (the authorize URL to open in the patient's browser) and
// "Disconnect" (revokes the grant at Fitbit). Hidden when the hub has no Fitbit.

import { api } from "./api.js";
import { errorText, formatDateTime, h } from "./dom.js";

const LABELS = {
  not_connected: "Not connected",
  connected: "Connected",
  revoked: "Access withdrawn by the patient in the Fitbit app",
  disconnected: "Disconnected",
};

async function fill(section, patientId) {
  const path = `/patients/${encodeURIComponent(patientId)}/fitbit`;
  let state;
  try {
    state = await api(path);
  } catch (error) {
    section.replaceChildren(h("h2", {}, "Fitbit"), h("p", { class: "error" }, errorText(error)));
    return;
  }
  if (!state.enabled && state.status === "not_connected") {
    section.hidden = true;
    return;
  }
  const lines = [h("p", { class: "fitbit-status" }, LABELS[state.status] || state.status)];
  if (state.status === "connected") {
    if (state.pulled_through) lines.push(h("p", {}, `Daily data through ${state.pulled_through}`));
    if (state.paused_until) {
      lines.push(h("p", {}, `Paused by Fitbit's rate limit until ${formatDateTime(state.paused_until)}`));
    }
    const stop = h("button", { type: "button", class: "secondary" }, "Disconnect");
    stop.addEventListener("click", async () => {
      stop.disabled = true;
      await api(path, { method: "DELETE" }).catch(() => null);
      fill(section, patientId);
    });
    lines.push(stop);
  } else if (state.enabled) {
    const link = h("button", { type: "button" }, "Connect Fitbit");
    link.addEventListener("click", async () => {
      link.disabled = true;
      try {
        const { authorize_url: url } = await api(`${path}/connect`);
        window.location.assign(url);
      } catch (error) {
        link.disabled = false;
        lines.push(h("p", { class: "error" }, errorText(error)));
        section.replaceChildren(h("h2", {}, "Fitbit"), ...lines);
      }
    });
    lines.push(link);
  }
  section.replaceChildren(h("h2", {}, "Fitbit"), ...lines);
}

/** The patient page's Fitbit section (filled in once the status is known). */
export function fitbitSection(patientId) {
  const section = h("section", { class: "fitbit", "aria-label": "Fitbit" }, h("h2", {}, "Fitbit"));
  fill(section, patientId);
  return section;
}
