"""Request guards of the whole app: a body size limit and the security headers.

:class:`RequestGuard` is a plain ASGI middleware, inside the audit
middleware (so a refused request is still audited):

- A request body larger than ``settings.api_max_body_bytes`` (1 MiB) is
  answered ``413 payload_too_large`` before any route reads it; the pharmacy
  upload route (:data:`UPLOAD_PATHS`) may send up to
  ``settings.api_max_upload_bytes``. A declared ``Content-Length`` is checked
  at once; a body without one (chunked) is read up to the limit first.
- Every answer carries ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: no-referrer`` and ``X-Frame-Options: DENY``; an answer
  without its own ``Content-Security-Policy`` (the dashboard's files carry
  theirs) gets one that allows nothing (:data:`API_CSP`), and an answer
  under ``/api/`` without a ``Cache-Control`` gets ``no-store``: patient data
  is never kept by a browser or a proxy.

There is no CORS middleware: no answer carries
``Access-Control-Allow-Origin``, so a page on another origin cannot read
the API, and a preflight ``OPTIONS`` is not granted.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Routes that take uploads (pharmacy feeds: up to 10,000 dispenses per request).
UPLOAD_PATHS = frozenset({"/api/v1/pharmacy/dispenses"})
#: What an API answer may load or be framed by: nothing.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
#: FastAPI's interactive documentation loads its scripts from a CDN: only framing is denied.
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
DOCS_CSP = "frame-ancestors 'none'"

_ALWAYS = (
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
)


class RequestGuard:
    """The body size limit and the security headers (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        send = _with_headers(send, path)
        limit = self.max_upload_bytes if path in UPLOAD_PATHS else self.max_body_bytes
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > limit:
                await _too_large(limit, declared=int(declared))(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        # No declared length: read the body (at most the limit), then hand it on.
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await _too_large(limit, declared=None)(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def _too_large(limit: int, *, declared: int | None) -> JSONResponse:
    sent = f"{declared:,} bytes" if declared is not None else "more than that"
    return JSONResponse(
        {"code": "payload_too_large", "detail": f"{sent}; at most {limit:,} per request"},
        status_code=413,
    )


def _with_headers(send: Send, path: str) -> Send:
    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in _ALWAYS:
                headers[name] = value
            if "content-security-policy" not in headers:
                headers["content-security-policy"] = DOCS_CSP if path in DOCS_PATHS else API_CSP
            if path.startswith("/api/") and "cache-control" not in headers:
                headers["cache-control"] = "no-store"
        await send(message)

    return send_with_headers
