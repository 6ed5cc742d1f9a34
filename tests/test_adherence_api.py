"""GET /patients/{id}/adherence: PDC and refills per class, and days with device data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import psycopg
from fastapi.testclient import TestClient

from tests.support import provision
from tests.test_dispenses import dispense


def test_adherence_per_class_and_device_days_in_the_patients_own_days(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    gw = provision(api, kinds=["scale"])
    conn.execute(
        "UPDATE patients SET timezone = 'America/New_York' WHERE id = %s", (gw.patient_id,)
    )
    conn.execute(
        "INSERT INTO patient_identifiers (system, value, patient_id) VALUES ('urn:mrn', 'A-1', %s)",
        (gw.patient_id,),
    )
    # Three readings on two New York days: 07:00 and 20:30 one day (20:30 is
    # past midnight UTC, summer or winter), 07:00 the next.
    ny = ZoneInfo("America/New_York")
    day = datetime.now(ny).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=3)
    for i, at in enumerate(
        [
            day.replace(hour=7),
            day.replace(hour=19, minute=30),
            (day + timedelta(days=1)).replace(hour=7),
        ]
    ):
        conn.execute(
            "INSERT INTO readings SELECT %s, d.id, 'body-weight', d.patient_id, 80, NULL, 'kg', 80,"
            " NULL, 'kg', 'sensed', '2.0', %s, now(), NULL FROM devices d WHERE d.serial = %s",
            (at, f"h{i}", gw.serials["scale"]),
        )
    conn.commit()
    today = datetime.now(UTC).date()
    fills = [
        dispense(identifier=[{"system": "urn:p", "value": str(n)}],
                 subject={"identifier": {"system": "urn:mrn", "value": "A-1"}},
                 whenHandedOver=(today - timedelta(days=ago)).isoformat())
        for n, ago in enumerate((60, 30))
    ]  # fmt: skip
    statin = dispense(
        identifier=[{"system": "urn:p", "value": "s"}],
        subject={"identifier": {"system": "urn:mrn", "value": "A-1"}},
        medicationCodeableConcept={"text": "Atorvastatin 40 MG"},
        whenHandedOver=(today - timedelta(days=10)).isoformat(),
    )
    body = orjson.dumps(
        {"resourceType": "Bundle", "entry": [{"resource": r} for r in [*fills, statin]]}
    )
    sent = api.post(
        "/api/v1/pharmacy/dispenses",
        content=body,
        headers={"Content-Type": "application/fhir+json"},
    )
    assert sent.json()["stored"] == 3

    got = api.get(f"/api/v1/patients/{gw.patient_id}/adherence")
    assert got.status_code == 200, got.text
    out = got.json()
    loop, statins = out["classes"]
    assert loop["drug_class"] == "loop_diuretics"
    # Filled 60 and 30 days ago for 30 days each: 60 of the 61 days covered.
    assert (loop["covered_days"], loop["period_days"], loop["adherent"]) == (60, 61, True)
    assert loop["next_refill_due"] == today.isoformat()
    assert loop["overdue"] is False
    assert loop["last_fill"]["filled_on"] == (today - timedelta(days=30)).isoformat()
    assert statins["drug_class"] == "statins"
    assert (statins["pdc"], statins["adherent"]) == (None, None)  # one fill: not eligible
    assert out["device_days"]["days_with_data"] == 2
    assert out["device_days"]["period_days"] == 30
    assert (
        api.get("/api/v1/patients/00000000-0000-4000-8000-000000000000/adherence").status_code
        == 404
    )
