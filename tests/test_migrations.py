"""Migrations applied to an empty database give the schema the code expects."""

from __future__ import annotations

import re
import uuid
from typing import Any

import psycopg
import pytest

from hub.db import migrate, migrations
from hub.exceptions import MigrationError
from hub.sql import queries
from tests.migration_support import migrate_below

pytestmark = pytest.mark.services

_PARAM = re.compile(r"%\((\w+)\)s")


def test_all_migrations_apply_once_and_then_nothing(empty_db: psycopg.Connection[Any]) -> None:
    applied = migrate(empty_db)
    assert applied == [m.version for m in migrations()]
    assert migrate(empty_db) == []


def _numbered(query: str) -> str:
    """Turn psycopg's ``%(name)s`` placeholders into PostgreSQL's ``$n``."""
    numbers: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        return f"${numbers.setdefault(match.group(1), len(numbers) + 1)}"

    return _PARAM.sub(number, query)


def test_every_named_query_prepares_against_the_migrated_schema(
    empty_db: psycopg.Connection[Any],
) -> None:
    migrate(empty_db)
    with empty_db.transaction():
        empty_db.execute(queries["create_readings_staging"])
        for name, query in queries.items():
            if query.lstrip().upper().startswith(("COPY", "CREATE")):
                continue
            # PREPARE makes the server resolve every table, column and type.
            empty_db.execute(f"PREPARE q_{name} AS {_numbered(query)}")
        with empty_db.cursor() as cur, cur.copy(queries["copy_readings_staging"]):
            pass  # the COPY column list matches the staging table


def test_readings_is_a_hypertable_with_a_not_null_natural_key(
    empty_db: psycopg.Connection[Any],
) -> None:
    migrate(empty_db)
    hyper = empty_db.execute(
        "SELECT count(*) FROM timescaledb_information.hypertables"
        " WHERE hypertable_name = 'readings'"
    ).fetchone()
    assert hyper == (1,)
    key = empty_db.execute(
        """SELECT a.attname, a.attnotnull
           FROM pg_constraint c
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
           WHERE c.conname = 'readings_natural_key' ORDER BY a.attname"""
    ).fetchall()
    assert key == [("device_id", True), ("measure", True), ("measured_at", True)]
    for table in ("patients", "patient_identifiers", "gateways", "devices", "dead_letters"):
        assert empty_db.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone() == (
            True,
        )


def test_drug_codes_are_keyed_by_system_and_code(empty_db: psycopg.Connection[Any]) -> None:
    migrate(empty_db)
    key = empty_db.execute(
        """SELECT a.attname FROM pg_constraint c
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
           WHERE c.conrelid = 'drug_codes'::regclass AND c.contype = 'p' ORDER BY a.attname"""
    ).fetchall()
    assert key == [("code",), ("system",)]
    columns = empty_db.execute(
        """SELECT column_name, data_type FROM information_schema.columns
           WHERE table_name = 'drug_codes' ORDER BY ordinal_position"""
    ).fetchall()
    assert columns == [
        ("system", "text"),
        ("code", "text"),
        ("name", "text"),
        ("drug", "text"),
        ("classes", "ARRAY"),
    ]
    index = empty_db.execute(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'dispenses_unclassified'"
    ).fetchone()
    assert index is not None
    assert "WHERE (drug = ''::text)" in index[0]


def test_a_changed_migration_is_refused(empty_db: psycopg.Connection[Any]) -> None:
    migrate(empty_db)
    empty_db.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
    empty_db.commit()
    with pytest.raises(MigrationError, match="changed after it was applied"):
        migrate(empty_db)


def test_fitbit_rows_move_to_the_vendor_keyed_tables_and_their_tokens_still_open(
    empty_db: psycopg.Connection[Any],
) -> None:
    """0020 moves 0018's Fitbit rows, tokens sealed by the Fitbit-only sealer included."""
    import os
    from datetime import UTC, date, datetime, timedelta

    import orjson
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    from devices import service as devices
    from devices.cloud import service as cloud
    from devices.cloud.sealing import TokenBox
    from hub.domain import DeviceKind
    from hub.patients import enroll_patient

    migrate_below(empty_db, 20)
    now = datetime(2024, 5, 1, 12, tzinfo=UTC)
    secret = "the Fitbit token key of a hub, long enough"
    # Sealed the way devices/fitbit/crypto.py did before the shared sealer.
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"lastmile fitbit tokens v1"
    ).derive(secret.encode())
    plain = orjson.dumps(
        {
            "access_token": "acc",
            "refresh_token": "ref",
            "expires_at": (now + timedelta(hours=8)).isoformat(),
            "user_id": "7QX9KZ",
            "scope": "weight",
        }
    )
    with empty_db.transaction():
        patient = enroll_patient(empty_db, pathway="CHF", discharge_date=None, identifiers=())
        sealed = (nonce := os.urandom(12)) + AESGCM(key).encrypt(nonce, plain, patient.id.bytes)
        empty_db.execute("INSERT INTO gateways (id, label) VALUES ('gw-vendorfitbit', 'fitbit')")
        device = devices.create_device(
            empty_db,
            serial="fitbit-7QX9KZ",
            kind=DeviceKind.MULTI,
            gateway_id="gw-vendorfitbit",
            patient_id=patient.id,
        )
        empty_db.execute(
            "INSERT INTO fitbit_connections (patient_id, fitbit_user_id, device_id, status,"
            " tokens, expires_at, scope, timezone, pulled_through, connected_at, updated_at)"
            " VALUES (%s, '7QX9KZ', %s, 'connected', %s, %s, 'weight', 'America/Chicago',"
            " '2024-04-30', %s, %s)",
            (patient.id, device.id, sealed, now + timedelta(hours=8), now, now),
        )
        empty_db.execute("INSERT INTO fitbit_auth_states VALUES ('n1', %s, %s)", (patient.id, now))
        empty_db.execute(
            "INSERT INTO fitbit_pull_queue VALUES ('7QX9KZ', '2024-04-30', %s)", (now,)
        )
    assert migrate(empty_db) == [m.version for m in migrations() if m.version >= 20]
    moved = cloud.get_connection(empty_db, vendor="fitbit", patient_id=patient.id)
    assert moved is not None
    assert (moved.account_id, moved.device_id, moved.status, moved.timezone) == (
        "7QX9KZ",
        device.id,
        "connected",
        "America/Chicago",
    )
    assert moved.pulled_through == date(2024, 4, 30)
    row = cloud.lock_connection(empty_db, vendor="fitbit", patient_id=patient.id)
    assert row is not None
    tokens = TokenBox(secret, vendor="fitbit").open(bytes(row["tokens"]), patient_id=patient.id)
    assert (tokens.access_token, tokens.refresh_token, tokens.account_id) == (
        "acc",
        "ref",
        "7QX9KZ",
    )
    assert cloud.queued_pulls(empty_db, vendor="fitbit", now=now) == [
        ("7QX9KZ", date(2024, 4, 30), patient.id)
    ]
    assert empty_db.execute("SELECT vendor, nonce FROM vendor_auth_states").fetchall() == [
        ("fitbit", "n1")
    ]
    gone = empty_db.execute(
        "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'fitbit%%'"
    ).fetchone()
    assert gone == (0,)


def test_measures_and_device_kinds_are_rows_the_spec_fills(
    empty_db: psycopg.Connection[Any],
) -> None:
    """Readings and devices refer to the spec's tables: a new measure needs no migration."""
    from hub.measures import SPECS, DeviceKind

    migrate(empty_db)
    rows = empty_db.execute("SELECT name, unit, ucum, loinc FROM measures").fetchall()
    assert sorted(rows) == sorted(
        (s.measure.value, s.unit, s.ucum, s.loinc) for s in SPECS.values()
    )
    kinds = empty_db.execute("SELECT name FROM device_kinds").fetchall()
    assert sorted(k for (k,) in kinds) == sorted(k.value for k in DeviceKind)
    checks = empty_db.execute(
        """SELECT conname FROM pg_constraint
           WHERE conrelid IN ('readings'::regclass, 'devices'::regclass) AND contype = 'c'
             AND pg_get_constraintdef(oid) ~ '(measure|kind) = ANY'"""
    ).fetchall()
    assert checks == []
    # An unknown measure or kind is still refused, by the foreign keys.
    patient = uuid.uuid4()
    empty_db.execute("INSERT INTO patients (id) VALUES (%s)", (patient,))
    empty_db.execute("INSERT INTO gateways (id) VALUES ('gw-abcdefgh')")
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        empty_db.execute(
            "INSERT INTO devices (serial, kind, gateway_id, patient_id)"
            " VALUES ('S1', 'toaster', 'gw-abcdefgh', %s)",
            (patient,),
        )
    empty_db.rollback()
    empty_db.execute("INSERT INTO patients (id) VALUES (%s)", (patient,))
    empty_db.execute("INSERT INTO gateways (id) VALUES ('gw-abcdefgh')")
    (device,) = empty_db.execute(
        "INSERT INTO devices (serial, kind, gateway_id, patient_id)"
        " VALUES ('S1', 'multi', 'gw-abcdefgh', %s) RETURNING id",
        (patient,),
    ).fetchone() or (None,)
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        empty_db.execute(
            """INSERT INTO readings (measured_at, device_id, measure, patient_id, value, unit,
                   original_value, original_unit, modality, schema_version, header_id,
                   received_at)
               VALUES (now(), %s, 'blood-sugar', %s, 1, 'x', 1, 'x', 'sensed', '1.0', 'h',
                       now())""",
            (device, patient),
        )
    empty_db.rollback()


def test_a_measure_whose_unit_changed_is_refused(empty_db: psycopg.Connection[Any]) -> None:
    migrate(empty_db)
    empty_db.execute("UPDATE measures SET unit = 'lb' WHERE name = 'body-weight'")
    empty_db.commit()
    with pytest.raises(MigrationError, match="body-weight is stored in lb"):
        migrate(empty_db)


def test_stored_overrides_are_renamed_to_the_limits_by_measure(
    empty_db: psycopg.Connection[Any],
) -> None:
    """0022 rewrites a patient's old threshold keys as ``hub.limits.LEGACY_KEYS`` reads them."""
    from psycopg.types.json import Jsonb

    from hub.limits import LEGACY_KEYS, canonical_overrides
    from hub.pathways import get_pathway

    migrate_below(empty_db, 22)

    def value(old: str) -> float | str:
        return "critical" if "severity" in old else 100.0 + len(old)

    bare = {old: value(old) for old in LEGACY_KEYS if not old.startswith("thresholds.")}
    named = {old: value(old) for old in LEGACY_KEYS if old.startswith("thresholds.")}
    others: dict[str, float | str] = {"heart_failure.limit": 6, "schedule.body-weight": 48}
    stored: dict[str, dict[str, float | str]] = {
        "bare": bare | others,
        "named": named,
        "twice": {
            "spo2_low": 86,
            "thresholds.spo2_low": 87,
            "hr_high": 110,
            "limits.heart-rate.high": 115,
        },
        "new": {"limits.oxygen-saturation.low": 86},
        "other": others,
        "none": {},
    }
    ids = {name: uuid.uuid4() for name in stored}
    with empty_db.transaction():
        for name, overrides in stored.items():
            empty_db.execute(
                "INSERT INTO patients (id, pathway, threshold_overrides) VALUES (%s, 'COPD', %s)",
                (ids[name], Jsonb(overrides)),
            )
    assert migrate(empty_db) == [m.version for m in migrations() if m.version >= 22]
    rows = empty_db.execute("SELECT id, threshold_overrides FROM patients").fetchall()
    by_id: dict[Any, Any] = dict(rows)
    now = {name: by_id[ids[name]] for name in stored}
    assert now["bare"] == canonical_overrides(bare) | others
    assert now["named"] == canonical_overrides(named)
    assert now["twice"] == {"limits.oxygen-saturation.low": 87, "limits.heart-rate.high": 115}
    assert (now["new"], now["other"], now["none"]) == (stored["new"], others, {})
    copd = get_pathway("COPD")
    for name in ("bare", "named"):
        assert copd.with_overrides(now[name]).limits == copd.with_overrides(stored[name]).limits
    assert not any(key in LEGACY_KEYS for overrides in now.values() for key in overrides)
