// Push notifications: the service worker (sw.js) and a Web Push subscription
// made with the hub's VAPID public key, registered with the hub.

import { api } from "./api.js";

const WORKER = "/app/sw.js";
const SCOPE = "/app/";

export function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

/** Register the service worker (so a notification click can open the dashboard). */
export async function registerWorker() {
  if (!("serviceWorker" in navigator)) return null;
  return navigator.serviceWorker.register(WORKER, { scope: SCOPE, type: "classic" });
}

/** "unsupported", "denied", "enabled" (this browser has a subscription) or "off". */
export async function pushState() {
  if (!pushSupported()) return "unsupported";
  if (Notification.permission === "denied") return "denied";
  const registration = await navigator.serviceWorker.getRegistration(SCOPE);
  const subscription = registration ? await registration.pushManager.getSubscription() : null;
  return subscription && Notification.permission === "granted" ? "enabled" : "off";
}

/** The base64url text of a VAPID key as the bytes PushManager wants. */
export function keyBytes(base64url) {
  const base64 = base64url.replaceAll("-", "+").replaceAll("_", "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function sameKey(buffer, bytes) {
  if (!buffer) return false;
  const have = new Uint8Array(buffer);
  return have.length === bytes.length && have.every((b, i) => b === bytes[i]);
}

/** Ask for permission, subscribe with the hub's key, and register the subscription. */
export async function enablePush() {
  if (!pushSupported()) throw new Error("this browser cannot receive push notifications");
  const permission = await Notification.requestPermission();
  if (permission !== "granted") throw new Error("notifications were not allowed");
  await registerWorker();
  const registration = await navigator.serviceWorker.ready;
  const { application_server_key: key } = await api("/push/vapid-public-key");
  const bytes = keyBytes(key);
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !sameKey(subscription.options.applicationServerKey, bytes)) {
    await subscription.unsubscribe(); // made with another hub key: it would never deliver
    subscription = null;
  }
  if (!subscription) {
    subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: bytes,
    });
  }
  return api("/push/subscriptions", { method: "POST", body: subscription.toJSON() });
}
