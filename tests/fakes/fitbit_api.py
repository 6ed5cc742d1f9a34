"""A fake Fitbit: a real HTTPS server on loopback speaking Fitbit's Web API.

It implements what the hub calls, with the JSON shapes Fitbit documents:

* ``GET /oauth2/authorize`` (the consent page, approved at once for the user
  set with :meth:`FakeFitbit.approve_as`: a redirect with ``code`` and
  ``state``), ``POST /oauth2/token`` (HTTP Basic client authentication;
  ``authorization_code`` with a PKCE S256 check, ``refresh_token`` with
  single-use rotation; Fitbit's ``{"errors": [{"errorType": ...}]}`` bodies),
  ``POST /oauth2/revoke``;
* ``/1/user/-/profile.json``, weight logs (``body/log/weight/date/...``),
  SpO2 summaries (``spo2/date/...``), heart-rate summaries
  (``activities/heart/date/...``), and ``POST .../apiSubscriptions/<id>.json``.

Scriptable: :meth:`~FakeFitbit.expire_access_tokens`, :meth:`~FakeFitbit.rate_limit`
(the next API requests answer 429 with ``Retry-After`` and
``Fitbit-Rate-Limit-Reset``), :meth:`~FakeFitbit.revoke_user` (the patient
withdrew access in the Fitbit app). Every request is kept in
:attr:`FakeFitbit.requests`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson

from tests.fakes.tls import LoopbackHttps

ACCESS_TTL_S = 8 * 3600
_DAY = r"(\d{4}-\d{2}-\d{2}|today)"
_RANGE = re.compile(
    rf"^/1/user/-/(body/log/weight|spo2|activities/heart)/date/{_DAY}(?:/([\w-]+))?\.json$"
)
_SUBSCRIPTION = re.compile(r"^/1/user/-/(\w+)/apiSubscriptions/([\w-]+)\.json$")


@dataclass
class FakeUser:
    """One Fitbit account and its data (weights in kg, as Fitbit keeps them)."""

    user_id: str
    timezone: str = "America/Chicago"
    weights: list[dict[str, Any]] = field(default_factory=list)
    spo2: dict[date, tuple[float, float, float]] = field(default_factory=dict)
    resting: dict[date, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    user_id: str | None
    status: int


def _err(kind: str, message: str) -> dict[str, Any]:
    return {"errors": [{"errorType": kind, "message": message}], "success": False}


class FakeFitbit:
    """Start with ``with FakeFitbit(client_id=..., ...) as fake:``."""

    def __init__(self, *, client_id: str, client_secret: str, redirect_uri: str) -> None:
        self.client_id, self.client_secret, self.redirect_uri = (
            client_id,
            client_secret,
            redirect_uri,
        )
        self._lock = threading.Lock()
        self.users: dict[str, FakeUser] = {}
        self._approve: str | None = None
        self._codes: dict[str, tuple[str, str, str]] = {}  # code -> user, challenge, redirect
        self._access: dict[str, tuple[str, float]] = {}  # token -> user, expires (epoch s)
        self._refresh: dict[str, str] = {}  # token -> user (single use)
        self._revoked: set[str] = set()
        self._limited: list[tuple[int, int]] = []  # (retry_after, reset) per coming request
        self.subscriptions: set[tuple[str, str, str]] = set()  # user, collection, id
        self.requests: list[Seen] = []
        self.revocations: list[str] = []
        self._https = LoopbackHttps(self._handler_class(), prefix="fake-fitbit-")
        self.ca_file = self._https.ca_file

    @property
    def origin(self) -> str:
        return self._https.origin

    def __enter__(self) -> FakeFitbit:
        self._https.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._https.stop()

    # -- scripting ---------------------------------------------------------

    def add_user(self, user: FakeUser) -> FakeUser:
        with self._lock:
            self.users[user.user_id] = user
        return user

    def approve_as(self, user_id: str) -> None:
        """The next consent page is approved by this account."""
        self._approve = user_id

    def expire_access_tokens(self) -> None:
        with self._lock:
            self._access = {t: (u, 0.0) for t, (u, _) in self._access.items()}

    def rate_limit(self, *, requests: int = 1, retry_after: int = 30, reset: int = 30) -> None:
        """The next ``requests`` API calls answer 429."""
        with self._lock:
            self._limited.extend([(retry_after, reset)] * requests)

    def revoke_user(self, user_id: str) -> None:
        """The patient removed the app's access in the Fitbit app: every token stops working."""
        with self._lock:
            self._revoked.add(user_id)

    def api_requests(self, user_id: str | None = None) -> list[Seen]:
        with self._lock:
            return [
                s
                for s in self.requests
                if s.path.startswith("/1/") and (user_id is None or s.user_id == user_id)
            ]

    def refresh_tokens_of(self, user_id: str) -> list[str]:
        with self._lock:
            return [t for t, u in self._refresh.items() if u == user_id]

    # -- the protocol ------------------------------------------------------

    def _issue(self, user_id: str) -> dict[str, Any]:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self._access[access] = (user_id, time.time() + ACCESS_TTL_S)
        self._refresh[refresh] = user_id
        return {
            "access_token": access,
            "expires_in": ACCESS_TTL_S,
            "refresh_token": refresh,
            "scope": "weight heartrate oxygen_saturation profile activity sleep",
            "token_type": "Bearer",
            "user_id": user_id,
        }

    def _client_ok(self, headers: Any) -> bool:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        return bool(headers.get("Authorization") == f"Basic {expected}")

    def _authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        if (
            query.get("client_id") != self.client_id
            or query.get("redirect_uri") != self.redirect_uri
        ):
            return 400, {}, _err("invalid_request", "unknown client or redirect_uri")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return 400, {}, _err("invalid_request", "PKCE S256 is required by this fake")
        assert self._approve is not None, "call approve_as() first"
        code = secrets.token_urlsafe(16)
        self._codes[code] = (self._approve, query["code_challenge"], query["redirect_uri"])
        params = urlencode({"code": code, "state": query.get("state", "")})
        return 302, {"Location": f"{self.redirect_uri}?{params}#_=_"}, None

    def _token(self, headers: Any, form: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        if not self._client_ok(headers):
            return 401, {}, _err("invalid_client", "Invalid authorization header format.")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            found = self._codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if found is None or found[1] != challenge or found[2] != form.get("redirect_uri"):
                return 400, {}, _err("invalid_grant", "Authorization code invalid")
            return 200, {}, self._issue(found[0])
        if grant == "refresh_token":
            user = self._refresh.pop(form.get("refresh_token", ""), None)
            if user is None or user in self._revoked:
                return 400, {}, _err("invalid_grant", "Refresh token invalid")
            return 200, {}, self._issue(user)
        return 400, {}, _err("unsupported_grant_type", "grant_type")

    def _revoke(self, headers: Any, form: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        if not self._client_ok(headers):
            return 401, {}, _err("invalid_client", "Invalid authorization header format.")
        token = form.get("token", "")
        user = self._refresh.get(token) or self._access.get(token, (None, 0))[0]
        if user is not None:
            self.revocations.append(user)
            self._refresh = {t: u for t, u in self._refresh.items() if u != user}
            self._access = {t: v for t, v in self._access.items() if v[0] != user}
        return 200, {}, {}

    def _bearer(self, headers: Any) -> tuple[str | None, tuple[int, Any] | None]:
        token = str(headers.get("Authorization", "")).removeprefix("Bearer ")
        found = self._access.get(token)
        if found is None or found[0] in self._revoked:
            return None, (401, _err("invalid_token", "Access token invalid"))
        if found[1] <= time.time():
            return found[0], (401, _err("expired_token", f"Access token expired: {token[:6]}"))
        return found[0], None

    def _api(
        self, method: str, path: str, headers: Any
    ) -> tuple[int, dict[str, str], Any, str | None]:
        user_id, refused = self._bearer(headers)
        if refused is not None:
            return refused[0], {}, refused[1], user_id
        limits = {
            "Fitbit-Rate-Limit-Limit": "150",
            "Fitbit-Rate-Limit-Remaining": "149",
            "Fitbit-Rate-Limit-Reset": "1800",
        }
        if self._limited:
            retry_after, reset = self._limited.pop(0)
            limits.update(
                {
                    "Retry-After": str(retry_after),
                    "Fitbit-Rate-Limit-Reset": str(reset),
                    "Fitbit-Rate-Limit-Remaining": "0",
                }
            )
            return 429, limits, _err("system", "Too Many Requests"), user_id
        assert user_id is not None
        user = self.users[user_id]
        metric = headers.get("Accept-Language") not in ("en_US", "en_GB")
        status, body = self._resource(method, path, user, headers, metric=metric)
        return status, limits, body, user_id

    def _resource(
        self, method: str, path: str, user: FakeUser, headers: Any, *, metric: bool
    ) -> tuple[int, Any]:
        if path == "/1/user/-/profile.json":
            return 200, {
                "user": {
                    "encodedId": user.user_id,
                    "timezone": user.timezone,
                    "offsetFromUTCMillis": 0,
                    "weightUnit": "METRIC" if metric else "en_US",
                    "displayName": "Fake",
                }
            }
        sub = _SUBSCRIPTION.match(path)
        if sub and method in ("POST", "DELETE"):
            key = (user.user_id, sub.group(1), sub.group(2))
            if method == "DELETE":
                self.subscriptions.discard(key)
                return 204, None
            self.subscriptions.add(key)
            return 201, {
                "collectionType": sub.group(1),
                "ownerId": user.user_id,
                "ownerType": "user",
                "subscriberId": headers.get("X-Fitbit-Subscriber-Id", "1"),
                "subscriptionId": sub.group(2),
            }
        match = _RANGE.match(path)
        if not match or method != "GET":
            return 404, _err("not_found", "The API you are requesting could not be found.")
        kind, first, last = match.groups()
        start = date.fromisoformat(first)
        end = start if last in (None, "1d") else date.fromisoformat(last)
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        if kind == "body/log/weight":
            factor = 1.0 if metric else 2.20462
            logs = [
                {**w, "weight": round(w["weight"] * factor, 2)}
                for w in user.weights
                if start <= date.fromisoformat(w["date"]) <= end
            ]
            return 200, {"weight": logs}
        if kind == "spo2":
            names = ("avg", "min", "max")
            summaries = [
                {"dateTime": d.isoformat(), "value": dict(zip(names, user.spo2[d], strict=True))}
                for d in days
                if d in user.spo2
            ]
            if last is None:
                return 200, summaries[0] if summaries else {}
            return 200, summaries
        heart = []
        for d in days:
            value: dict[str, Any] = {
                "customHeartRateZones": [],
                "heartRateZones": [
                    {
                        "name": "Out of Range",
                        "min": 30,
                        "max": 94,
                        "minutes": 1100,
                        "caloriesOut": 1400.5,
                    }
                ],
            }
            if d in user.resting:
                value["restingHeartRate"] = user.resting[d]
            heart.append({"dateTime": d.isoformat(), "value": value})
        return 200, {"activities-heart": heart}

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        user_id = None
        with self._lock:
            if url.path == "/oauth2/authorize" and method == "GET":
                status, extra, body = self._authorize(query)
            elif url.path == "/oauth2/token" and method == "POST":
                status, extra, body = self._token(handler.headers, form)
            elif url.path == "/oauth2/revoke" and method == "POST":
                status, extra, body = self._revoke(handler.headers, form)
            elif url.path.startswith("/1/"):
                status, extra, body, user_id = self._api(method, url.path, handler.headers)
            else:
                status, extra, body = 404, {}, _err("not_found", "no such endpoint")
            self.requests.append(Seen(method, url.path, user_id, status))
        data = b"" if body is None else orjson.dumps(body)
        handler.send_response(status)
        for name, value in extra.items():
            handler.send_header(name, value)
        if body is not None:
            handler.send_header("Content-Type", "application/json;charset=UTF-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def do_DELETE(self) -> None:
                fake._handle(self, "DELETE")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        return Handler


def sign(body: bytes, client_secret: str) -> str:
    """Fitbit's ``X-Fitbit-Signature`` of a notification body."""
    digest = hmac.new(f"{client_secret}&".encode(), body, hashlib.sha1).digest()
    return base64.b64encode(digest).decode()
