// The dashboard's entry: session, header and the hash routes
//   #worklist  #alerts  #patient/<id>[/<days>]  #alert/<id> (from a notification)
//   #billing[/<YYYY-MM>] (supervisors and admins)

import { renderAlertQueue, unresolvedAlerts } from "./alerts.js";
import { api, hasToken, logOut, onUnauthorized } from "./api.js";
import { renderBilling } from "./billing.js";
import { errorText, h } from "./dom.js";
import { renderLogin } from "./login.js";
import { renderPatient } from "./patient.js";
import { enablePush, pushState, pushSupported, registerWorker } from "./push.js";
import { renderWorklist } from "./worklist.js";

const view = document.getElementById("view");
const topbar = document.getElementById("topbar");
const notice = document.getElementById("notice");
const alertCount = document.getElementById("alert-count");
const pushButton = document.getElementById("push-button");
let noticeTimer = 0;

function notify(text, kind = "info") {
  notice.textContent = text;
  notice.className = `notice notice-${kind}`;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (notice.hidden = true), 6000);
}

function setAlertCount(count) {
  alertCount.textContent = String(count);
  alertCount.hidden = !count;
}

async function refreshAlertCount() {
  try {
    const now = new Date();
    const waiting = (a) => !a.snoozed_until || new Date(a.snoozed_until) <= now;
    setAlertCount((await unresolvedAlerts()).filter(waiting).length);
  } catch {
    alertCount.hidden = true;
  }
}

const ctx = { notify, setAlertCount, refreshAlertCount };

async function refreshPushButton() {
  if (!pushSupported()) {
    pushButton.hidden = true;
    return;
  }
  const state = await pushState().catch(() => "off");
  pushButton.hidden = false;
  pushButton.disabled = state !== "off";
  const labels = { enabled: "Notifications on", denied: "Notifications blocked" };
  pushButton.textContent = labels[state] || "Enable notifications";
}

pushButton.addEventListener("click", async () => {
  pushButton.disabled = true;
  try {
    await enablePush();
    notify("Notifications are on for this browser.");
  } catch (error) {
    notify(`Notifications could not be enabled: ${errorText(error)}`, "error");
  }
  await refreshPushButton();
});

document.getElementById("logout-button").addEventListener("click", async () => {
  await logOut();
  showLogin("You have logged out.");
});

function showLogin(message) {
  topbar.hidden = true;
  document.body.dataset.view = "login";
  renderLogin(view, { message, onLoggedIn: start });
}

/** Where an alert from a notification lives: its patient's page, with the alert in view. */
async function openAlert(page, alertId) {
  let alert = null;
  try {
    alert = await api(`/alerts/${encodeURIComponent(alertId)}`);
  } catch (error) {
    if (error.status === 401) return;
    const open = await unresolvedAlerts().catch(() => []);
    alert = open.find((a) => String(a.id) === String(alertId)) || null;
  }
  if (!alert) {
    notify("That alert is resolved or not on your panel.");
    return renderAlertQueue(page, ctx);
  }
  return renderPatient(page, ctx, { patientId: alert.patient_id, alertId: alert.id });
}

function route() {
  if (!hasToken()) return showLogin();
  topbar.hidden = false;
  const [name, id, extra] = window.location.hash.replace(/^#\/?/, "").split("/");
  const current = name || "worklist";
  document.body.dataset.view = current;
  for (const link of document.querySelectorAll("[data-nav]")) {
    link.toggleAttribute("aria-current", link.dataset.nav === current);
  }
  // Each route draws into its own page, so a slow answer for a page left
  // behind lands nowhere.
  const page = h("div", { class: "page", dataset: { route: current } });
  view.replaceChildren(page);
  const done = (() => {
    if (current === "alerts") return renderAlertQueue(page, ctx);
    if (current === "patient" && id) {
      return renderPatient(page, ctx, { patientId: id, days: extra === "90" ? 90 : 30 });
    }
    if (current === "alert" && id) return openAlert(page, id);
    if (current === "billing") return renderBilling(page, ctx, { month: id });
    return renderWorklist(page, ctx);
  })();
  Promise.resolve(done).catch((error) => {
    if (error.status !== 401) page.replaceChildren(h("p", { class: "error" }, errorText(error)));
  });
  window.scrollTo(0, 0);
}

async function start() {
  try {
    const me = await api("/auth/me");
    document.getElementById("who").textContent = me.username;
    document.getElementById("billing-link").hidden = !["supervisor", "admin"].includes(me.role);
  } catch {
    if (!hasToken()) return; // 401: the login is shown already
  }
  route();
  refreshAlertCount();
  refreshPushButton();
}

onUnauthorized(() => showLogin("Your session has ended; please log in again."));
window.addEventListener("hashchange", route);

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data && event.data.type === "open") {
      window.location.hash = new URL(event.data.url, window.location.origin).hash;
    }
  });
  registerWorker().catch(() => {}); // notifications then open the dashboard; push is opt-in
}

if (hasToken()) start();
else showLogin();
