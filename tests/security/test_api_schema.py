"""schemathesis over the app's own OpenAPI document, authenticated (issue #7, item 9).

Every operation gets generated requests with the admin service token, against
the real database and broker: requests within the document get no 5xx, and
requests that break it get a 4xx (nothing invalid is accepted).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import negative_data_rejection, not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.schemas import APIOperation

from hub.settings import Settings
from tests.proof import Profile, ProofRow

pytestmark = pytest.mark.services


def api_operations(api: TestClient) -> Iterator[APIOperation[Any, Any, Any, Any]]:
    """Every operation of the app's OpenAPI document (which must be valid)."""
    for found in schemathesis.openapi.from_asgi("/openapi.json", api.app).get_all_operations():
        assert isinstance(found, Ok), found
        yield found.ok()


def admin(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.admin_token.get_secret_value()}"}


def repeatable(examples: int) -> hypothesis_settings:
    """Derandomized, so CI runs the same requests every time."""
    return hypothesis_settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )


def test_no_operation_answers_a_server_error(
    api: TestClient, settings: Settings, proof: ProofRow, proof_profile: Profile
) -> None:
    headers = admin(settings)
    failures: list[str] = []
    operations = requests = 0
    examples = proof_profile.pick(ci=12, full=100)
    for operation in api_operations(api):
        operations += 1

        @given(case=operation.as_strategy())
        @repeatable(examples)
        def check(case: Any) -> None:
            nonlocal requests
            requests += 1
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")

        check()
    proof.load = f"{requests:,} schema-valid requests over {operations} operations (schemathesis)"
    proof.notes.append(f"{len(failures)} of {requests:,} answered with a 5xx")
    assert operations >= 20  # the document lists the app's routes
    assert failures == []


#: Violations the API accepts on purpose: unknown query parameters are ignored,
#: as HTTP APIs do; the token is sent with every request (authentication is
#: tested in tests/security/test_api_auth.py), so a case "without" it has it.
TOLERATED = frozenset(
    {
        "query: violates `additionalProperties`",
        "header: violates `required` (was Authorization)",
    }
)


def violations(group: FailureGroup) -> set[str]:
    """The "Invalid component" lines of schemathesis's accepted-negative-data failures."""
    found = set()
    for failure in group.exceptions:
        lines = getattr(failure, "message", str(failure)).splitlines()
        found |= {
            line.strip().removeprefix("- ") for line in lines if line.strip().startswith("- ")
        }
    return found


def test_no_operation_accepts_data_its_document_forbids(
    api: TestClient, settings: Settings, proof: ProofRow, proof_profile: Profile
) -> None:
    """Requests generated to break the document (wrong types, missing required
    fields, out-of-range values, malformed bodies) get a 4xx: nothing invalid is
    accepted. Every accepted one is reported with the components it broke."""
    headers = admin(settings)
    failures: list[str] = []
    judged = tolerated = 0
    examples = proof_profile.pick(ci=12, full=100)
    for operation in api_operations(api):

        @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        @repeatable(examples)
        def check(case: Any) -> None:
            nonlocal judged, tolerated
            response = case.call(headers=headers)
            try:
                case.validate_response(
                    response, checks=[negative_data_rejection, not_a_server_error]
                )
            except FailureGroup as group:
                broken = violations(group) - TOLERATED
                if broken or not violations(group):
                    failures.append(f"{case.method} {case.formatted_path}: {sorted(broken)}")
                else:
                    tolerated += 1
                return
            judged += 1

        try:
            check()
        except Unsatisfiable:
            continue  # nothing in this operation can be made invalid (no inputs)
    proof.load = f"up to {examples} requests per operation that break its document"
    proof.bad_tried = judged + tolerated + len(failures)
    proof.bad_rejected = judged
    proof.notes.append(
        f"{tolerated} accepted only for unknown query parameters or a required"
        " Authorization header the test always sends"
    )
    assert judged >= 100
    assert failures == []
