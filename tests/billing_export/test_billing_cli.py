"""``lastmile billing export``: the same bytes as the API's, to a file, with a progress bar."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.accounts import Role
from hub.settings import Settings
from lastmile.cli import main
from tests.api_support import caller, make_user
from tests.billing_export.support import CALL, daily, home, log, programme

pytestmark = pytest.mark.services


def _export(settings: Settings, out: Path, fmt: str, month: str = "2026-03") -> Any:
    args = ["billing", "export", "--month", month, "--format", fmt, "--out", str(out)]
    return CliRunner().invoke(main, args, env=settings.subprocess_env())


def test_the_command_writes_the_apis_bytes_and_the_signed_ones_once_signed(
    api: TestClient, conn: psycopg.Connection[Any], settings: Settings, tmp_path: Path
) -> None:
    ada = caller(api, conn, "ada", Role.ADMIN)
    cora = make_user(conn, "cora")
    for n in range(3):
        h = home(conn, mrn=f"SIM-{n}", tz="America/Denver", coordinator=cora, serials=(f"S{n}",))
        programme(conn, h.patient, cora, consent=date(2026, 3, 1))
        daily(conn, h.patient, h.devices[f"S{n}"], date(2026, 3, 1), 10 + 3 * n)
        log(conn, h.patient, cora, at=_at(n), minutes=10 * (n + 1), work=CALL)
    for fmt in ("json", "csv"):
        done = _export(settings, tmp_path / f"march.{fmt}", fmt)
        assert done.exit_code == 0, done.output
        assert "3 patients" in done.output
        assert "exporting patients" in done.output  # the progress bar, on standard error
        answer = api.get(f"/api/v1/billing?month=2026-03&format={fmt}")
        assert (tmp_path / f"march.{fmt}").read_bytes() == answer.content
    lines = (tmp_path / "march.csv").read_text().splitlines()
    assert lines[0].startswith("patient_id,identifiers,program,episode_id,service,")
    assert len(lines) == 1 + 9
    assert api.post("/api/v1/billing/2026-03/sign-off", headers=ada.headers).status_code == 201
    log(conn, h.patient, cora, at=_at(5), minutes=30, work=CALL)  # after: April's
    done = _export(settings, tmp_path / "signed.json", "json")
    assert done.exit_code == 0, done.output
    assert "signed off by ada" in done.output
    assert (tmp_path / "signed.json").read_bytes() == (tmp_path / "march.json").read_bytes()
    wrong = _export(settings, tmp_path / "x.json", "json", month="2026-3")
    assert wrong.exit_code != 0
    assert "YYYY-MM" in wrong.output


def _at(day: int) -> datetime:
    return datetime(2026, 3, 10 + day, 16, tzinfo=UTC)
