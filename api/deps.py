"""FastAPI dependencies, defined once as typed aliases.

- ``ConnDep``: a pooled connection in one transaction, committed if the route succeeds.
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

import hmac
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
from hub.settings import Settings

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
