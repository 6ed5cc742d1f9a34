"""docs/integration.md cannot drift from the code: its payload examples are validated.

Every ``json`` block of the guide that is a data point or an array of them
(or is marked ``<!-- expect: <code> -->`` on the line before) goes through the
hub's Validator: unmarked ones must be accepted whole, marked ones rejected
with the stated code. The guide must show every supported measure and version
and list every rejection code.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from hub.domain import SUPPORTED_VERSIONS, Measure, RejectionCode
from hub.settings import PROJECT_ROOT, Settings
from ingest.conformance.models import REGISTRY_CODES
from ingest.validation import Validator

GUIDE = PROJECT_ROOT / "docs" / "integration.md"
_BLOCK = re.compile(r"(?:<!-- expect: (?P<code>[a-z_]+) -->\n)?```json\n(?P<body>.*?)```", re.S)


def _is_point(item: Any) -> bool:
    return isinstance(item, dict) and "header" in item and "body" in item


def payload_examples() -> list[tuple[str | None, bytes]]:
    """(expected code or None for stored, payload) of each payload example."""
    found = []
    for match in _BLOCK.finditer(GUIDE.read_text()):
        body, code = match["body"].encode(), match["code"]
        if code is None:
            document = orjson.loads(body)  # an unmarked example must be JSON
            items = document if isinstance(document, list) else [document]
            if not items or not all(_is_point(item) for item in items):
                continue  # a rejection message or another kind of example
        found.append((code, body))
    return found


EXAMPLES = payload_examples()
#: The hub's rules with their default settings (no environment read).
VALIDATOR = Validator.from_settings(Settings.model_construct())
#: The examples are dated March to June 2025: validated as of then, they never age out.
GUIDE_NOW = datetime(2025, 7, 1, tzinfo=UTC)


@pytest.mark.parametrize(("code", "payload"), EXAMPLES)
def test_each_payload_example_is_stored_or_rejected_as_the_guide_says(
    code: str | None, payload: bytes
) -> None:
    parsed = VALIDATOR.parse(payload, now=GUIDE_NOW)
    codes = [rejection.code.value for rejection in parsed.rejections]
    if code is None:
        assert codes == [], [r.detail for r in parsed.rejections]
        assert parsed.points
    elif code in REGISTRY_CODES:  # the registry decides; the payload itself is valid
        assert codes == []
    else:
        assert set(codes) == {code}, [r.detail for r in parsed.rejections]
        assert not parsed.points


def test_the_guide_shows_every_measure_and_version_and_lists_every_code() -> None:
    shown = set()
    for code, payload in EXAMPLES:
        if code is None:
            document = orjson.loads(payload)
            for item in document if isinstance(document, list) else [document]:
                schema = item["header"]["schema_id"]
                shown.add((schema["name"], schema["version"]))
    assert shown == {(m.value, v) for m in Measure for v in SUPPORTED_VERSIONS[m]}
    text = GUIDE.read_text()
    missing = [code.value for code in RejectionCode if f"`{code.value}`" not in text]
    assert missing == []
    table_codes = set(re.findall(r"^\| `([a-z_]+)` \|", text, re.M))
    gateway_codes = {c.value for c in RejectionCode} - {"unknown_feed", "feed_disabled"}
    assert table_codes == gateway_codes
