// The dashboard's service worker: shows the hub's pushes and opens the alert
// on a click. Pushes carry {alert_id, title, body} and no patient data.
"use strict";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let payload = {};
  try {
    payload = event.data ? event.data.json() : {};
  } catch {
    payload = { body: event.data ? event.data.text() : "" };
  }
  const alertId = payload.alert_id;
  event.waitUntil(
    self.registration.showNotification(payload.title || "Lastmile", {
      body: payload.body || "A patient needs attention",
      icon: "/app/icon.svg",
      tag: alertId !== undefined ? `alert-${alertId}` : "lastmile",
      renotify: true,
      data: { alertId },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const alertId = event.notification.data && event.notification.data.alertId;
  const url = alertId !== undefined && alertId !== null ? `/app/#alert/${alertId}` : "/app/";
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const open = windows.find((client) => new URL(client.url).pathname.startsWith("/app/"));
      if (open) {
        await open.focus();
        open.postMessage({ type: "open", url });
        return;
      }
      await self.clients.openWindow(url);
    })(),
  );
});
