"""Issue #7, item 10: outside development, every secret setting refuses a default or weak value.

Each secret is tried alone (the others strong) with the empty default, the
known placeholders and a short value, in ``test`` and ``production``.
Fitbit's own secrets are covered by
``tests/devices/test_fitbit_units.py::test_fitbit_needs_its_secrets_and_a_strong_key_outside_development``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from hub.settings import Settings
from tests.proof import ProofRow

SECRETS = ("pg_password", "mqtt_admin_password", "mqtt_hub_password", "admin_token")
WEAK = ("", "changeme", "CHANGE-ME", "secret", "password", "Admin", "short-but-set")
STRONG = "k3Jq9vR2mX8pL5tW7yZ1"


def _settings(tmp_path: Path, environment: str, **values: str) -> Settings:
    strong: dict[str, Any] = dict.fromkeys(SECRETS, STRONG)
    # No env file: only what is given here (and LASTMILE_* of the environment, none secret here).
    return Settings(_env_file=None, environment=environment, data_dir=tmp_path, **strong | values)


@pytest.mark.parametrize("environment", ["test", "production"])
def test_each_secret_refuses_defaults_and_weak_values_outside_development(
    tmp_path: Path, proof: ProofRow, environment: str
) -> None:
    assert _settings(tmp_path, environment).admin_token.get_secret_value() == STRONG
    refused: dict[str, str] = {}  # what was tried -> the error's text
    accepted: list[str] = []
    for name in SECRETS:
        for weak in WEAK:
            try:
                _settings(tmp_path, environment, **{name: weak})
            except ValidationError as exc:
                refused[f"{name}={weak!r}"] = f"LASTMILE_{name.upper()}" + "\n" + str(exc)
            else:
                accepted.append(f"{name}={weak!r}")
    proof.load = f"{len(SECRETS)} secret settings x {len(WEAK)} weak values, {environment}"
    proof.bad_tried, proof.bad_rejected = len(refused) + len(accepted), len(refused)
    assert accepted == []
    for text in refused.values():
        setting, message = text.split("\n", 1)
        assert setting in message  # the error names the setting ...
        assert "input_value" not in message  # ... and echoes no value, weak or strong
        assert STRONG not in message
    # Development keeps working with the generated (or empty) ones.
    assert _settings(tmp_path, "development", admin_token="").environment == "development"
