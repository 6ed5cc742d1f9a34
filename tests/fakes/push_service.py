"""A fake Web Push service: a real HTTP server on loopback, scripted per endpoint.

Each subscription (:meth:`FakePushService.subscribe`) gets its own endpoint
path and a script of answers, played in order (the last one repeats):
a status with an optional ``Retry-After``, or :data:`HANG` (no answer until
the service stops, longer than any client timeout).

Every request is checked as a push service would (RFC 8030, 8291, 8292):
the VAPID JWT (ES256 with ``k``, ``aud`` this service's origin, ``exp``
within 24 h, ``sub`` mailto:/https:), ``k`` equal to the application server
key the subscription was made with, a positive ``TTL``, and the
``aes128gcm`` body, which is decrypted with the subscription's private key.
A request that fails a check is answered 400 or 403 and listed in
:attr:`FakePushService.problems`; every request is kept in ``received``.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.webpush_protocol import (
    BrowserSubscription,
    ProtocolError,
    decrypt_aes128gcm,
    verify_vapid,
)

_MAX_BODY = 4096 + 86  # RFC 8291 4: at most 4096 octets of record, plus the header
_HANG_LIMIT_S = 60.0


@dataclass(frozen=True)
class Answer:
    status: int
    retry_after: str | None = None
    hang: bool = False


HANG = Answer(status=0, hang=True)


@dataclass(frozen=True)
class Received:
    """One request as the service saw it; ``plaintext`` is None if it did not decrypt."""

    name: str
    ttl: int | None
    urgency: str | None
    content_encoding: str | None
    vapid_claims: dict[str, Any] | None
    plaintext: bytes | None
    answered: int | None  # None: hung up on


class FakePushService:
    """Start with ``with FakePushService() as service:``; stops (and releases hangs) on exit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._scripts: dict[str, deque[Answer]] = {}
        self._subscriptions: dict[str, BrowserSubscription] = {}
        self._received: dict[str, list[Received]] = defaultdict(list)
        self.problems: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakePushService:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def subscribe(
        self, name: str, *script: Answer, application_server_key: str
    ) -> BrowserSubscription:
        """A browser's subscription at ``/push/<name>``, answered by ``script``."""
        subscription = BrowserSubscription(
            endpoint=f"{self.origin}/push/{name}", application_server_key=application_server_key
        )
        with self._lock:
            self._subscriptions[name] = subscription
            self._scripts[name] = deque(script or (Answer(201),))
        return subscription

    def script(self, name: str, *answers: Answer) -> None:
        """Replace what the endpoint answers from now on."""
        with self._lock:
            self._scripts[name] = deque(answers)

    def received(self, name: str) -> list[Received]:
        with self._lock:
            return list(self._received[name])

    def _next_answer(self, name: str) -> Answer:
        with self._lock:
            script = self._scripts[name]
            return script.popleft() if len(script) > 1 else script[0]

    def _check(self, name: str, headers: Any, body: bytes) -> tuple[Received, int | None]:
        """Verify one request; return what was seen and the error status, if any."""
        subscription = self._subscriptions[name]
        ttl_header = headers.get("TTL")
        seen = Received(
            name=name,
            ttl=int(ttl_header) if ttl_header and ttl_header.isdigit() else None,
            urgency=headers.get("Urgency"),
            content_encoding=headers.get("Content-Encoding"),
            vapid_claims=None,
            plaintext=None,
            answered=None,
        )
        try:
            key, claims = verify_vapid(
                headers.get("Authorization", ""), audience=self.origin, now=time.time()
            )
            seen = replace(seen, vapid_claims=claims)
            if key != subscription.application_server_key:
                self.problems.append(f"{name}: signed with another key than it subscribed with")
                return seen, HTTPStatus.FORBIDDEN
        except ProtocolError as exc:
            self.problems.append(f"{name}: {exc}")
            return seen, HTTPStatus.UNAUTHORIZED
        try:
            if seen.ttl is None:
                raise ProtocolError("TTL header missing or not a number (RFC 8030 5.2)")
            if seen.urgency not in (None, "very-low", "low", "normal", "high"):
                raise ProtocolError(f"Urgency {seen.urgency!r} (RFC 8030 5.3)")
            if seen.content_encoding != "aes128gcm":
                raise ProtocolError("Content-Encoding must be aes128gcm (RFC 8291 4)")
            if len(body) > _MAX_BODY:
                raise ProtocolError("payload larger than 4096 octets")
            seen = replace(seen, plaintext=decrypt_aes128gcm(body, subscription))
        except ProtocolError as exc:
            self.problems.append(f"{name}: {exc}")
            return seen, HTTPStatus.BAD_REQUEST
        return seen, None

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        prefix = "/push/"
        name = handler.path[len(prefix) :] if handler.path.startswith(prefix) else ""
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(min(length, _MAX_BODY + 1))
        if name not in self._subscriptions:
            handler.send_error(HTTPStatus.NOT_FOUND)
            return
        seen, error = self._check(name, handler.headers, body)
        answer = Answer(int(error)) if error is not None else self._next_answer(name)
        with self._lock:
            self._received[name].append(replace(seen, answered=answer.status or None))
        if answer.hang:
            self._release.wait(_HANG_LIMIT_S)
            handler.close_connection = True
            return
        handler.send_response(answer.status)
        if answer.retry_after is not None:
            handler.send_header("Retry-After", answer.retry_after)
        if answer.status == HTTPStatus.CREATED:
            handler.send_header("Location", f"{self.origin}/message/{name}")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                service._handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # quiet: the test asserts on what was received

        return Handler
