"""Authentication (OAuth2 password flow), logout, password change, and users.

Every route here is an auth event in the audit log (``auth.*``); failed
logins there are what the login rate limit counts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordRequestForm

from api import accounts, audit
from api.accounts import Role
from api.deps import AdminDep, ConnDep, CurrentUserDep, SettingsDep
from api.exceptions import BadRequestError, TooManyRequestsError, UnauthorizedError
from api.schemas import PasswordChangeIn, TokenOut, UserIn, UserOut

router = APIRouter(prefix="/api/v1")
_bearer = HTTPBearer(auto_error=False)


@router.post("/auth/token", response_model=TokenOut)
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    conn: ConnDep,
    settings: SettingsDep,
) -> TokenOut:
    """Exchange a user name and password for a bearer token."""
    context = audit.audit_context(request)
    context.action = "auth.login"
    # The audit row keeps what was tried; PostgreSQL text cannot hold NUL.
    context.attempted = form.username.replace("\x00", "\ufffd")[:64]
    now = datetime.now(UTC)
    client = request.client.host if request.client else ""
    by_user, by_client = audit.failed_logins(
        conn,
        username=context.attempted,
        client=client,
        since=now - timedelta(seconds=settings.login_window_s),
    )
    if (
        by_user >= settings.login_max_failures
        or by_client >= settings.login_max_failures_per_client
    ):
        raise TooManyRequestsError(
            "too_many_attempts",
            "too many failed logins; try again later",
            retry_after_s=settings.login_window_s,
        )
    user = accounts.authenticate(conn, username=form.username, password=form.password, now=now)
    if user is None:
        raise UnauthorizedError("invalid_credentials", "wrong user name or password")
    context.principal = user.principal
    lifetime = timedelta(seconds=settings.token_lifetime_s)
    token = accounts.issue_token(conn, user_id=user.id, now=now, lifetime=lifetime)
    return TokenOut(access_token=token, expires_in=settings.token_lifetime_s)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(
    request: Request,
    principal: CurrentUserDep,
    conn: ConnDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Response:
    """Revoke the token this request carries."""
    audit.audit_context(request).action = "auth.logout"
    if credentials is not None and principal.user_id is not None:
        accounts.revoke_token(conn, token=credentials.credentials, now=datetime.now(UTC))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/auth/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(
    request: Request, body: PasswordChangeIn, principal: CurrentUserDep, conn: ConnDep
) -> Response:
    """Change one's password; every token of the user is revoked (log in again)."""
    audit.audit_context(request).action = "auth.password"
    if principal.user_id is None:
        raise BadRequestError("not_a_user", "the service token has no password")
    changed = accounts.change_password(
        conn,
        user_id=principal.user_id,
        current=body.current_password,
        new=body.new_password,
        now=datetime.now(UTC),
    )
    if not changed:
        raise UnauthorizedError("invalid_credentials", "the current password is wrong")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/auth/me", response_model=UserOut)
def me(principal: CurrentUserDep) -> UserOut:
    return UserOut(id=principal.user_id, username=principal.username, role=principal.role.value)


def _out(user: accounts.User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        role=user.role.value,
        display_name=user.display_name,
        supervisor_id=user.supervisor_id,
    )


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    dependencies=[AdminDep],
)
def create_user(body: UserIn, conn: ConnDep) -> UserOut:
    user = accounts.create_user(
        conn,
        username=body.username,
        password=body.password,
        role=Role(body.role),
        now=datetime.now(UTC),
        display_name=body.display_name,
        supervisor_id=body.supervisor_id,
    )
    return _out(user)


@router.get("/users", response_model=list[UserOut], dependencies=[AdminDep])
def list_users(conn: ConnDep) -> list[UserOut]:
    return [_out(u) for u in accounts.list_users(conn)]
