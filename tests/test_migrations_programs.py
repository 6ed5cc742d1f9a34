"""Migrations of the care programmes and billing (0023 on): what each does to rows an
earlier hub stored, and which tables are append-only for whom."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from hub.db import migrate, migrations
from tests.migration_support import migrate_below

pytestmark = pytest.mark.services


def test_the_time_log_is_append_only_for_the_apps_role_and_its_timers_are_not(
    empty_db: psycopg.Connection[Any],
) -> None:
    """0023: the app adds time entries but never changes them; timers and episodes change."""
    migrate(empty_db)
    privileges = {
        (table, privilege): empty_db.execute(
            "SELECT has_table_privilege('lastmile_app', %s, %s)", (table, privilege)
        ).fetchone()
        for table in ("time_entries", "running_timers", "program_episodes")
        for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
    }
    assert {k for k, v in privileges.items() if v == (True,)} == {
        ("time_entries", "SELECT"),
        ("time_entries", "INSERT"),
        *{(t, p) for t in ("running_timers", "program_episodes")
          for p in ("SELECT", "INSERT", "UPDATE", "DELETE")},
    }  # fmt: skip
    triggers = empty_db.execute(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'time_entries'::regclass"
        " AND NOT tgisinternal ORDER BY tgname"
    ).fetchall()
    # 0025 adds the trigger that places time logged after a month's sign-off.
    assert triggers == [
        ("time_entries_billing_month",),
        ("time_entries_no_truncate",),
        ("time_entries_no_update",),
    ]


def test_billing_sign_offs_are_append_only_for_everyone(empty_db: psycopg.Connection[Any]) -> None:
    """0025: the app signs months off and moves late time, and changes neither after
    (updating and deleting rows: tests/billing_export/test_signoff.py)."""
    migrate(empty_db)
    tables = ("billing_signoffs", "billing_signed_patients", "billing_late_time")
    granted = {
        (table, privilege)
        for table in tables
        for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
        if empty_db.execute(
            "SELECT has_table_privilege('lastmile_app', %s, %s)", (table, privilege)
        ).fetchone()
        == (True,)
    }
    assert granted == {(t, p) for t in tables for p in ("SELECT", "INSERT")}
    for table in tables:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            empty_db.execute(f"TRUNCATE {table} CASCADE")
        empty_db.rollback()


def test_what_episodes_recorded_in_columns_becomes_their_append_only_record(
    empty_db: psycopg.Connection[Any],
) -> None:
    """0028 carries 0023's consent, set-up and TCM milestone columns over to program_records
    (who and when as far as 0023 kept them), drops the columns, and the record is
    append-only for everyone."""
    from datetime import UTC, date, datetime

    from hub.care_programs import Complexity
    from hub.patients import enroll_patient
    from programs.episodes import list_episodes
    from programs.models import ConsentMethod, Fact

    migrate_below(empty_db, 28)
    at = datetime(2026, 3, 2, 15, tzinfo=UTC)
    with empty_db.transaction():
        patient = enroll_patient(empty_db, pathway="CHF", discharge_date=None, identifiers=())
        user = uuid.uuid4()
        empty_db.execute(
            "INSERT INTO users (id, username, role, password_hash, password_changed_at,"
            " created_at) VALUES (%s, 'cora', 'coordinator', 'x', now(), now())",
            (user,),
        )
        empty_db.execute(
            "INSERT INTO program_episodes (patient_id, ordering_name, ordering_npi, created_by,"
            " created_at, kind, started_on, consent_on,"
            " consent_method, consent_recorded_by, consent_recorded_at, setup_on, setup_by,"
            " setup_recorded_by) VALUES (%(p)s, 'Dr. X', '1234567893', %(u)s, %(at)s, 'RPM',"
            " '2026-03-01', '2026-03-01', 'written', %(u)s, %(at)s, '2026-03-02', 'RN Lee',"
            " %(u)s)",
            {"p": patient.id, "u": user, "at": at},
        )
        empty_db.execute(
            "INSERT INTO program_episodes (patient_id, ordering_name, ordering_npi, created_by,"
            " created_at, kind, started_on, discharged_on,"
            " discharge_setting, complexity, face_to_face_on, first_contact_at) VALUES"
            " (%(p)s, 'Dr. X', '1234567893', %(u)s, %(at)s, 'TCM', '2026-03-01', '2026-03-01',"
            " 'inpatient', 'high', '2026-03-05', %(at)s)",
            {"p": patient.id, "u": user, "at": at},
        )
    assert migrate(empty_db) == [m.version for m in migrations() if m.version >= 28]
    tcm, rpm = list_episodes(empty_db, patient_id=patient.id)
    assert rpm.consent is not None
    assert (rpm.consent.on, rpm.consent.method, rpm.consent.recorded_by) == (
        date(2026, 3, 1), ConsentMethod.WRITTEN, user,
    )  # fmt: skip
    assert rpm.setup is not None
    assert (rpm.setup.on, rpm.setup.by, rpm.setup.recorded_at) == (date(2026, 3, 2), "RN Lee", None)
    assert tcm.tcm is not None
    assert (tcm.tcm.complexity, tcm.tcm.face_to_face_on, tcm.tcm.first_contact_at) == (
        Complexity.HIGH, date(2026, 3, 5), at,
    )  # fmt: skip
    contact = tcm.recorded[Fact.CONTACT]
    assert (contact.recorded_by, contact.recorded_at) == (None, None)  # 0023 kept neither
    assert set(tcm.recorded) == {Fact.COMPLEXITY, Fact.FACE_TO_FACE, Fact.CONTACT}
    gone = empty_db.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'program_episodes'"
        " AND column_name IN ('consent_on', 'setup_by', 'first_contact_at', 'complexity')"
    ).fetchone()
    assert gone == (0,)
    # A correction supersedes a record of the same fact of the same episode, once.
    consent = rpm.recorded[Fact.CONSENT].id
    correct = (
        "INSERT INTO program_records (episode_id, patient_id, fact, on_date, method, performer,"
        " recorded_by, recorded_at, supersedes, reason) VALUES (%s, %s, %s, '2026-03-01', %s,"
        " %s, %s, now(), %s, 'why')"
    )
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        empty_db.execute(correct, (rpm.id, patient.id, "setup", None, "RN", user, consent))
    empty_db.rollback()
    written = (rpm.id, patient.id, "consent", "written", None, user, consent)
    empty_db.execute(correct, written)
    with pytest.raises(psycopg.errors.UniqueViolation):
        empty_db.execute(correct, written)
    empty_db.rollback()
    for change in ("UPDATE program_records SET on_date = NULL", "DELETE FROM program_records",
                   "TRUNCATE program_records"):  # fmt: skip
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            empty_db.execute(change)
        empty_db.rollback()
    granted = {
        privilege
        for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
        if empty_db.execute(
            "SELECT has_table_privilege('lastmile_app', 'program_records', %s)", (privilege,)
        ).fetchone()
        == (True,)
    }
    assert granted == {"SELECT", "INSERT"}
