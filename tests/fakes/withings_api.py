"""A fake Withings: a real HTTPS server on loopback speaking Withings' web services.

Every answer is HTTP 200 with ``{"status": <n>, "body": {...}}``, as Withings
documents: ``GET /oauth2_user/authorize2`` (the consent page, approved at
once for the user set with :meth:`FakeWithings.approve_as`: a redirect with
``code`` and ``state``), ``POST /v2/oauth2`` (``action=requesttoken``, client
id and secret in the form; ``authorization_code``, and ``refresh_token`` with
a new pair each time), ``POST /measure`` (``action=getmeas`` with
``meastypes``, ``category``, ``startdate``/``enddate``, paged by
``offset``/``more``), ``POST /notify`` (``subscribe``/``revoke``). A bad
access token answers status 401; :meth:`~FakeWithings.rate_limit` makes the
next calls answer status 601, :meth:`~FakeWithings.fail_token_calls` the next
token calls a status of Withings' own errors.

Signed calls, as Withings documents them: ``POST /v2/signature``
(``action=getnonce``) checks ``signature``, the HMAC-SHA256 (client secret)
of the comma-joined values of ``action``, ``client_id`` and ``timestamp``
sorted by name, and a ``timestamp`` within :data:`CLOCK_SKEW_S` of the
server's clock, and hands out a nonce valid :data:`NONCE_TTL_S` and good for
one call; ``POST /v2/oauth2`` ``action=revoke`` takes that nonce once, checks
the signature of ``action``, ``client_id`` and ``nonce``, and ends the user's
grant: tokens and notification subscriptions. A refusal is Withings'
``{"status": <n>, "error": "<why>"}``. Which status Withings gives each
refusal is not documented; the fake answers 503 ("Invalid params"), the
status Withings gives a refused code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson

from tests.fakes.tls import LoopbackHttps

ACCESS_TTL_S = 3 * 3600
PAGE = 2  # measure groups per getmeas page, so paging is exercised
#: A nonce lives 30 minutes (Withings' "Signature v2 - Getnonce").
NONCE_TTL_S = 30 * 60
#: How far getnonce's ``timestamp`` may be from the server's clock. Withings
#: documents only "a UNIX timestamp of the current time": this window is the fake's.
CLOCK_SKEW_S = 10 * 60
INVALID_PARAMS = 503


def signed_by(secret: str, form: dict[str, str], names: tuple[str, ...]) -> str:
    """The signature Withings expects: HMAC-SHA256 of the named values, sorted by name."""
    data = ",".join(form.get(name, "") for name in sorted(names))
    return hmac.new(secret.encode(), data.encode(), hashlib.sha256).hexdigest()


@dataclass
class FakeAccount:
    userid: int
    timezone: str = "Europe/Paris"
    groups: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Seen:
    path: str
    action: str
    userid: int | None
    status: int
    form: dict[str, str]


class FakeWithings:
    def __init__(self, *, client_id: str, client_secret: str, redirect_uri: str) -> None:
        self.client_id, self.client_secret, self.redirect_uri = (
            client_id,
            client_secret,
            redirect_uri,
        )
        self._lock = threading.Lock()
        self.accounts: dict[int, FakeAccount] = {}
        self._approve: int | None = None
        self._codes: dict[str, int] = {}
        self._access: dict[str, tuple[int, float]] = {}
        self._refresh: dict[str, int] = {}
        self._revoked: set[int] = set()
        self._nonces: dict[str, float] = {}  # nonce -> expiry (time.time())
        self.revocations: list[int] = []  # userids whose grant a signed revoke ended
        self._limited = 0
        self._token_failures: list[int] = []  # statuses the next token calls answer
        self.subscriptions: set[tuple[int, str, int]] = set()  # userid, callbackurl, appli
        self.requests: list[Seen] = []
        self._https = LoopbackHttps(self._handler_class(), prefix="fake-withings-")
        self.ca_file = self._https.ca_file

    @property
    def origin(self) -> str:
        return self._https.origin

    def __enter__(self) -> FakeWithings:
        self._https.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._https.stop()

    # -- scripting ---------------------------------------------------------

    def add_account(self, account: FakeAccount) -> FakeAccount:
        with self._lock:
            self.accounts[account.userid] = account
        return account

    def approve_as(self, userid: int) -> None:
        self._approve = userid

    def expire_access_tokens(self) -> None:
        with self._lock:
            self._access = {t: (u, 0.0) for t, (u, _) in self._access.items()}

    def rate_limit(self, requests: int = 1) -> None:
        with self._lock:
            self._limited += requests

    def fail_token_calls(self, *statuses: int) -> None:
        """The next ``requesttoken`` calls answer these statuses (an error on Withings' side)."""
        with self._lock:
            self._token_failures.extend(statuses)

    def revoke_user(self, userid: int) -> None:
        with self._lock:
            self._revoked.add(userid)

    def refresh_tokens_of(self, userid: int) -> list[str]:
        with self._lock:
            return [t for t, u in self._refresh.items() if u == userid]

    def measure_calls(self) -> list[Seen]:
        with self._lock:
            return [s for s in self.requests if s.path == "/measure"]

    # -- the protocol ------------------------------------------------------

    def _issue(self, userid: int) -> dict[str, Any]:
        access, refresh = secrets.token_hex(20), secrets.token_hex(20)
        self._access[access] = (userid, time.time() + ACCESS_TTL_S)
        self._refresh[refresh] = userid
        return {
            "userid": userid,
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": ACCESS_TTL_S,
            "scope": "user.metrics",
            "csrf_token": secrets.token_hex(8),
            "token_type": "Bearer",
        }

    def _refused(self, why: str) -> tuple[int, Any]:
        return INVALID_PARAMS, f"Invalid Params: {why}"

    def _signed(self, form: dict[str, str], last: str) -> bool:
        expected = signed_by(self.client_secret, form, ("action", "client_id", last))
        return form.get("client_id") == self.client_id and hmac.compare_digest(
            form.get("signature", "").encode(), expected.encode()
        )

    def _getnonce(self, form: dict[str, str]) -> tuple[int, Any]:
        if form.get("action") != "getnonce":
            return 2554, "Not implemented"
        if not self._signed(form, "timestamp"):
            return self._refused("invalid signature")
        stamp = form.get("timestamp", "")
        if not stamp.isdigit() or abs(int(stamp) - time.time()) > CLOCK_SKEW_S:
            return self._refused("invalid timestamp")
        nonce = secrets.token_hex(20)
        self._nonces[nonce] = time.time() + NONCE_TTL_S
        return 0, {"nonce": nonce}

    def _revoke(self, form: dict[str, str]) -> tuple[int, Any]:
        expiry = self._nonces.pop(form.get("nonce", ""), None)  # used once, right or wrong
        if expiry is None or expiry <= time.time():
            return self._refused("invalid nonce")
        if not self._signed(form, "nonce"):
            return self._refused("invalid signature")
        userid = int(form["userid"]) if form.get("userid", "").isdigit() else None
        linked = {u for u, _ in self._access.values()} | set(self._refresh.values())
        if userid is None or userid in self._revoked or userid not in linked:
            return self._refused("userid is not linked to this application")
        self._revoked.add(userid)
        self._access = {t: v for t, v in self._access.items() if v[0] != userid}
        self._refresh = {t: u for t, u in self._refresh.items() if u != userid}
        self.subscriptions = {s for s in self.subscriptions if s[0] != userid}
        self.revocations.append(userid)
        return 0, {}

    def _oauth2(self, form: dict[str, str]) -> tuple[int, Any]:
        if form.get("action") == "revoke":
            return self._revoke(form)
        if form.get("action") != "requesttoken":
            return 2554, "Not implemented"
        if self._token_failures:
            return self._token_failures.pop(0), "An error occurred"
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return self._refused("invalid client")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            userid = self._codes.pop(form.get("code", ""), None)
            if userid is None or form.get("redirect_uri") != self.redirect_uri:
                return self._refused("invalid code")
            self._revoked.discard(userid)  # a new grant
            return 0, self._issue(userid)
        if grant == "refresh_token":
            userid = self._refresh.pop(form.get("refresh_token", ""), None)
            if userid is None or userid in self._revoked:
                return self._refused("invalid refresh_token")
            return 0, self._issue(userid)
        return self._refused("invalid grant_type")

    def _bearer(self, headers: Any) -> int | None:
        token = str(headers.get("Authorization", "")).removeprefix("Bearer ")
        found = self._access.get(token)
        if found is None or found[0] in self._revoked or found[1] <= time.time():
            return None
        return found[0]

    def _measure(self, account: FakeAccount, form: dict[str, str]) -> tuple[int, Any]:
        if form.get("action") != "getmeas":
            return 2554, "Not implemented"
        types = {int(t) for t in form.get("meastypes", "").split(",") if t}
        start, end = int(form.get("startdate", 0)), int(form.get("enddate", 2**40))
        chosen = []
        for group in account.groups:
            if not start <= group["date"] <= end:
                continue
            measures = [m for m in group["measures"] if not types or m["type"] in types]
            if measures:
                chosen.append({**group, "measures": measures})
        offset = int(form.get("offset", 0))
        page = chosen[offset : offset + PAGE]
        more = offset + PAGE < len(chosen)
        body: dict[str, Any] = {
            "updatetime": int(time.time()),
            "timezone": account.timezone,
            "measuregrps": page,
            "more": 1 if more else 0,
        }
        if more:
            body["offset"] = offset + PAGE
        return 0, body

    def _notify(self, userid: int, form: dict[str, str]) -> tuple[int, Any]:
        key = (userid, form.get("callbackurl", ""), int(form.get("appli", 0)))
        if form.get("action") == "subscribe":
            self.subscriptions.add(key)
            return 0, {}
        if form.get("action") == "revoke":
            if key not in self.subscriptions:
                return 294, {}  # no such subscription
            self.subscriptions.discard(key)
            return 0, {}
        return 2555, {}

    def _answer(self, method: str, url: Any, headers: Any, form: dict[str, str]) -> Any:
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/oauth2_user/authorize2" and method == "GET":
            if (
                query.get("client_id") != self.client_id
                or query.get("redirect_uri") != self.redirect_uri
            ):
                return 400, {}, None
            assert self._approve is not None, "call approve_as() first"
            code = secrets.token_hex(20)
            self._codes[code] = self._approve
            params = urlencode({"code": code, "state": query.get("state", "")})
            return 302, {"Location": f"{self.redirect_uri}?{params}"}, None
        if method != "POST":
            return 404, {}, None
        userid = None
        if url.path == "/v2/oauth2":
            status, body = self._oauth2(form)
        elif url.path == "/v2/signature":
            status, body = self._getnonce(form)
        elif self._limited:
            self._limited -= 1
            status, body = 601, {}
        elif (userid := self._bearer(headers)) is None:
            status, body = 401, {}
        elif url.path == "/measure":
            status, body = self._measure(self.accounts[userid], form)
        elif url.path == "/notify":
            status, body = self._notify(userid, form)
        else:
            return 404, {}, None
        self.requests.append(Seen(url.path, form.get("action", ""), userid, status, form))
        if isinstance(body, str):  # a refusal: Withings' {"status", "error"}
            return 200, {}, {"status": status, "error": body}
        answer: dict[str, Any] = {"status": status, "body": body}
        if status == 401:
            answer["error"] = (
                "XRequestID: Not provided invalid_token: The access token provided is invalid"
            )
        return 200, {}, answer

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        with self._lock:
            status, extra, body = self._answer(method, url, handler.headers, form)
        data = b"" if body is None else orjson.dumps(body)
        handler.send_response(status)
        for name, value in extra.items():
            handler.send_header(name, value)
        if body is not None:
            handler.send_header("Content-Type", "application/json")
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

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        return Handler
