"""Fuzzing the pharmacy importers and the conformance sample loader (issue #7, item 7).

The FHIR path is fuzzed where every way in meets it (``parse_dispense``) and
end to end over HTTP (Bundle and NDJSON, against the real database); the
CSV importer from the file's bytes, read as ``lastmile import dispenses``
reads them. Every input is accepted or rejected with a known code, never
an uncaught exception (over HTTP: never a 5xx).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import strategies as st

from hub.domain import Dispense, Rejection
from ingest.conformance.exceptions import SampleError
from ingest.conformance.samples import load_samples
from ingest.dispenses import parse_dispense
from ingest.pharmacy_csv import REQUIRED, CsvFormatError, read_rows, row_to_resource
from tests.proof import Profile, ProofRow
from tests.security.fuzzing import (
    DISPENSE_CODES,
    FEED_SEEDS,
    NASTY_TEXT,
    READINGS,
    fuzz,
    mutated,
    mutated_bytes,
    payloads,
)
from tests.test_dispenses import dispense

TODAY = date(2026, 3, 1)
KEYS = ["status", "subject", "identifier", "system", "value", "whenHandedOver",
        "daysSupply", "medicationCodeableConcept", "coding", "code", "text", "quantity",
        "resourceType"]  # fmt: skip


def _check_dispense(resource: Any) -> bool:
    if not isinstance(resource, dict):
        return False  # not a resource: the callers reject it before parse_dispense
    parsed = parse_dispense(resource, today=TODAY)
    if isinstance(parsed, Rejection):
        assert parsed.code in DISPENSE_CODES, parsed
        return False
    assert isinstance(parsed, Dispense)
    assert parsed.filled_on <= TODAY
    assert 1 <= parsed.days_supply <= 366
    texts = (parsed.identifier, parsed.patient_system, parsed.patient_value, parsed.code,
             parsed.medication)  # fmt: skip
    assert not any("\x00" in t for t in texts if t), "PostgreSQL text cannot hold it"
    assert parsed.patient_system
    assert parsed.patient_value
    return True


#: A NUL passed validation, then the insert failed: over HTTP the whole request was refused
#: (400 invalid_value), over MQTT the batch was quarantined, in a CSV import a traceback.
NUL_DISPENSES = [
    dispense(subject={"identifier": {"system": "urn:mrn", "value": "SIM\x001"}}),
    dispense(medicationCodeableConcept={"text": "furo\x00semide"}),
]


def test_fuzz_fhir_dispense(proof: ProofRow, proof_profile: Profile) -> None:
    strategy = mutated([dispense(), dispense(identifier=None, quantity=None)], keys=KEYS)
    fuzz(proof, proof_profile, strategy, _check_dispense, target="parse_dispense",
         examples=NUL_DISPENSES)  # fmt: skip


COLUMNS = [*REQUIRED, "medication", "dispense_id"]
CELLS = (
    st.sampled_from(
        ["rxnorm", "ndc", "RXNORM", "1000001", "00071-0155-23", "2026-02-01", "2026-13-01",
         "30", "30.5", "0", "-3", "1e9", "inf", "nan", "urn:mrn", "SIM-1", "furosemide 40 mg"]
    )
    | st.sampled_from(NASTY_TEXT)
    | st.text(max_size=30)
)  # fmt: skip


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A CSV export: its header (usually complete, shuffled), rows, then byte damage."""
    header = draw(
        st.permutations(COLUMNS) | st.lists(st.sampled_from([*COLUMNS, "x"]), unique=True)
    )
    rows = draw(st.lists(st.lists(CELLS, min_size=len(header), max_size=len(header)), max_size=6))
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    data = text.getvalue().encode("utf-8")
    return draw(st.just(data) | mutated_bytes([data]) | st.just(b"\xef\xbb\xbf" + data))


def _check_csv(data: bytes) -> bool:
    lines = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="")
    accepted = True
    try:
        for _, row in read_rows(lines):
            resource = row_to_resource(row)
            if isinstance(resource, Rejection):
                assert resource.code in DISPENSE_CODES, resource
                accepted = False
            else:
                accepted = _check_dispense(resource) and accepted
    except CsvFormatError:
        return False  # the file as a whole is refused, with its reason
    return accepted


#: Found by this fuzzer: a field over the csv module's limit, and bytes that are not UTF-8,
#: escaped from the importer as csv.Error / UnicodeDecodeError (a traceback in the CLI).
CSV_CRASHES = [
    (",".join(REQUIRED) + '\n"' + "x" * 200_000 + '"\n').encode(),
    (",".join(REQUIRED) + "\n").encode() + b"urn:mrn,\xff\n",
]


def test_fuzz_csv_import(proof: ProofRow, proof_profile: Profile) -> None:
    fuzz(proof, proof_profile, csv_files(), _check_csv, target="CSV import", examples=CSV_CRASHES)


@pytest.mark.services
def test_fuzz_pharmacy_http(api: TestClient, proof: ProofRow, proof_profile: Profile) -> None:
    ndjson = mutated(FEED_SEEDS[:2]).map(
        lambda d: b"\n".join(orjson.dumps(r) for r in (d if isinstance(d, list) else [d]))
    )
    bodies = st.tuples(st.just("application/fhir+json"), payloads(FEED_SEEDS[2:])) | st.tuples(
        st.just("application/fhir+ndjson"), ndjson | payloads(FEED_SEEDS[:2])
    )

    def check(sent: tuple[str, bytes]) -> bool:
        content_type, body = sent
        response = api.post(
            "/api/v1/pharmacy/dispenses", content=body, headers={"Content-Type": content_type}
        )
        assert response.status_code in (200, 400), (response.status_code, response.text)
        report = response.json()
        if response.status_code == 400:
            assert report["code"] in {c.value for c in DISPENSE_CODES}, report
            return False
        entries = report["entries"]
        # "stored" counts the held ones too (new rows for patients not enrolled yet)
        assert report["held"] <= report["stored"]
        assert report["stored"] + report["duplicates"] + report["rejected"] == len(entries)
        codes = {e["code"] for e in entries if e["status"] == "rejected"}
        assert codes <= {c.value for c in DISPENSE_CODES}, codes
        return bool(report["rejected"] == 0)

    fuzz(proof, proof_profile, bodies, check, target="POST /pharmacy/dispenses", full=3_000)


def test_fuzz_conformance_samples(tmp_path: Path, proof: ProofRow, proof_profile: Profile) -> None:
    names = st.sampled_from(["a.json", "a.expect-schema_invalid.json", "a.expect-nope.json"])

    def check(sent: tuple[str, bytes, bytes | None]) -> bool:
        name, payload, sidecar = sent
        folder = tmp_path / "samples"
        for old in folder.glob("*/*"):
            old.unlink()
        (folder / "scale").mkdir(parents=True, exist_ok=True)
        (folder / "scale" / name).write_bytes(payload)
        if sidecar is not None:
            (folder / "scale" / (name.removesuffix(".json") + ".expect.json")).write_bytes(sidecar)
        try:
            samples = load_samples([folder], devices={"scale": "SC-1"})
        except SampleError:
            return False
        assert [s.serial for s in samples] == ["SC-1"]
        return True

    sidecars = st.none() | payloads([{"default": "stored", "points": {"h1": "implausible_value"}}])
    strategy = st.tuples(names, payloads(READINGS), sidecars)
    fuzz(proof, proof_profile, strategy, check, target="conformance load_samples", full=5_000)
