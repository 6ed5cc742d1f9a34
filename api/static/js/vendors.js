// The patient page's vendor clouds: one section per vendor the hub lists for
// the patient (GET /patients/{id}/vendors), so this file names no vendor. Each
// shows the connection's state (connected, with how far its data is complete;
// withdrawn at the vendor, to be connected again; disconnected), a "Connect"
// button (the vendor's authorize URL, opened in this tab) and "Disconnect"
// (revokes the grant at the vendor). A vendor the hub has not configured is
// shown only if the patient was connected to it.

import { api } from "./api.js";
import { errorText, formatDateTime, h } from "./dom.js";

function statusLine(state) {
  switch (state.status) {
    case "connected":
      return "Connected";
    case "revoked":
      return `Access withdrawn at ${state.label}: needs connecting again`;
    case "disconnected":
      return "Disconnected";
    default:
      return "Not connected";
  }
}

function details(state) {
  if (state.status !== "connected") return [];
  const lines = [];
  lines.push(
    h("p", {}, state.pulled_through ? `Data complete through ${state.pulled_through}` : "No pull yet"),
  );
  if (state.paused_until) {
    const why = state.last_error === "rate_limited" ? `${state.label}'s rate limit` : "a failed pull";
    lines.push(h("p", {}, `Paused by ${why} until ${formatDateTime(state.paused_until)}`));
  } else if (state.next_pull_at) {
    lines.push(h("p", { class: "muted" }, `Next pull ${formatDateTime(state.next_pull_at)}`));
  }
  return lines;
}

function render(section, patientId, state, problem) {
  const path = `/patients/${encodeURIComponent(patientId)}/${encodeURIComponent(state.vendor)}`;
  const lines = [h("p", { class: "vendor-status" }, statusLine(state)), ...details(state)];
  if (problem) lines.push(h("p", { class: "error" }, problem));
  if (state.status === "connected") {
    const stop = h("button", { type: "button", class: "secondary" }, "Disconnect");
    stop.addEventListener("click", async () => {
      stop.disabled = true;
      try {
        await api(path, { method: "DELETE" });
        refresh(section, patientId, state);
      } catch (error) {
        render(section, patientId, state, `Could not disconnect: ${errorText(error)}`);
      }
    });
    lines.push(stop);
  } else if (state.enabled) {
    const again = state.status === "revoked" || state.status === "disconnected";
    const link = h("button", { type: "button" }, `${again ? "Reconnect" : "Connect"} ${state.label}`);
    link.addEventListener("click", async () => {
      link.disabled = true;
      try {
        const { authorize_url: url } = await api(`${path}/connect`);
        window.location.assign(url);
      } catch (error) {
        render(section, patientId, state, errorText(error));
      }
    });
    lines.push(link);
  }
  section.replaceChildren(h("h2", {}, state.label), ...lines);
}

async function refresh(section, patientId, state) {
  try {
    const path = `/patients/${encodeURIComponent(patientId)}/${encodeURIComponent(state.vendor)}`;
    render(section, patientId, await api(path));
  } catch (error) {
    render(section, patientId, state, errorText(error));
  }
}

function vendorSection(patientId, state) {
  const section = h("section", { class: `vendor ${state.vendor}`, "aria-label": state.label });
  render(section, patientId, state);
  return section;
}

/** The patient page's vendor sections (filled in once the hub has listed its vendors). */
export function vendorSections(patientId) {
  const holder = h("div", { class: "vendors" });
  api(`/patients/${encodeURIComponent(patientId)}/vendors`).then(
    ({ vendors }) => {
      const shown = vendors.filter((state) => state.enabled || state.status !== "not_connected");
      holder.replaceChildren(...shown.map((state) => vendorSection(patientId, state)));
    },
    (error) => {
      const text = `Could not load the vendor connections: ${errorText(error)}`;
      holder.replaceChildren(h("p", { class: "error" }, text));
    },
  );
  return holder;
}
