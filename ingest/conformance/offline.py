"""Offline mode: the samples through the hub's own Validator, no broker, no hub.

The codes are the hub's: the same :class:`~ingest.validation.Validator` runs
in the ingest worker. What needs the hub's device registry
(``unknown_device``, ``device_not_on_gateway``, ``measure_not_for_device``,
``device_disabled``, ``device_retired``) and the broker's ACLs cannot be checked here; the report
says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ingest.conformance.models import Answer, MessageOutcome, Report, Sample
from ingest.conformance.outcomes import judge
from ingest.validation import Validator

OFFLINE_NOTE = (
    "offline: the hub's Validator only; device registry codes (unknown_device, "
    "device_not_on_gateway, measure_not_for_device, device_disabled, device_retired), the "
    "broker's "
    "ACLs and idempotency are checked only against a hub"
)


def run_offline(
    samples: Sequence[Sample],
    *,
    now: datetime,
    validator: Validator,
) -> Report:
    """Validate every sample with the hub's ``validator`` at ``now`` (timezone-aware)."""
    return Report(
        mode="offline",
        messages=tuple(_check(validator, sample, now) for sample in samples),
        notes=(OFFLINE_NOTE,),
    )


def _check(validator: Validator, sample: Sample, now: datetime) -> MessageOutcome:
    parsed = validator.parse(sample.payload, now=now)
    whole: Answer | None = None
    points: list[Answer | None] = [None] * len(sample.header_ids)
    for rejection in parsed.rejections:
        answer = Answer(rejection.code.value, rejection.detail)
        if rejection.index is None:
            whole = answer
        else:
            points[rejection.index] = answer
    return judge(sample, whole, points, offline=True)
