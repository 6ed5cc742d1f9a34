"""Dispenses that carry only a code: the bundled table, loaded codes, `lastmile import rxnorm`.

The RxNorm release here is a tiny synthetic one with made-up concept ids
(9000001...) and NDCs (90000...); its rows have the RRF layout of a real one.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from hub import patients
from hub.dispenses import insert_dispenses
from hub.domain import Dispense
from hub.drug_codes import DrugCode, upsert_drug_codes
from hub.settings import Settings
from ingest.dispenses import NDC, RXNORM, parse_dispense
from ingest.exceptions import RxnormFormatError
from ingest.rxnorm import load_rxnorm
from lastmile.cli import main
from tests.support import count

TODAY = date(2026, 3, 1)


def fill(code_system: str, code: str, *, text: str | None = None, mrn: str = "SIM-1") -> Dispense:
    concept: dict[str, Any] = {"coding": [{"system": code_system, "code": code}]}
    if text:
        concept["text"] = text
    parsed = parse_dispense(
        {
            "resourceType": "MedicationDispense",
            "status": "completed",
            "subject": {"identifier": {"system": "urn:mrn", "value": mrn}},
            "medicationCodeableConcept": concept,
            "whenHandedOver": "2026-02-01",
            "daysSupply": {"value": 30},
        },
        today=TODAY,
    )
    assert isinstance(parsed, Dispense), parsed
    return parsed


def conso(rxcui: str, tty: str, name: str, sab: str = "RXNORM") -> str:
    """A RXNCONSO.RRF line.

    RXCUI|LAT|TS|LUI|STT|SUI|ISPREF|RXAUI|SAUI|SCUI|SDUI|SAB|TTY|CODE|STR|SRL|SUPPRESS|CVF|
    """
    fields = [rxcui, "ENG", "P", "L1", "PF", "S1", "Y", f"A{rxcui}{tty}", "", "", "", sab, tty]
    return "|".join([*fields, rxcui, name, "0", "N", "4096"]) + "|\n"


def sat(rxcui: str, atn: str, value: str, sab: str = "RXNORM") -> str:
    """A RXNSAT.RRF line: RXCUI|LUI|SUI|RXAUI|STYPE|CODE|ATUI|SATUI|ATN|SAB|ATV|SUPPRESS|CVF|."""
    fields = [rxcui, "", "", f"A{rxcui}", "AUI", rxcui, f"AT{value}", "", atn, sab, value]
    return "|".join([*fields, "N", "4096"]) + "|\n"


RXNCONSO = "".join(
    [
        conso("9000001", "IN", "furosemide"),
        conso("9000002", "SCD", "furosemide 40 MG Oral Tablet"),
        conso("9000002", "SY", "Furosemide 40mg tab"),  # a synonym: not a kept term type
        conso("9000003", "SCD", "acetaminophen 500 MG Oral Tablet"),  # in no class
        conso("9000004", "SBD", "lisinopril 10 MG Oral Tablet [Fictitia]"),
        conso("9000005", "SCD", "metoprolol 25 MG Oral Tablet", sab="MTHSPL"),  # not RxNorm's
    ]
)
RXNSAT = "".join(
    [
        sat("9000002", "NDC", "90000000101"),
        sat("9000002", "NDC", "90000000101"),  # the same NDC twice: stored once
        sat("9000003", "NDC", "90000000201"),  # of a drug in no class: counted only
        sat("9000004", "NDC", "90000000301", sab="MTHSPL"),  # not RxNorm's
        sat("9000004", "DM_SPL_ID", "12345"),
    ]
)


def release(tmp_path: Path, *, conso_text: str = RXNCONSO, sat_text: str | None = RXNSAT) -> Path:
    (tmp_path / "rrf").mkdir()
    (tmp_path / "rrf" / "RXNCONSO.RRF").write_text(conso_text, encoding="utf-8")
    if sat_text is not None:
        (tmp_path / "rrf" / "RXNSAT.RRF").write_text(sat_text, encoding="utf-8")
    return tmp_path


def test_a_dispense_with_only_a_code_is_classified_from_the_bundled_table() -> None:
    by_rxcui = fill(RXNORM, "313988")  # furosemide 40 MG Oral Tablet
    assert (by_rxcui.drug, by_rxcui.classes, by_rxcui.medication) == (
        "furosemide",
        frozenset({"loop_diuretics"}),
        None,
    )
    by_ndc = fill(NDC, "55154-5875-00")
    assert (by_ndc.code, by_ndc.drug) == ("55154587500", "furosemide")  # stored normalised
    named = fill(RXNORM, "313988", text="Lisinopril 10 MG Oral Tablet")
    assert named.drug == "lisinopril"  # a name that names a drug wins over the code
    unknown = fill(NDC, "9000-0000-01")
    assert (unknown.code, unknown.drug, unknown.classes) == ("09000000001", "", frozenset())
    assert fill(NDC, "9000000001").code == "9000000001"  # ambiguous: kept as sent


def test_a_loaded_code_classifies_a_dispense_when_it_is_stored(
    conn: psycopg.Connection[Any],
) -> None:
    upsert_drug_codes(
        conn,
        codes=[
            DrugCode(RXNORM, "9000002", "furosemide 40 MG Oral Tablet", "furosemide",
                     frozenset({"loop_diuretics"})),
        ],
    )  # fmt: skip
    batch = [fill(RXNORM, "9000002"), fill(RXNORM, "9000003"), fill(RXNORM, "313988")]
    assert [d.drug for d in batch] == ["", "", "furosemide"]
    done = insert_dispenses(conn, dispenses=batch, source="csv", received_at=datetime.now(UTC))
    assert (done.stored, done.by_loaded_code) == (3, 1)
    rows = conn.execute("SELECT code, drug, classes FROM dispenses ORDER BY code").fetchall()
    assert rows == [
        ("313988", "furosemide", ["loop_diuretics"]),
        ("9000002", "furosemide", ["loop_diuretics"]),
        ("9000003", "", []),
    ]


def test_a_release_loads_its_classified_codes_and_classifies_stored_dispenses(
    conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    enrolled = patients.enroll_patient(
        conn, pathway="CHF", discharge_date=None,
        identifiers=[patients.Identifier("urn:mrn", "SIM-1")],
    )  # fmt: skip
    before = [
        fill(RXNORM, "9000002"),
        fill(NDC, "90000-0001-01", mrn="SIM-9"),  # held: SIM-9 is not enrolled
        fill(RXNORM, "9000003"),  # acetaminophen: stays unclassified
        fill(RXNORM, "9000004", text="lisinopril 10 MG"),  # classified already
    ]
    insert_dispenses(conn, dispenses=before, source="csv", received_at=datetime.now(UTC))
    assert count(conn, "SELECT count(*) FROM dispenses WHERE drug = ''") == 3

    done = load_rxnorm(conn, release(tmp_path), batch_size=2)
    assert (done.concepts, done.classified, done.ndcs, done.ndcs_stored) == (4, 3, 3, 1)
    assert (done.reclassified, done.patients) == (2, {enrolled.id})
    stored = conn.execute("SELECT system, code, drug, classes FROM drug_codes ORDER BY code")
    assert stored.fetchall() == [
        (NDC, "90000000101", "furosemide", ["loop_diuretics"]),
        (RXNORM, "9000001", "furosemide", ["loop_diuretics"]),
        (RXNORM, "9000002", "furosemide", ["loop_diuretics"]),
        (RXNORM, "9000004", "lisinopril", ["ras_antagonists"]),
    ]  # fmt: skip
    rows = conn.execute("SELECT code, drug FROM dispenses ORDER BY code").fetchall()
    assert rows == [
        ("90000000101", "furosemide"),
        ("9000002", "furosemide"),
        ("9000003", ""),
        ("9000004", "lisinopril"),
    ]
    again = load_rxnorm(conn, tmp_path)  # loading it again changes nothing
    assert (again.classified, again.reclassified) == (3, 0)
    assert count(conn, "SELECT count(*) FROM drug_codes") == 4


def test_a_release_without_rxnsat_loads_no_ndcs(
    conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    done = load_rxnorm(conn, release(tmp_path, sat_text=None))
    assert (done.classified, done.had_ndcs, done.ndcs_stored) == (3, False, 0)
    assert "no RXNSAT.RRF" in done.summary()


@pytest.mark.parametrize(
    ("conso_text", "message"),
    [
        ("9000001|ENG|P|RXNORM|IN|furosemide|\n", "RXNCONSO.RRF line 1: 7 fields, expected 18"),
        (conso("9000001", "IN", "furosemide", sab="MTHSPL"), "no RxNorm (SAB=RXNORM)"),
    ],
)
def test_a_file_that_is_not_an_rxnorm_release_is_refused(
    conn: psycopg.Connection[Any], tmp_path: Path, conso_text: str, message: str
) -> None:
    with pytest.raises(RxnormFormatError, match=re.escape(message)):
        load_rxnorm(conn, release(tmp_path, conso_text=conso_text))


def test_a_directory_without_rxnconso_is_refused(
    conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    with pytest.raises(RxnormFormatError, match=r"no RXNCONSO\.RRF"):
        load_rxnorm(conn, tmp_path)


def test_the_import_command_loads_a_release_and_reports_what_it_did(
    settings: Settings, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    patients.enroll_patient(
        conn, pathway="CHF", discharge_date=None,
        identifiers=[patients.Identifier("urn:mrn", "SIM-1")],
    )  # fmt: skip
    insert_dispenses(conn, dispenses=[fill(RXNORM, "9000002")], source="csv",
                     received_at=datetime.now(UTC))  # fmt: skip
    result = CliRunner().invoke(
        main, ["import", "rxnorm", str(release(tmp_path))], env=settings.subprocess_env()
    )
    assert result.exit_code == 0, result.output
    assert (
        "4 RxNorm ingredient and drug names, 3 in a drug class; 3 NDCs, 1 of those drugs; "
        "1 stored dispenses of no known drug classified by their code; "
        "refill checks of 1 patients recorded"
    ) in result.output
    assert count(conn, "SELECT count(*) FROM drug_codes") == 4


def test_the_import_command_stores_nothing_from_a_bad_release(
    settings: Settings, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    bad = RXNCONSO + "9000009|ENG|RXNORM|SCD|truncated\n"
    directory = str(release(tmp_path, conso_text=bad))
    result = CliRunner().invoke(
        main, ["import", "rxnorm", directory, "--batch-size", "1"], env=settings.subprocess_env()
    )
    assert result.exit_code == 1
    assert "RXNCONSO.RRF line 7: 5 fields, expected 18" in result.output
    assert count(conn, "SELECT count(*) FROM drug_codes") == 0  # the batch before was rolled back
