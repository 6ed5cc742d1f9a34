"""Issue #7, item 9: body and list limits, CORS, and the security headers (api/guards.py).

List limits: a ``limit`` above a route's maximum is refused with 422
``invalid_request`` (not silently clamped), so a client learns the maximum.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.guards import API_CSP
from tests.api_support import caller, enroll
from tests.proof import ProofRow
from tests.support import count

pytestmark = pytest.mark.services

PATIENTS = "/api/v1/patients"
DISPENSES = "/api/v1/pharmacy/dispenses"
MiB = 1024 * 1024


def _chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_bodies_over_the_limit_get_413_and_store_nothing(
    api: TestClient, conn: psycopg.Connection[Any], proof: ProofRow
) -> None:
    identifiers = [{"system": "urn:mrn", "value": f"MRN-{i:07d}"} for i in range(40_000)]
    big = {"identifiers": identifiers, "pathway": "CHF"}  # ~1.9 MB of JSON
    declared = api.post(PATIENTS, json=big)
    raw = api.post(PATIENTS, content=b"{" + b" " * (2 * MiB) + b"}")
    chunked = api.post(
        PATIENTS,
        content=_chunks(b" " * (2 * MiB)),
        headers={"Content-Type": "application/json"},
    )
    lying = api.post(DISPENSES, content=b"", headers={"Content-Length": str(33 * MiB)})
    answers = [declared, raw, chunked, lying]
    # The pharmacy upload route takes more than 1 MiB (here 1.5 MB of NDJSON lines) ...
    upload = b"\n".join(b'{"resourceType": "MedicationDispense"}' + b" " * 210 for _ in range(6000))
    assert len(upload) > MiB
    pharmacy = api.post(DISPENSES, content=upload, headers={"Content-Type": "application/x-ndjson"})
    # ... and a small body still passes everywhere.
    small = api.post(PATIENTS, json={"pathway": "CHF"})
    proof.load = "4 bodies over 1 MiB (declared, raw, chunked, lying header) + 2 within limits"
    proof.bad_tried = len(answers)
    proof.bad_rejected = sum(1 for got in answers if got.status_code == 413)
    proof.stored = count(conn, "SELECT count(*) FROM patients")
    assert [got.status_code for got in answers] == [413] * len(answers)
    assert {got.json()["code"] for got in answers} == {"payload_too_large"}
    assert pharmacy.status_code == 200, pharmacy.text[:300]
    assert pharmacy.json()["rejected"] == 6000  # read and judged entry by entry
    assert small.status_code == 201, small.text
    assert proof.stored == 1  # only the small enrollment
    audited = count(conn, "SELECT count(*) FROM audit_log WHERE outcome = 413")
    assert audited == len(answers)


def _limited_routes(api: TestClient) -> list[tuple[str, int]]:
    """(path, maximum) of every GET operation with a ``limit`` query parameter."""
    found = []
    for path, item in api.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        for parameter in item.get("get", {}).get("parameters", []):
            if parameter["name"] == "limit" and parameter["in"] == "query":
                found.append((path, int(parameter["schema"]["maximum"])))
    return found


def test_every_list_limit_has_a_maximum_and_larger_is_refused(
    api: TestClient, proof: ProofRow
) -> None:
    patient = api.post(PATIENTS, json={"pathway": "CHF"}).json()["id"]
    templates = _limited_routes(api)
    assert {path for path, _ in templates} >= {
        "/api/v1/patients",
        "/api/v1/alerts",
        "/api/v1/worklist",
        "/api/v1/patients/{patient_id}/time-entries",
    }
    # A patient's lists are called on a patient that exists.
    routes = [(path.format(patient_id=patient), maximum) for path, maximum in templates]
    over = {path: api.get(path, params={"limit": maximum + 1}) for path, maximum in routes}
    huge = {path: api.get(path, params={"limit": 10**12}) for path, _ in routes}
    at_max = {
        path: api.get(path, params={"limit": maximum}).status_code for path, maximum in routes
    }
    proof.load = f"{len(routes)} list routes, limit = max + 1 and 10^12"
    proof.bad_tried = len(over) + len(huge)
    proof.bad_rejected = sum(
        1 for got in [*over.values(), *huge.values()] if got.status_code == 422
    )
    assert all(maximum <= 5000 for _, maximum in routes)
    assert {
        p: got.status_code for p, got in [*over.items(), *huge.items()] if got.status_code != 422
    } == {}
    assert {got.json()["code"] for got in over.values()} == {"invalid_request"}
    assert set(at_max.values()) == {200}


def test_cors_is_closed_and_every_answer_has_the_security_headers(
    api: TestClient, conn: psycopg.Connection[Any], proof: ProofRow
) -> None:
    ann = caller(api, conn, "ann")
    patient = enroll(api, ann, "MRN-1")
    foreign = {"Origin": "https://evil.example"}
    simple = api.get(f"{PATIENTS}/{patient}", headers=ann.headers | foreign)
    preflight = api.options(
        PATIENTS,
        headers=foreign
        | {
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    proof.load = "a cross-origin read and a preflight; headers on API, dashboard, docs"
    proof.bad_tried = 2
    cors = [got for got in (simple, preflight) if "access-control-allow-origin" in got.headers]
    proof.bad_rejected = ("access-control-allow-origin" not in simple.headers) + (
        "access-control-allow-origin" not in preflight.headers and preflight.status_code >= 400
    )
    assert simple.status_code == 200  # the server answers, but a browser will not let evil read it
    assert cors == []
    assert preflight.status_code >= 400
    assert "access-control-allow-methods" not in preflight.headers
    # Patient data is not cached; no answer may be framed or sniffed.
    assert simple.headers["cache-control"] == "no-store"
    assert simple.headers["content-security-policy"] == API_CSP
    unauthorized = api.get(PATIENTS, headers={"Authorization": "Bearer nope"})
    for got in (
        simple,
        unauthorized,
        api.get("/app/"),
        api.get("/app/js/main.js"),
        api.get("/docs"),
    ):
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["x-frame-options"] == "DENY"
        assert got.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in got.headers["content-security-policy"]
    dashboard = api.get("/app/").headers["content-security-policy"]
    script_src = next(d for d in dashboard.split(";") if d.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src
    assert "unsafe-eval" not in script_src
    assert api.get("/app/").headers["cache-control"] == "no-cache"  # the dashboard's own
