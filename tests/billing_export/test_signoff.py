"""The sign-off in the database: when a month may be signed, where later time goes (whoever
writes it), and that nothing signed changes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest

from billing.models import Month
from flows.billing_export.evidence import Scope
from flows.billing_export.exceptions import AlreadySignedError, MonthNotOverError
from flows.billing_export.signoff import sign_off, signed
from programs import timelog
from programs.timelog import Span
from tests.api_support import make_user
from tests.billing_export.support import CALL, MARCH, NOW, home, log, month_rows, of, programme

pytestmark = pytest.mark.services

Conn = psycopg.Connection[Any]
APRIL = Month(2026, 4)


def _moved(conn: Conn) -> list[tuple[int, date, date]]:
    rows = conn.execute("SELECT entry_id, own_month, month FROM billing_late_time ORDER BY 1")
    return [(int(e), own, month) for e, own, month in rows.fetchall()]


def test_a_month_is_signed_once_it_has_ended_in_every_zone(conn: Conn) -> None:
    """March ends last at UTC-12: at 12:00 UTC on 1 April."""
    ada = make_user(conn, "ada")
    with pytest.raises(MonthNotOverError):
        sign_off(conn, month=MARCH, scope=Scope(), signer=ada,
                 now=datetime(2026, 4, 1, 11, 59, tzinfo=UTC))  # fmt: skip
    done = sign_off(conn, month=MARCH, scope=Scope(), signer=ada,
                    now=datetime(2026, 4, 1, 12, tzinfo=UTC))  # fmt: skip
    assert (done.month, done.scope, done.patient_count, done.row_count) == ("2026-03", "all", 0, 0)
    frozen = signed(conn, month=MARCH, scope=Scope())
    assert frozen is not None
    assert (
        frozen.document
        == b'{"format":"lastmile-billing/1","month":"2026-03","scope":"all","rows":[]}\n'
    )
    with pytest.raises(AlreadySignedError):
        sign_off(conn, month=MARCH, scope=Scope(), signer=ada, now=NOW)


def test_later_time_goes_to_the_first_month_not_signed_and_signed_time_is_not_corrected(
    conn: Conn,
) -> None:
    """Entries logged straight through ``programs`` (not the API): the trigger places them.
    March signed: an entry of 20 March goes to April. April signed too: one of 25 March
    goes to May. A correction of March's own entry is refused by the database itself."""
    cora = make_user(conn, "cora")
    h = home(conn, mrn="SIM-L", tz="America/Chicago", coordinator=cora)
    programme(conn, h.patient, cora, consent=date(2026, 3, 1))
    first = log(conn, h.patient, cora, at=datetime(2026, 3, 5, 15, tzinfo=UTC), minutes=20,
                work=CALL)  # fmt: skip
    sign_off(conn, month=MARCH, scope=Scope(), signer=cora, now=NOW)
    late = log(conn, h.patient, cora, at=datetime(2026, 3, 20, 15, tzinfo=UTC), minutes=12,
               work=CALL)  # fmt: skip
    assert _moved(conn) == [(late.id, date(2026, 3, 1), date(2026, 4, 1))]
    sign_off(conn, month=APRIL, scope=Scope(), signer=cora, now=NOW)
    later = log(conn, h.patient, cora, at=datetime(2026, 3, 25, 15, tzinfo=UTC), minutes=30,
                work=CALL)  # fmt: skip
    assert _moved(conn)[1] == (later.id, date(2026, 3, 1), date(2026, 5, 1))
    may = [r for r in of(month_rows(conn, Month(2026, 5)), h.patient) if r["service"] == "time"]
    assert [(r["code"], r["quantity"]) for r in may] == [("99457", 30)]
    assert may[0]["evidence"]["entries"][0]["moved_from"] == "2026-03"
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="signed month 2026-03"):
        timelog.correct_entry(
            conn, patient_id=h.patient, entry_id=first.id, reason="was 25 minutes", actor=cora,
            now=NOW, span=Span(first.started_at, None, 25 * 60),
        )  # fmt: skip
    # The moved entry is billed in April, signed as well: not corrected either.
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="signed month 2026-04"):
        timelog.correct_entry(
            conn, patient_id=h.patient, entry_id=late.id, reason="none", actor=cora, now=NOW,
            span=Span(late.started_at, None, 0),
        )  # fmt: skip


def test_nothing_signed_is_changed_or_removed(conn: Conn) -> None:
    cora = make_user(conn, "cora")
    h = home(conn, mrn="SIM-S", tz="UTC", coordinator=cora)
    programme(conn, h.patient, cora, consent=date(2026, 3, 1))
    sign_off(conn, month=MARCH, scope=Scope(), signer=cora, now=NOW)
    log(conn, h.patient, cora, at=datetime(2026, 3, 20, 15, tzinfo=UTC), minutes=5, work=CALL)
    for statement in (
        "UPDATE billing_signoffs SET document = ''",
        "DELETE FROM billing_signoffs",
        "UPDATE billing_signed_patients SET month = month",
        "DELETE FROM billing_signed_patients",
        "UPDATE billing_late_time SET month = month",
        "DELETE FROM billing_late_time",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(statement)
