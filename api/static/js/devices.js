// The patient page's Devices section: each device's life cycle, its last
// reading, battery, firmware and signal, and its gateway's presence.

import { api } from "./api.js";
import { errorText, h, relativeTime } from "./dom.js";

const KIND_LABELS = {
  scale: "Scale",
  bp_cuff: "Blood pressure cuff",
  pulse_oximeter: "Pulse oximeter",
  multi: "Multi-measure",
};

/** A short "when" with the exact time as a tooltip; "never" when missing. */
function when(value) {
  if (!value) return h("span", { class: "muted" }, "never");
  return h("time", { datetime: value, title: new Date(value).toLocaleString() }, relativeTime(value));
}

function meta(device) {
  const parts = [];
  if (device.battery_percent !== null) parts.push(`battery ${device.battery_percent} %`);
  if (device.signal_dbm !== null) parts.push(`signal ${device.signal_dbm} dBm`);
  if (device.firmware !== null) parts.push(`firmware ${device.firmware}`);
  if (!parts.length) return h("span", { class: "muted" }, "no report");
  return h("span", {}, parts.join(" · "), " (", when(device.meta_reported_at), ")");
}

function gateway(device) {
  const presence = device.gateway_status === "disabled" ? "disabled" : device.presence || "unknown";
  return h(
    "span",
    {},
    h("span", { class: `presence presence-${presence}` }, presence),
    device.presence_at ? [" since ", when(device.presence_at)] : "",
    " · last seen ",
    when(device.gateway_last_seen_at),
  );
}

function row(device) {
  const low = device.battery_percent !== null && device.battery_percent <= 10;
  return h(
    "tr",
    { class: `device device-${device.status}${low ? " battery-low" : ""}`, "data-serial": device.serial },
    h("td", {}, KIND_LABELS[device.kind] || device.kind, h("br"), h("code", {}, device.serial)),
    h(
      "td",
      {},
      h("span", { class: `device-status status-${device.status}` }, device.status),
      device.replaced_by ? [" → ", h("code", {}, device.replaced_by)] : "",
    ),
    h("td", {}, when(device.last_reading_at)),
    h("td", {}, meta(device)),
    h("td", {}, h("code", {}, device.gateway_id), h("br"), gateway(device)),
  );
}

/** The section; it fills itself once the patient's devices are loaded. */
export function devicesSection(patientId) {
  const body = h("div", { id: "patient-devices" }, h("p", { class: "loading" }, "Loading devices…"));
  api(`/patients/${encodeURIComponent(patientId)}/devices`).then(
    (devices) => {
      if (!devices.length) {
        body.replaceChildren(h("p", { class: "muted" }, "No devices registered."));
        return;
      }
      const head = ["Device", "Status", "Last reading", "Last report", "Gateway"];
      body.replaceChildren(
        h(
          "table",
          { class: "devices" },
          h("thead", {}, h("tr", {}, head.map((name) => h("th", { scope: "col" }, name)))),
          h("tbody", {}, devices.map(row)),
        ),
      );
    },
    (error) => body.replaceChildren(h("p", { class: "error" }, errorText(error))),
  );
  return h(
    "section",
    { class: "patient-devices", "aria-label": "Devices" },
    h("h2", {}, "Devices"),
    body,
  );
}
