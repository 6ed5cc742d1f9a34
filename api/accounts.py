"""Coordinators' accounts: users, passwords, bearer tokens and panels.

Repository functions over a connection: keyword-only, never commit.

- Passwords are hashed with Argon2id (``argon2-cffi``'s defaults, RFC 9106's
  second recommended profile); a hash made with older parameters is
  replaced at the next login.
- A bearer token is 32 random bytes; only its SHA-256 is stored. It ends at
  its expiry, after ``idle`` without use, at logout, or when the user's
  password changes.
- A patient is visible to an admin, to the coordinators it is assigned to,
  and to their supervisors (:func:`patient_visible`).
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from psycopg.rows import dict_row

from hub.db import Conn
from hub.exceptions import ConflictError, NotFoundError
from hub.sql import queries

_HASHER = PasswordHasher()
#: Verified against when the user name is unknown, so both take as long.
_DUMMY_HASH = _HASHER.hash("not a password of anyone's")
MIN_PASSWORD_LENGTH = 12


class Role(enum.StrEnum):
    COORDINATOR = "coordinator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user, or the service holding the admin token (``user_id`` None)."""

    user_id: UUID | None
    username: str
    role: Role

    @property
    def sees_all_patients(self) -> bool:
        return self.role is Role.ADMIN


SERVICE = Principal(user_id=None, username="service", role=Role.ADMIN)


@dataclass(frozen=True, slots=True)
class User:
    id: UUID
    username: str
    display_name: str | None
    role: Role
    supervisor_id: UUID | None
    disabled: bool

    @property
    def principal(self) -> Principal:
        return Principal(user_id=self.id, username=self.username, role=self.role)


def _user(row: dict[str, Any]) -> User:
    return User(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        supervisor_id=row["supervisor_id"],
        disabled=row["disabled"],
    )


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")


def create_user(
    conn: Conn,
    *,
    username: str,
    password: str,
    role: Role,
    now: datetime,
    display_name: str | None = None,
    supervisor_id: UUID | None = None,
) -> User:
    check_password_strength(password)
    params = {
        "id": uuid.uuid4(),
        "username": username,
        "display_name": display_name,
        "role": role.value,
        "supervisor_id": supervisor_id,
        "password_hash": _HASHER.hash(password),
        "now": now,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        try:
            with conn.transaction():
                row = cur.execute(queries["insert_user"], params).fetchone()
        except psycopg.errors.UniqueViolation as exc:
            raise ConflictError(f"user {username} exists") from exc
        except psycopg.errors.ForeignKeyViolation as exc:
            raise NotFoundError("supervisor") from exc
    assert row is not None
    return _user(row)


def list_users(conn: Conn) -> list[User]:
    with conn.cursor(row_factory=dict_row) as cur:
        return [_user(row) for row in cur.execute(queries["list_users"])]


def authenticate(conn: Conn, *, username: str, password: str, now: datetime) -> User | None:
    """The user if the password is right and the account enabled; else None."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(queries["user_by_username"], {"username": username}).fetchone()
    stored = row["password_hash"] if row is not None else _DUMMY_HASH
    try:
        _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row["disabled"]:
        return None
    if _HASHER.check_needs_rehash(stored):
        conn.execute(
            queries["set_password"],
            {"id": row["id"], "password_hash": _HASHER.hash(password), "now": now},
        )
    return _user(row)


def change_password(conn: Conn, *, user_id: UUID, current: str, new: str, now: datetime) -> bool:
    """Set a new password (the current one must be right); every token is revoked."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(queries["user_by_id"], {"id": user_id}).fetchone()
    if row is None:
        raise NotFoundError(f"user {user_id}")
    try:
        _HASHER.verify(row["password_hash"], current)
    except (VerificationError, InvalidHashError):
        return False
    check_password_strength(new)
    conn.execute(
        queries["set_password"], {"id": user_id, "password_hash": _HASHER.hash(new), "now": now}
    )
    conn.execute(queries["revoke_user_tokens"], {"user_id": user_id, "now": now})
    return True


def reset_password(conn: Conn, *, user_id: UUID, new: str, now: datetime) -> None:
    """Set a password without the current one (an admin's reset); every token is revoked."""
    check_password_strength(new)
    conn.execute(
        queries["set_password"], {"id": user_id, "password_hash": _HASHER.hash(new), "now": now}
    )
    conn.execute(queries["revoke_user_tokens"], {"user_id": user_id, "now": now})


def user_by_name(conn: Conn, *, username: str) -> User | None:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(queries["user_by_username"], {"username": username}).fetchone()
    return _user(row) if row is not None else None


def _sha(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def issue_token(conn: Conn, *, user_id: UUID, now: datetime, lifetime: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    conn.execute(
        queries["insert_token"],
        {"sha": _sha(token), "user_id": user_id, "now": now, "expires_at": now + lifetime},
    )
    return token


def use_token(conn: Conn, *, token: str, now: datetime, idle: timedelta) -> User | None:
    """The token's user if the token is still good (and mark it used now)."""
    params = {"sha": _sha(token), "now": now, "idle_since": now - idle}
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(queries["use_token"], params).fetchone()
    return _user(row) if row is not None else None


def revoke_token(conn: Conn, *, token: str, now: datetime) -> None:
    conn.execute(queries["revoke_token"], {"sha": _sha(token), "now": now})


# -- panels ------------------------------------------------------------------


def assign_coordinators(
    conn: Conn, *, patient_id: UUID, user_ids: Sequence[UUID], now: datetime, replace: bool
) -> list[UUID]:
    """Assign the patient to these coordinators (or supervisors); all of them must exist.

    With ``replace``, the patient's other assignments end.
    """
    wanted = sorted(set(user_ids))
    if replace:
        conn.execute(queries["unassign_coordinators"], {"patient_id": patient_id, "keep": wanted})
    conn.execute(
        queries["assign_coordinators"],
        {"patient_id": patient_id, "user_ids": wanted, "now": now},
    )
    assigned = coordinators_of(conn, patient_id=patient_id)
    missing = set(wanted) - set(assigned)
    if missing:
        raise NotFoundError(f"no coordinator or supervisor with id {sorted(map(str, missing))[0]}")
    return assigned


def coordinators_of(conn: Conn, *, patient_id: UUID) -> list[UUID]:
    rows = conn.execute(queries["patient_coordinators"], {"patient_id": patient_id}).fetchall()
    return [row[0] for row in rows]


def patient_visible(conn: Conn, *, principal: Principal, patient_id: UUID) -> bool:
    """Whether the patient exists and is on the caller's panel (or team's, or all)."""
    row = conn.execute(
        queries["patient_visible"],
        {
            "patient_id": patient_id,
            "all": principal.sees_all_patients,
            "user_id": principal.user_id,
        },
    ).fetchone()
    return bool(row and row[0])


def visible_patient_ids(conn: Conn, *, principal: Principal, limit: int) -> list[UUID]:
    rows = conn.execute(
        queries["visible_patient_ids"],
        {"all": principal.sees_all_patients, "user_id": principal.user_id, "limit": limit},
    ).fetchall()
    return [row[0] for row in rows]
