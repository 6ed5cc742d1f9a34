"""``lastmile up``'s demo accounts: made once, password kept privately, re-set if lost."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.demo import COORDINATOR, SUPERVISOR, ensure_demo_login
from hub.settings import Settings
from tests.api_support import login

pytestmark = pytest.mark.services


def test_the_demo_coordinator_is_made_once_on_a_supervisors_team(
    settings: Settings, api: TestClient, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    mine = settings.model_copy(update={"data_dir": tmp_path})
    user, password = ensure_demo_login(mine)
    saved = tmp_path / "demo-login.txt"
    assert saved.read_text() == f"{user} {password}\n"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert ensure_demo_login(mine) == (user, password)
    assert login(api, user, password)
    rows = conn.execute(
        "SELECT u.username, u.role, s.username FROM users u"
        " LEFT JOIN users s ON s.id = u.supervisor_id ORDER BY u.username"
    ).fetchall()
    assert rows == [(COORDINATOR, "coordinator", SUPERVISOR), (SUPERVISOR, "supervisor", None)]
    saved.unlink()  # lost: a new password is set, the old one no longer works
    again, new = ensure_demo_login(mine)
    assert new != password
    assert login(api, again, new)
    old = api.post("/api/v1/auth/token", data={"username": user, "password": password})
    assert old.status_code == 401
