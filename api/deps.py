"""FastAPI dependencies, defined once as typed aliases.

- ``ConnDep``: a pooled connection in one transaction, committed if the route succeeds.
- ``ReadConnDep``: a read-only connection to the read replica that shows every
  transaction committed before the request (the worklist), or ``ConnDep``'s
  connection when there is no replica or it is not caught up in time.
- ``LaggedReadConnDep``: the same for reads that may trail the primary by up
  to ``database_read_max_lag_s`` (readings and their charts). Which routes
  may lag, and why: docs/scaling.md.
- ``CurrentUserDep``: the authenticated caller (a coordinator's bearer token,
  or the service's admin token); 401 otherwise.
- ``AdminDep``: only an admin (403 for other roles).
- ``SupervisorDep``: a supervisor or an admin (403 for a coordinator).
- ``UserIdDep``: the caller's user id; 403 for the service token (what the
  route records is a person's: their time, the consent they took).
- ``PatientIdDep``: the path's ``patient_id``, if the patient is on the
  caller's panel; otherwise 404, the same answer as for no such patient.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

import psycopg
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import ConnectionPool

from api import accounts
from api.accounts import SERVICE, Principal, Role
from api.audit import audit_context
from api.exceptions import ForbiddenError, UnauthorizedError
from hub.exceptions import NotFoundError
from hub.read_replica import primary_fence, replica_position, wait_for_fence
from hub.settings import Settings

log = logging.getLogger(__name__)
_bearer = HTTPBearer(auto_error=False)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_conn(request: Request) -> Iterator[psycopg.Connection[Any]]:
    """A pooled connection inside one transaction, committed if the route succeeds."""
    pool: ConnectionPool = request.app.state.pool
    with pool.connection() as conn:
        yield conn


SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": committed before the answer is sent, so a client that acts on
# the answer (a browser using the token it was just given) sees what it reports.
ConnDep = Annotated[psycopg.Connection[Any], Depends(get_conn, scope="function")]

#: How long a read waits for a replica connection before using the primary's.
READ_CHECKOUT_S = 1.0


def _read_conn(
    request: Request, conn: psycopg.Connection[Any], *, max_lag_s: float | None
) -> Iterator[psycopg.Connection[Any]]:
    """The replica's connection if it may serve this read (hub/read_replica.py), else ``conn``."""
    read_pool: ConnectionPool | None = request.app.state.read_pool
    if read_pool is None:
        yield conn
        return
    settings = get_settings(request)
    fence = primary_fence(conn)
    reason = "lagging"
    try:
        replica = read_pool.getconn(timeout=READ_CHECKOUT_S)
    except psycopg.OperationalError:  # PoolTimeout too: down, or every connection busy
        replica, reason = None, "unavailable"
    fits = False
    if replica is not None:
        try:
            if max_lag_s is None:
                wait = settings.database_read_wait_s
                fits = wait_for_fence(replica, fence=fence, timeout_s=wait)
            else:
                fits = replica_position(replica, fence=fence).within(max_lag_s)
        except psycopg.OperationalError:
            reason = "unavailable"
        if not fits:
            _give_back(read_pool, replica)
    if replica is None or not fits:
        route = getattr(request.scope.get("route"), "path", None)  # the template: no ids
        log.warning("read_from_primary", extra={"reason": reason, "route": route})
        yield conn
        return
    try:
        yield replica
    finally:
        _give_back(read_pool, replica)


def _give_back(pool: ConnectionPool, conn: psycopg.Connection[Any]) -> None:
    """End the read-only transaction (nothing to commit) and return the connection."""
    if not conn.closed:
        with contextlib.suppress(psycopg.Error):
            conn.rollback()
    pool.putconn(conn)


def get_read_conn(request: Request, conn: ConnDep) -> Iterator[psycopg.Connection[Any]]:
    yield from _read_conn(request, conn, max_lag_s=None)


def get_lagged_read_conn(request: Request, conn: ConnDep) -> Iterator[psycopg.Connection[Any]]:
    yield from _read_conn(request, conn, max_lag_s=get_settings(request).database_read_max_lag_s)


ReadConnDep = Annotated[psycopg.Connection[Any], Depends(get_read_conn, scope="function")]
LaggedReadConnDep = Annotated[
    psycopg.Connection[Any], Depends(get_lagged_read_conn, scope="function")
]


def current_principal(
    request: Request,
    settings: SettingsDep,
    conn: ConnDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    token = credentials.credentials if credentials is not None else ""
    if not token:
        raise UnauthorizedError("unauthorized", "a bearer token is required")
    service = settings.admin_token.get_secret_value()
    if service and hmac.compare_digest(token.encode(), service.encode()):
        principal = SERVICE
    else:
        user = accounts.use_token(
            conn,
            token=token,
            now=datetime.now(UTC),
            idle=timedelta(seconds=settings.auth_idle_timeout_s),
        )
        if user is None:
            raise UnauthorizedError(
                "invalid_token", "the token is unknown, expired, idle too long, or revoked"
            )
        principal = user.principal
    audit_context(request).principal = principal
    return principal


CurrentUserDep = Annotated[Principal, Depends(current_principal)]


def require_admin(principal: CurrentUserDep) -> Principal:
    if principal.role is not Role.ADMIN:
        raise ForbiddenError("forbidden", "only an admin may do this")
    return principal


AdminDep = Depends(require_admin)


def require_supervisor(principal: CurrentUserDep) -> Principal:
    if principal.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise ForbiddenError("forbidden", "only a supervisor or an admin may do this")
    return principal


SupervisorDep = Annotated[Principal, Depends(require_supervisor)]


def require_user(principal: CurrentUserDep) -> UUID:
    if principal.user_id is None:
        raise ForbiddenError("forbidden", "this is recorded as a person's: use a user's token")
    return principal.user_id


UserIdDep = Annotated[UUID, Depends(require_user)]


def visible_patient(
    patient_id: UUID, principal: CurrentUserDep, conn: ConnDep, request: Request
) -> UUID:
    audit_context(request).patient_id = patient_id
    if not accounts.patient_visible(conn, principal=principal, patient_id=patient_id):
        raise NotFoundError(f"patient {patient_id}")
    return patient_id


PatientIdDep = Annotated[UUID, Depends(visible_patient)]
