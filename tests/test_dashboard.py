"""The dashboard's files and routes: every asset there, nothing from elsewhere, the limits it draws.

The asset checks read ``api/static`` only (no services): every file the HTML,
the modules, the stylesheet, the manifest and the service worker refer to
exists, and no file refers to an http(s) URL outside the app.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.views.dashboard import STATIC_DIR

APP_PREFIX = "/app/"
#: XML namespace names: identifiers that are never fetched.
NAMESPACES = frozenset({"http://www.w3.org/2000/svg"})
URL = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s"'`<>)]*""")
IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["'`]([^"'`]+)["'`]""")
CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)""")
APP_PATH = re.compile(r"""["'`](/app/[^"'`#?]*\.[a-z]+)["'`]""")


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.inline_scripts = 0
        self.style_attributes = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.refs += [v for k, v in attrs if k in {"src", "href"} and v is not None]
        if tag == "script" and not values.get("src"):
            self.inline_scripts += 1
        if "style" in values:
            self.style_attributes += 1


def _static_files() -> list[Path]:
    return sorted(p for p in STATIC_DIR.rglob("*") if p.is_file())


def _target(base: Path, ref: str) -> Path | None:
    """The file ``ref`` (as written in the file at ``base``) names, or None for a page route."""
    ref = ref.split("#", 1)[0].split("?", 1)[0]
    if not ref:
        return None  # "#worklist": a route of the page itself
    if ref.startswith(APP_PREFIX):
        relative = PurePosixPath(ref[len(APP_PREFIX) :])
        return STATIC_DIR / relative if relative.parts else STATIC_DIR / "index.html"
    assert not ref.startswith(("/", "http:", "https:")), f"{base.name}: {ref} is outside /app/"
    return (base.parent / ref).resolve()


def _references(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        parser = _References()
        parser.feed(text)
        return parser.refs
    if path.suffix == ".js":
        return IMPORT.findall(text) + APP_PATH.findall(text)
    if path.suffix == ".css":
        return CSS_URL.findall(text)
    if path.suffix == ".webmanifest":
        manifest = json.loads(text)
        return [icon["src"] for icon in manifest.get("icons", [])]
    return []


def test_every_referenced_asset_exists() -> None:
    files = _static_files()
    assert STATIC_DIR / "index.html" in files
    assert STATIC_DIR / "sw.js" in files
    checked = 0
    for path in files:
        for ref in _references(path):
            target = _target(path, ref)
            if target is None:
                continue
            assert target.is_relative_to(STATIC_DIR.resolve()), f"{path.name}: {ref}"
            assert target.is_file(), f"{path.relative_to(STATIC_DIR)} refers to missing {ref}"
            checked += 1
    assert checked >= 15  # the HTML's assets, every module's imports, the worker, the icons


def test_no_asset_refers_to_another_origin() -> None:
    for path in _static_files():
        text = path.read_text(encoding="utf-8")
        foreign = set(URL.findall(text)) - NAMESPACES
        assert not foreign, f"{path.relative_to(STATIC_DIR)} refers to {sorted(foreign)}"


def test_the_page_has_no_inline_script_or_style() -> None:
    parser = _References()
    parser.feed((STATIC_DIR / "index.html").read_text(encoding="utf-8"))
    # The Content-Security-Policy allows neither.
    assert (parser.inline_scripts, parser.style_attributes) == (0, 0)


@pytest.mark.services
def test_root_redirects_to_the_dashboard_served_with_its_headers(api: TestClient) -> None:
    root = api.get("/", follow_redirects=False)
    assert (root.status_code, root.headers["location"]) == (307, "/app/")
    page = api.get("/app/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert page.headers["cache-control"] == "no-cache"
    module = api.get("/app/js/main.js")
    assert module.status_code == 200
    assert "javascript" in module.headers["content-type"]
    worker = api.get("/app/sw.js")
    assert worker.status_code == 200
    assert "notificationclick" in worker.text
    assert api.get("/app/no-such-file.js").status_code == 404
    assert api.get("/app/%2e%2e/pyproject.toml").status_code == 404


@pytest.mark.services
def test_thresholds_are_the_pathways_with_the_patients_overrides(api: TestClient) -> None:
    own = {"limits.oxygen-saturation.low": 86, "systolic_high": 170, "severity.hr_low": "medium"}
    made = api.post("/api/v1/patients", json={"pathway": "CHF", "threshold_overrides": own})
    assert made.status_code == 201, made.text
    got = api.get(f"/api/v1/patients/{made.json()['id']}/thresholds")
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["pathway"], body["overrides"]) == (
        "CHF",
        {
            "limits.oxygen-saturation.low": 86,
            "limits.blood-pressure.systolic.high": 170,
            "limits.heart-rate.low_severity": "medium",
        },
    )
    assert [(v["label"], v["value"], v["unit"]) for v in body["own_limits"]] == [
        ("Blood pressure systolic high", 170, "mmHg"),
        ("Heart rate low severity", "medium", ""),
        ("SpO2 low", 86, "%"),
    ]
    lines = {
        m["measure"]: {line["key"]: (line["value"], line["bound"]) for line in m["lines"]}
        for m in body["measures"]
    }
    assert lines == {
        "body-weight": {},
        "blood-pressure": {
            "limits.blood-pressure.systolic.high": (170.0, "upper"),
            "limits.blood-pressure.diastolic.high": (120.0, "upper"),
            "limits.blood-pressure.systolic.low": (90.0, "lower"),
        },
        "oxygen-saturation": {"limits.oxygen-saturation.low": (86.0, "lower")},
        "heart-rate": {
            "limits.heart-rate.high": (120.0, "upper"),
            "limits.heart-rate.low": (40.0, "lower"),
        },
    }
    labels = [line["label"] for m in body["measures"] for line in m["lines"]]
    assert labels == [
        "systolic high",
        "diastolic high",
        "systolic low",
        "SpO2 low",
        "heart rate high",
        "heart rate low",
    ]
    (bp,) = [m for m in body["measures"] if m["measure"] == "blood-pressure"]
    assert [line["series"] for line in bp["lines"]] == ["value", "value2", "value"]
    (weight,) = [m for m in body["measures"] if m["measure"] == "body-weight"]
    assert [(g["kg"], g["hours"]) for g in weight["gains"]] == [(2.0, 72.0), (2.3, 168.0)]
    missing = api.get("/api/v1/patients/00000000-0000-0000-0000-000000000001/thresholds")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


@pytest.mark.services
def test_the_measure_spec_is_served_to_any_signed_in_user(
    api: TestClient, conn: psycopg.Connection[Any]
) -> None:
    """``GET /api/v1/measures`` is the spec the dashboard draws from, with each measure's alerts."""
    from hub.alerting import KIND_MEASURES
    from hub.measures import SPECS, catalogue
    from tests.api_support import caller

    carla = caller(api, conn, "carla.spec")
    got = TestClient(api.app).get("/api/v1/measures", headers=carla.headers)
    assert got.status_code == 200, got.text
    served = got.json()["measures"]
    assert [m["measure"] for m in served] == [m.value for m in SPECS]
    expected = json.loads(json.dumps(catalogue()))["measures"]
    assert [{k: v for k, v in m.items() if k != "alert_kinds"} for m in served] == expected
    kinds = {m["measure"]: set(m["alert_kinds"]) for m in served}
    for kind, measures in KIND_MEASURES.items():
        for measure in measures:
            assert kind.value in kinds[measure.value]
    bp = next(m for m in served if m["measure"] == "blood-pressure")
    assert ([f["label"] for f in bp["fields"]], bp["ucum"], bp["loinc"]) == (
        ["systolic", "diastolic"],
        "mm[Hg]",
        "85354-9",
    )
    # The keys a pathway's limits and a patient's overrides use (docs/pathways.md).
    assert [f["key"] for f in bp["fields"]] == ["systolic", "diastolic"]
    rate = next(m for m in served if m["measure"] == "heart-rate")
    assert (rate["resting"], bp["resting"]) == (True, False)
    assert TestClient(api.app).get("/api/v1/measures").status_code == 401


def test_the_dashboard_keeps_no_measure_list_of_its_own() -> None:
    """The dashboard's scripts name no measure: they draw what the API's spec lists."""
    from hub.measures import Measure

    for path in (STATIC_DIR / "js").glob("*.js"):
        text = path.read_text(encoding="utf-8")
        named = [m.value for m in Measure if f'"{m.value}"' in text or f"'{m.value}'" in text]
        assert named == [], f"{path.name} names {named}"


def test_the_dashboard_keeps_no_vendor_list_of_its_own() -> None:
    """The scripts name no vendor cloud: the patient page draws what the API lists."""
    from devices.registry import VENDORS

    for path in (STATIC_DIR / "js").glob("*.js"):
        text = path.read_text(encoding="utf-8")
        named = [
            vendor.name
            for vendor in VENDORS.values()
            if re.search(rf"\b{vendor.name}\b", text, re.IGNORECASE) or vendor.label in text
        ]
        assert named == [], f"{path.name} names {named}"
