"""Judge what became of a sample against what its expectation says.

Offline, the Validator's answer is exact per data point. Online, the hub
answers only rejections, each with the ``header.id`` of its data point, or
``null`` for a rejection of the whole message; :func:`attribute` matches
them to the sample's points.

>>> from pathlib import Path
>>> sample = Sample("d/a.json", Path("a.json"), "SC-1", b"[]", ("h1", "h2"))
>>> whole, points, stray = attribute(sample, [("h2", Answer("implausible_value", "x"))])
>>> whole, [p and p.code for p in points], stray
(None, [None, 'implausible_value'], ())
>>> [row.result.value for row in judge(sample, whole, points, offline=False).rows]
['stored', 'rejected']
"""

from __future__ import annotations

from collections.abc import Sequence

from ingest.conformance.models import (
    REGISTRY_CODES,
    STORED,
    Answer,
    MessageOutcome,
    PointOutcome,
    Result,
    Sample,
)


def attribute(
    sample: Sample, answers: Sequence[tuple[str | None, Answer]]
) -> tuple[Answer | None, list[Answer | None], tuple[Answer, ...]]:
    """Split the rejections received for ``sample``: (whole, per point, unmatched).

    A rejection carrying a ``header.id`` goes to the first point with that id
    not yet matched. One without goes to the first point that has no usable
    id, else it is the rejection of the whole message.
    """
    points: list[Answer | None] = [None] * len(sample.header_ids)
    whole: Answer | None = None
    stray: list[Answer] = []
    for header_id, answer in answers:
        slot = next(
            (
                i
                for i, known in enumerate(sample.header_ids)
                if known == header_id and points[i] is None
            ),
            None,
        )
        if slot is not None:
            points[slot] = answer
        elif header_id is None and whole is None:
            whole = answer
        else:
            stray.append(answer)
    return whole, points, tuple(stray)


def judge(
    sample: Sample,
    whole: Answer | None,
    points: Sequence[Answer | None],
    *,
    offline: bool,
    unattributed: tuple[Answer, ...] = (),
) -> MessageOutcome:
    """The report's rows for ``sample``: one for the whole message, or one per point."""
    expectation = sample.expectation
    if whole is not None or not points:
        expected = expectation.default
        if whole is None:
            row = PointOutcome(
                None, None, Result.NO_ANSWER, None, None, expected, passed=False,
                note="not a data point or an array of them, yet no rejection came",
            )  # fmt: skip
        else:
            row = PointOutcome(
                None, None, Result.REJECTED, whole.code, whole.detail, expected,
                passed=whole.code == expected,
            )  # fmt: skip
        return MessageOutcome(sample.name, sample.serial, (row,), unattributed)
    rows = []
    for index, (header_id, answer) in enumerate(zip(sample.header_ids, points, strict=True)):
        expected = expectation.expected_for(header_id)
        if answer is not None:
            rows.append(
                PointOutcome(
                    index,
                    header_id,
                    Result.REJECTED,
                    answer.code,
                    answer.detail,
                    expected,
                    passed=answer.code == expected,
                )
            )
        elif offline:
            registry = expected in REGISTRY_CODES
            rows.append(
                PointOutcome(
                    index,
                    header_id,
                    Result.VALID,
                    None,
                    None,
                    expected,
                    passed=expected == STORED or registry,
                    note="the hub's device registry decides; not checked offline"
                    if registry
                    else None,
                )
            )
        else:
            rows.append(
                PointOutcome(
                    index,
                    header_id,
                    Result.STORED,
                    None,
                    None,
                    expected,
                    passed=expected == STORED,
                )
            )
    return MessageOutcome(sample.name, sample.serial, tuple(rows), unattributed)
