"""Pharmacy dispenses: the FHIR validation path and the CSV import, on the real database."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from flows.refill_checks import check_refills, run_refill_checks
from hub import patients
from hub.domain import Dispense, Rejection
from hub.settings import Settings
from ingest.dispenses import RXNORM, parse_dispense
from ingest.pharmacy_csv import CsvFormatError, import_rows, read_rows
from lastmile.cli import main
from tests.support import count

TODAY = date(2026, 3, 1)


def dispense(**changes: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationDispense",
        "status": "completed",
        "identifier": [{"system": "urn:pharmacy:test", "value": "RX-1"}],
        "subject": {"identifier": {"system": "urn:mrn", "value": "SIM-1"}},
        "medicationCodeableConcept": {
            "coding": [
                {"system": RXNORM, "code": "1000001", "display": "Furosemide 40 MG Oral Tablet"}
            ]
        },
        "whenHandedOver": "2026-02-01T10:30:00Z",
        "daysSupply": {"value": 30, "system": "http://unitsofmeasure.org", "code": "d"},
        "quantity": {"value": 30},
    }
    resource.update(changes)
    return {k: v for k, v in resource.items() if v is not None}


def test_a_fhir_dispense_is_validated_and_classified() -> None:
    parsed = parse_dispense(dispense(), today=TODAY)
    assert isinstance(parsed, Dispense)
    assert (parsed.patient_system, parsed.patient_value) == ("urn:mrn", "SIM-1")
    assert (parsed.drug, parsed.classes) == ("furosemide", frozenset({"loop_diuretics"}))
    assert (parsed.filled_on, parsed.days_supply, parsed.quantity) == (date(2026, 2, 1), 30, 30.0)
    assert parsed.dedup_key == "id:urn:pharmacy:test|RX-1"
    anonymous = parse_dispense(dispense(identifier=None), today=TODAY)
    assert isinstance(anonymous, Dispense)
    assert anonymous.dedup_key == f"fill:urn:mrn|SIM-1:{RXNORM}|1000001:2026-02-01"


@pytest.mark.parametrize(
    ("changes", "code", "detail"),
    [
        ({"daysSupply": None}, "schema_invalid", "daysSupply"),
        ({"daysSupply": {"value": 0}}, "schema_invalid", "daysSupply"),
        ({"whenHandedOver": "2026-03-02"}, "time_in_future", "whenHandedOver"),
        ({"whenHandedOver": None}, "schema_invalid", "whenHandedOver"),
        ({"subject": {"reference": "Patient/1"}}, "schema_invalid", "subject.identifier"),
        ({"status": "handed-over-by-drone"}, "schema_invalid", "status"),
        ({"status": "cancelled"}, "schema_invalid", "only a completed dispense"),
        ({"resourceType": "Observation"}, "schema_invalid", "resourceType"),
        ({"medicationCodeableConcept": {"coding": [{"system": "urn:other", "code": "1"}]}},
         "schema_invalid", "medicationCodeableConcept"),
    ],
)  # fmt: skip
def test_a_bad_dispense_gets_one_coded_rejection(
    changes: dict[str, Any], code: str, detail: str
) -> None:
    found = parse_dispense(dispense(**changes), today=TODAY)
    assert isinstance(found, Rejection)
    assert found.code.value == code
    assert detail in found.detail


CSV = """\
patient_system,patient_value,drug_system,drug_code,fill_date,days_supply,quantity,medication,dispense_id
urn:mrn,SIM-1,rxnorm,1000002,2026-01-01,30,30,lisinopril 10 MG Oral Tablet,
urn:mrn,SIM-1,rxnorm,1000002,2026-01-01,30,30,lisinopril 10 MG Oral Tablet,
urn:mrn,SIM-1,ndc,00000-0000-01,2026-01-05,,30,furosemide 40 MG,
urn:mrn,SIM-2,rxnorm,1000003,2026-01-03,30,30,,RX-9
urn:mrn,SIM-1,xyz,1,2026-01-03,30,30,,
urn:mrn,SIM-1,rxnorm,1000004,2026-13-45,30,30,,
urn:mrn,SIM-1,rxnorm,1000005,2099-01-01,90,90,,
"""


def enroll_sim_1(conn: psycopg.Connection[Any]) -> None:
    patients.enroll_patient(
        conn,
        pathway="CHF",
        discharge_date=None,
        identifiers=[patients.Identifier("urn:mrn", "SIM-1")],
    )


def _import(conn: psycopg.Connection[Any], text: str) -> dict[str, Any]:
    total: dict[str, Any] = {"stored": 0, "held": 0, "duplicates": 0, "unclassified": 0}
    rejected: list[tuple[int, str]] = []
    touched: set[Any] = set()
    for part in import_rows(conn, read_rows(io.StringIO(text)), batch_size=3, today=TODAY):
        for key in total:
            total[key] += getattr(part, key)
        rejected += [(line, code) for line, code, _ in part.rejected]
        touched |= part.patients
    for _ in check_refills(conn, touched):  # as the import command does
        conn.commit()
    conn.commit()
    return {**total, "rejected": rejected}


def test_a_csv_import_stores_holds_skips_and_rejects_with_line_numbers(
    conn: psycopg.Connection[Any],
) -> None:
    enroll_sim_1(conn)
    conn.commit()
    assert _import(conn, CSV) == {
        "stored": 2,
        "held": 1,  # SIM-2 is not enrolled yet
        "duplicates": 1,  # the same patient, drug and fill date twice
        "unclassified": 1,  # a code with no name: kept, not classified
        "rejected": [
            (4, "schema_invalid"),  # no days' supply
            (6, "schema_invalid"),  # not rxnorm nor ndc
            (7, "schema_invalid"),  # no such date
            (8, "time_in_future"),
        ],
    }
    # Again: every valid row is a duplicate now.
    again = _import(conn, CSV)
    assert (again["stored"], again["duplicates"]) == (0, 3)
    assert count(conn, "SELECT count(*) FROM dispenses") == 2
    # Enrolling SIM-2 claims the dispense held for it.
    later = patients.enroll_patient(
        conn,
        pathway="HTN",
        discharge_date=None,
        identifiers=[patients.Identifier("urn:mrn", "SIM-2")],
    )
    conn.commit()
    assert count(conn, "SELECT count(*) FROM dispenses WHERE patient_id IS NULL") == 0
    assert count(conn, "SELECT count(*) FROM dispenses WHERE patient_id = %s", later.id) == 1
    row = conn.execute("SELECT drug, classes FROM dispenses WHERE code = '1000002'").fetchone()
    assert row == ("lisinopril", ["ras_antagonists"])


def test_a_csv_without_its_required_columns_is_refused() -> None:
    with pytest.raises(CsvFormatError, match="days_supply"):
        list(read_rows(io.StringIO("patient_system,patient_value,drug_system,drug_code\n")))


def test_the_import_command_prints_what_it_did(
    settings: Settings, conn: psycopg.Connection[Any], tmp_path: Any
) -> None:
    path = tmp_path / "fills.csv"
    path.write_text(CSV.replace("2099-01-01", "2026-01-09"))
    env = {  # the command reads its settings from the environment, as in use
        "LASTMILE_DATA_DIR": str(settings.data_dir),
        "LASTMILE_PG_HOST": settings.pg_host,
        "LASTMILE_PG_PORT": str(settings.pg_port),
        "LASTMILE_PG_USER": settings.pg_user,
        "LASTMILE_PG_PASSWORD": settings.pg_password.get_secret_value(),
        "LASTMILE_PG_DATABASE": settings.pg_database,
    }
    result = CliRunner().invoke(main, ["import", "dispenses", str(path)], env=env)
    assert result.exit_code == 0, result.output
    assert "7 rows: 3 stored (3 held for patients not enrolled yet), 1 skipped" in result.output
    assert "line 4: schema_invalid: daysSupply" in result.output
    assert count(conn, "SELECT count(*) FROM dispenses") == 3


def test_the_scheduled_refill_pass_finds_a_class_run_out_since_the_fills_arrived(
    conn: psycopg.Connection[Any],
) -> None:
    enroll_sim_1(conn)
    _import(conn, CSV)  # lisinopril filled 1 Jan 2026 for 30 days, imported long after
    # On arrival it was already overdue by today's clock; replay the pass in January's.
    assert conn.execute("SELECT kind FROM alerts").fetchall() == [("refill_overdue",)]
    # Deleted, not truncated: the append-only time log references alerts.
    for table in ("push_outbox", "alert_evidence", "alert_events", "alerts"):
        conn.execute(f"DELETE FROM {table}")  # noqa: S608 - a fixed table name
    on_time = datetime(2026, 2, 3, 9, tzinfo=UTC)  # ran out 31 Jan: within the grace
    assert run_refill_checks(conn, now=on_time) == 0
    assert run_refill_checks(conn, now=on_time + timedelta(days=6)) == 1
    assert conn.execute("SELECT kind FROM alerts").fetchall() == [("refill_overdue",)]
