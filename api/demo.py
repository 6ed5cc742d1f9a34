"""The demo accounts ``lastmile up`` logs the dashboard in with (development only).

A supervisor ``demo-supervisor`` and a coordinator ``demo`` on their team;
the simulated cohort joins ``demo``'s panel. The password is generated once
and kept in ``<data_dir>/demo-login.txt`` (mode 0600), like the other
development secrets; it is never committed.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from api import accounts
from api.accounts import Role
from hub.db import connect
from hub.services.secrets import write_private
from hub.settings import Settings

COORDINATOR = "demo"
SUPERVISOR = "demo-supervisor"


def ensure_demo_login(settings: Settings) -> tuple[str, str]:
    """The demo coordinator's user name and password, creating the accounts if needed."""
    path = settings.data_dir / "demo-login.txt"
    saved = path.read_text().split() if path.exists() else []
    password = saved[1] if len(saved) == 2 else secrets.token_urlsafe(12)
    now = datetime.now(UTC)
    with connect(settings) as conn:
        for username, role in ((SUPERVISOR, Role.SUPERVISOR), (COORDINATOR, Role.COORDINATOR)):
            user = accounts.user_by_name(conn, username=username)
            if user is None:
                boss = accounts.user_by_name(conn, username=SUPERVISOR)
                accounts.create_user(
                    conn,
                    username=username,
                    password=password,
                    role=role,
                    now=now,
                    display_name=f"Demo {role.value}",
                    supervisor_id=boss.id
                    if boss is not None and role is Role.COORDINATOR
                    else None,
                )
            elif not saved:  # the password was lost with the file: set a new one
                accounts.reset_password(conn, user_id=user.id, new=password, now=now)
        conn.commit()
    if not saved:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_private(path, f"{COORDINATOR} {password}\n")
    return COORDINATOR, password
