// The hub's /api/v1, with the bearer token kept in sessionStorage (gone with the tab).
// Any 401 forgets the token and calls the handler set by main.js (back to the login).

const TOKEN_KEY = "lastmile.token";
const BASE = "/api/v1";

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(typeof detail === "string" && detail ? detail : `${code} (${status})`);
    this.status = status;
    this.code = code;
  }

  /** The route is not there (yet): a 404/405 that is not about a missing object. */
  get missingRoute() {
    return this.status === 405 || (this.status === 404 && this.code === "no_route");
  }
}

let unauthorized = () => {};

export function onUnauthorized(handler) {
  unauthorized = handler;
}

export function hasToken() {
  return Boolean(sessionStorage.getItem(TOKEN_KEY));
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

async function failure(response) {
  let code = "http_error";
  let detail = response.statusText;
  try {
    const body = await response.json();
    code = body.code || code;
    detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    // FastAPI's answer for a path no route matches.
    if (response.status === 404 && body.detail === "Not Found") code = "no_route";
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(response.status, code, detail);
}

async function send(path, { method = "GET", body, query } = {}) {
  const url = new URL(BASE + path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
  }
  const headers = { Accept: "application/json" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  if (response.status === 401 && token) {
    forgetToken();
    unauthorized();
  }
  if (!response.ok) throw await failure(response);
  return response;
}

/**
 * Call the API: `api("/patients")`, `api("/alerts/7/ack", {method: "POST", body: {}})`.
 * `query` is an object of search parameters (undefined and null are left out).
 */
export async function api(path, options = {}) {
  const response = await send(path, options);
  if (response.status === 204) return null;
  return response.json();
}

/** Like `api`, with the answer's headers: `{data, headers}`; `text: true` for a body not JSON. */
export async function apiWithHeaders(path, { text = false, ...options } = {}) {
  const response = await send(path, options);
  const data = text ? await response.text() : await response.json();
  return { data, headers: response.headers };
}

/** Exchange a user name and password for a token (OAuth2 password flow). */
export async function logIn(username, password) {
  const form = new URLSearchParams({ username, password });
  const response = await fetch(BASE + "/auth/token", {
    method: "POST",
    headers: { Accept: "application/json" },
    body: form,
    credentials: "omit",
  });
  if (!response.ok) throw await failure(response);
  const { access_token: token } = await response.json();
  sessionStorage.setItem(TOKEN_KEY, token);
}

/** Revoke the token on the hub (if it still can) and forget it here. */
export async function logOut() {
  try {
    if (hasToken()) await api("/auth/logout", { method: "POST" });
  } catch {
    // the token may be expired already; forgetting it is what matters
  } finally {
    forgetToken();
  }
}
