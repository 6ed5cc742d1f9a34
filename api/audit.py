"""The audit log: one append-only row per API request and auth event.

Each request under ``/api/`` gets one row, written by :class:`AuditMiddleware`
in a transaction of its own once the answer is known (so refused and failed
requests are recorded too): who (user id, name, role; ``anonymous`` before
authentication), what (the route, or ``auth.*`` for auth events), which
patient (from the path, or set by the route), the HTTP status, the time, the
request id (``X-Request-ID`` if the client sent a sane one, else a new one,
echoed in the answer) and the client address.

The table is append-only (triggers refuse UPDATE, DELETE and TRUNCATE) and
hash-chained: each row's hash covers its content and the previous row's hash
(migration 0012). :func:`verify` recomputes the chain; ``lastmile audit
verify`` prints its head hash, which can be kept elsewhere to anchor it.
With the database out of reach no row can be written; an error line
``audit_not_written`` with the request id says so in the log instead.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
from fastapi import Request
from psycopg_pool import ConnectionPool
from starlette.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from api.accounts import Principal
from hub.db import Conn
from hub.sql import queries

log = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(slots=True)
class AuditContext:
    """What the route learns about the request, for its audit row."""

    request_id: str
    principal: Principal | None = None
    #: A user name tried at login (the actor of a failed login).
    attempted: str | None = None
    action: str | None = None
    patient_id: UUID | None = None
    #: The route found the database out of reach (api/exceptions.py): no row can be written.
    database_unavailable: bool = False


def audit_context(request: Request) -> AuditContext:
    context = getattr(request.state, "audit", None)
    if context is None:  # a request the middleware did not see (tests calling deps)
        context = AuditContext(request_id=uuid.uuid4().hex)
        request.state.audit = context
    assert isinstance(context, AuditContext)
    return context


@dataclass(frozen=True, slots=True)
class AuditReport:
    rows: int
    head_id: int | None
    head_hash: bytes | None
    breaks: list[tuple[int, str]] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.breaks


def record(conn: Conn, *, row: dict[str, Any]) -> None:
    conn.execute(queries["insert_audit"], row)


def record_event(
    conn: Conn,
    *,
    request: Request,
    principal: Principal,
    action: str,
    patient_id: UUID | None,
    outcome: int,
    at: datetime,
) -> None:
    """A row saying what a request did, in the request's own transaction (so it is there
    only if that happened), beside the request's row: a month signed off with its hash, a
    programme's record corrected with the rows' ids."""
    record(
        conn,
        row={
            "at": at,
            "actor_id": principal.user_id,
            "actor": principal.username,
            "actor_role": principal.role.value,
            "action": action,
            "patient_id": patient_id,
            "route": None,
            "outcome": outcome,
            "request_id": audit_context(request).request_id,
            "client": request.client.host if request.client else None,
        },
    )


def verify(conn: Conn, *, limit: int = 20) -> AuditReport:
    """Recompute the chain: the first ``limit`` broken rows (changed content or link)."""
    found = conn.execute(queries["audit_breaks"], {"limit": limit}).fetchall()
    breaks = [(int(i), str(kind)) for i, kind in found]
    head = conn.execute(queries["audit_head"]).fetchone()
    assert head is not None
    rows, head_id, head_hash = head
    return AuditReport(int(rows), head_id, bytes(head_hash) if head_hash else None, breaks)


def failed_logins(conn: Conn, *, username: str, client: str, since: datetime) -> tuple[int, int]:
    """Failed logins since ``since``: for this user name, and from this client."""
    row = conn.execute(
        queries["failed_logins"], {"username": username, "client": client, "since": since}
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _route_and_patient(request: Request) -> tuple[str | None, UUID | None]:
    """The matched route's path template, and the path's ``patient_id`` if any."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    value = request.scope.get("path_params", {}).get("patient_id")
    try:
        patient = UUID(str(value)) if value is not None else None
    except ValueError:
        patient = None
    return (str(path) if path is not None else None), patient


class AuditMiddleware(BaseHTTPMiddleware):
    """Writes one audit row per ``/api/`` request (see the module docstring)."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if not request.url.path.startswith("/api/"):
            return await call_next(request)
        given = request.headers.get("x-request-id", "")
        context = AuditContext(
            request_id=given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        )
        request.state.audit = context
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
        finally:
            await run_in_threadpool(self._write, request, context, status)
        response.headers["X-Request-ID"] = context.request_id
        return response

    @staticmethod
    def _write(request: Request, context: AuditContext, status: int) -> None:
        route, path_patient = _route_and_patient(request)
        principal = context.principal
        row = {
            "at": datetime.now(UTC),
            "actor_id": principal.user_id if principal else None,
            "actor": principal.username if principal else context.attempted or "anonymous",
            "actor_role": principal.role.value if principal else None,
            "action": context.action or f"{request.method} {route or request.url.path}",
            "patient_id": context.patient_id or path_patient,
            "route": route,
            "outcome": status,
            "request_id": context.request_id,
            "client": request.client.host if request.client else None,
        }
        lost = {"request_id": context.request_id, "code": "database_unavailable"}
        if context.database_unavailable:
            # Trying would only wait out the pool's timeout a second time.
            log.error("audit_not_written", extra=lost)
            return
        pool: ConnectionPool = request.app.state.pool
        try:
            with pool.connection() as conn:
                record(conn, row=row)
        except psycopg.OperationalError:  # the answer stands; the log says what is missing
            log.error("audit_not_written", extra=lost)
            return
        log.info(
            "audit",
            extra={
                "request_id": context.request_id,
                "action": row["action"],
                "outcome": status,
                "actor": row["actor"],
            },
        )
