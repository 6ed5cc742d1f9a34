"""Enrollment with conditions and discharge-risk inputs: the scores are computed once and stored.

Every patient here is made up; the arithmetic is in hub/discharge_risk.py's doctest.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from hub import patients
from hub.discharge_risk import DischargeInputs
from tests.api_support import caller

pytestmark = pytest.mark.services

#: LACE 12 (7-day stay 5, emergent 3, Charlson 2, 2 ED visits 2) and HOSPITAL 8
#: (Hb < 12, Na < 135, procedure, urgent, 3 admissions 2, stay >= 5 days 2).
INPUTS = DischargeInputs(
    length_of_stay_days=7,
    acute_admission=True,
    charlson_index=2,
    ed_visits_6m=2,
    haemoglobin_g_dl=10.9,
    sodium_mmol_l=131.0,
    oncology_discharge=False,
    procedure_during_stay=True,
    admissions_12m=3,
)
STAY: dict[str, Any] = {k: v for k, v in asdict(INPUTS).items() if v is not None}
RISK = (12 / 19 + 8 / 13) / 2


def test_enrollment_stores_conditions_inputs_and_the_scores(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    ann = caller(api, conn, "ann")
    made = api.post(
        "/api/v1/patients",
        json={
            "identifiers": [{"system": "urn:mrn", "value": "E1"}],
            "pathway": "CHF",
            "conditions": ["heart failure", " I50.9 "],
            "discharge_date": "2026-11-16",
            "discharge_inputs": STAY,
        },
        headers=ann.headers,
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["conditions"] == ["heart failure", "I50.9"]
    assert (body["lace"], body["hospital"]) == (12, 8)
    assert body["discharge_risk"] == pytest.approx(RISK)
    assert body["discharge_inputs"] == {**STAY, "nonelective_admission": None}
    assert body["coordinators"] == [str(ann.id)]
    stored = conn.execute(
        "SELECT conditions, discharge_inputs, lace, hospital, discharge_risk FROM patients"
    ).fetchone()
    assert stored is not None
    assert stored[:4] == (["heart failure", "I50.9"], STAY, 12, 8)
    assert stored[4] == pytest.approx(RISK)
    again = api.get(f"/api/v1/patients/{body['id']}", headers=ann.headers).json()
    assert again == body


def test_a_score_missing_an_input_is_not_computed(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    lace_only = {k: STAY[k] for k in ("length_of_stay_days", "acute_admission")}
    lace_only |= {"charlson_index": 1, "ed_visits_6m": 0}
    made = api.post("/api/v1/patients", json={"discharge_inputs": lace_only})
    assert made.status_code == 201, made.text
    body = made.json()
    # LACE 5 + 3 + 1 + 0 = 9; HOSPITAL lacks its labs: risk rests on LACE alone.
    assert (body["lace"], body["hospital"], body["discharge_risk"]) == (9, None, 9 / 19)
    bare = api.post("/api/v1/patients", json={}).json()
    assert (bare["lace"], bare["hospital"], bare["discharge_risk"]) == (None, None, None)
    assert (bare["conditions"], bare["discharge_inputs"]["charlson_index"]) == ([], None)


@pytest.mark.parametrize(
    "inputs",
    [
        {"length_of_stay_days": -1},
        {"haemoglobin_g_dl": 109},  # g/L, not g/dL
        {"sodium_mmol_l": 0},
        {"charlson_index": 2.5},
        {"ed_visits": 2},  # not a field
    ],
)
def test_impossible_inputs_are_refused(api: TestClient, inputs: dict[str, Any]) -> None:
    got = api.post("/api/v1/patients", json={"discharge_inputs": inputs})
    assert got.status_code == 422, got.text


def test_the_repository_computes_the_scores_itself(conn: psycopg.Connection[Any]) -> None:
    with conn.transaction():
        patient = patients.enroll_patient(
            conn,
            pathway="HTN",
            discharge_date=None,
            identifiers=[],
            conditions=["hypertension"],
            discharge_inputs=INPUTS,
        )
    assert (patient.lace, patient.hospital) == (12, 8)
    assert patient.discharge_risk == pytest.approx(RISK)
    read = patients.get_patient(conn, patient_id=patient.id)
    assert read == patient
