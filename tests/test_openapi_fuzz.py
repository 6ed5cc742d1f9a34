"""schemathesis over the app's own OpenAPI document, authenticated: no answer is a 5xx.

Every operation gets generated requests (by the schema, and some off it)
with the admin service token, against the real database and broker.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.core.result import Ok

from hub.settings import Settings

pytestmark = pytest.mark.services


def test_no_operation_answers_a_server_error(api: TestClient, settings: Settings) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    headers = {"Authorization": f"Bearer {settings.admin_token.get_secret_value()}"}
    failures: list[str] = []
    operations = 0
    for found in schema.get_all_operations():
        assert isinstance(found, Ok), found  # the app's document is valid OpenAPI
        operation = found.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=12,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")

        check()
    assert operations >= 20  # the document lists the app's routes
    assert failures == []
