"""The API's metrics: requests and their latency by route and status, served on ``/metrics``.

:class:`RequestMetrics` is a plain ASGI middleware, outside every other one,
so the time it measures is the client's (the audit row's write included).
A request is labelled with its route's *template*
(``/api/v1/patients/{patient_id}``), never the path it asked for: no
patient id in a label, and one series per route whatever the paths.
A path no route matches is ``unmatched``; a method outside HTTP's usual
ones is ``other``.

``/metrics`` answers with :func:`hub.metrics.exposition`: the sum over the
API's processes when ``lastmile api`` runs several (multiprocess mode),
this process's counts otherwise. It needs no token (the counts name no
patient and no user); keep it off the public network with the rest of the
operator's endpoints (docs/metrics.md).
"""

from __future__ import annotations

import time

from fastapi import APIRouter, FastAPI
from fastapi.responses import Response
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.metrics import exposition

REQUESTS = Counter(
    "lastmile_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "lastmile_http_request_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_label(scope: Scope) -> str:
    """The matched route's path template, or ``unmatched``.

    >>> from starlette.routing import Route
    >>> route_label({"route": Route("/api/v1/patients/{patient_id}", lambda r: None)})
    '/api/v1/patients/{patient_id}'
    >>> route_label({"path": "/api/v1/patients/0b5e"})
    'unmatched'
    """
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class RequestMetrics:
    """Counts and times every HTTP request (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless an answer starts: what the server sends for an exception

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            method = scope["method"] if scope["method"] in _METHODS else "other"
            route = route_label(scope)
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - started)


router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    body, content_type = exposition()
    return Response(body, media_type=content_type)


def install_metrics(app: FastAPI) -> None:
    """``/metrics``, and the middleware (outermost: call after every other ``add_middleware``)."""
    app.include_router(router)
    app.add_middleware(RequestMetrics)
