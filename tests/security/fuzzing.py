"""Fuzzing helpers: mutators seeded with real payloads, and a budgeted runner.

Each fuzz test runs one target for a fixed number of hypothesis examples
(the proof profile's: a few hundred in ``ci``, tens of thousands in
``full``) and records in its proof row how many inputs it tried and how many
the target rejected with a code. A crash (any exception the target lets
out) or an input neither accepted nor rejected with a known code fails the
test; a crash that was found and fixed is kept as an explicit example.

``ci`` runs are derandomized: the same inputs every run, so CI never turns
red on an input nobody changed code for, and a red run reproduces. ``full``
runs explore afresh each time, which is how new crashes get found.

>>> from hypothesis import strategies as st
>>> from tests.proof import Profile, ProofRow
>>> row = ProofRow("demo")
>>> fuzz(row, Profile("ci"), st.integers(), lambda n: n >= 0, target="sign", ci=50, full=50)
>>> row.bad_tried, 0 < row.bad_rejected < 50
(50, True)
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import orjson
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hub.domain import RejectionCode
from ingest.conformance.samples import shipped_samples
from tests.proof import Profile, ProofRow
from tests.test_dispenses import dispense

T = TypeVar("T")

#: Fragments that break parsers: tokens JSON lacks, bad UTF-8, a BOM, deep nesting.
NASTY_BYTES = (
    b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-0", b"1e-400", b"\xff", b"\xc3",
    b"\xef\xbb\xbf", b"\x00", b"\\u0000", b"\\ud800", b"99999999999999999999999", b"[" * 300,
    b'"', b"{", b"}", b",", b"null", b"true", b"\r\n",
)  # fmt: skip
NASTY_TEXT = (
    "", " ", "\x00", "\u202e", "\ud7ff", "0", "-1", "1e309", "NaN", "2026-02-30", "9999-12-31",
    "0001-01-01T00:00:00Z", "2026-02-01T10:30:00+14:00", "1" * 40, "x" * 5000, "completed",
    "http://www.nlm.nih.gov/research/umls/rxnorm", "http://hl7.org/fhir/sid/ndc",
)  # fmt: skip
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(NASTY_TEXT)
)
JSON = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def sample_payloads() -> list[bytes]:
    """The payloads shipped with the conformance kit: every measure and version."""
    folder: Path = shipped_samples()
    return [p.read_bytes() for p in sorted(folder.glob("*/*.json")) if ".expect.json" not in p.name]


def _slots(node: Any, out: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """(container, key) of every value inside ``node``."""
    if isinstance(node, dict):
        items: Any = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    else:
        return out
    for key, value in items:
        out.append((node, key))
        _slots(value, out)
    return out


@st.composite
def mutated(draw: st.DrawFn, seeds: Sequence[Any], *, keys: Sequence[str] = ()) -> Any:
    """A seed document with a few values replaced, deleted, added or re-typed."""
    data = copy.deepcopy(draw(st.sampled_from(seeds)))
    names = st.sampled_from(keys) | st.text(max_size=10) if keys else st.text(max_size=10)
    for _ in range(draw(st.integers(0, 4))):
        slots = _slots(data, [])
        if not slots:
            break
        container, key = draw(st.sampled_from(slots))
        action = draw(st.sampled_from(["replace", "delete", "add", "wrap", "nest"]))
        if action == "replace":
            container[key] = draw(JSON)
        elif action == "delete":
            del container[key]
        elif action == "add" and isinstance(container[key], dict):
            container[key][draw(names)] = draw(JSON)
        elif action == "wrap":
            container[key] = [container[key]]
        elif action == "nest":
            container[key] = {draw(names): container[key]}
    return data


@st.composite
def mutated_bytes(draw: st.DrawFn, seeds: Sequence[bytes]) -> bytes:
    """A seed payload with bytes flipped, inserted, deleted, or cut off."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if action == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "insert":
            data[at:at] = draw(st.sampled_from(NASTY_BYTES) | st.binary(max_size=8))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif action == "truncate":
            del data[at:]
    return bytes(data)


def payloads(seeds: Sequence[Any]) -> st.SearchStrategy[bytes]:
    """Bytes a fuzzer sends: mutated seeds, structurally and byte-wise, and noise."""
    raw = [orjson.dumps(seed) for seed in seeds]
    return (
        mutated(seeds).map(orjson.dumps)
        | mutated_bytes(raw)
        | st.binary(max_size=600)
        | JSON.map(orjson.dumps)
    )


Code = RejectionCode
#: The codes a dispense is rejected with before the database (feed codes come later).
DISPENSE_CODES: frozenset[RejectionCode] = frozenset(
    {
        Code.PAYLOAD_TOO_LARGE,
        Code.MALFORMED_JSON,
        Code.SCHEMA_INVALID,
        Code.TIME_IN_FUTURE,
    }
)


def _documents() -> list[Any]:
    """The shipped samples that are JSON, and an array of two of them."""
    docs = []
    for raw in sample_payloads():
        try:
            docs.append(orjson.loads(raw))
        except orjson.JSONDecodeError:
            continue
    return [*docs, [d for d in docs if isinstance(d, dict)][:2]]


#: Real readings: every measure and version the hub supports.
READINGS = _documents()
#: A dispense, an array of two, and a Bundle with a bad one.
FEED_SEEDS: list[Any] = [
    dispense(),
    [dispense(), dispense(identifier=None, whenHandedOver="2026-02-02")],
    {"resourceType": "Bundle", "type": "collection",
     "entry": [{"resource": dispense()}, {"resource": dispense(status="entered-in-error")}]},
]  # fmt: skip


@dataclass(slots=True)
class Tally:
    tried: int = 0
    rejected: int = 0


def fuzz(
    proof: ProofRow,
    profile: Profile,
    strategy: st.SearchStrategy[T],
    check: Callable[[T], bool],
    *,
    target: str,
    ci: int = 300,
    full: int = 20_000,
    examples: Sequence[T] = (),
) -> None:
    """Run ``check`` (True: accepted, False: rejected with a code) over ``strategy``.

    ``check`` asserts what it must; anything it raises fails the run.
    """
    budget = profile.pick(ci=ci, full=full)
    tally = Tally()
    proof.load = f"fuzz {target}: {budget:,} generated + {len(examples)} kept examples"
    proof.faults = "hypothesis inputs" + (" (derandomized)" if profile.name == "ci" else "")

    def run(value: T) -> None:
        tally.tried += 1
        tally.rejected += not check(value)

    for kept in examples:
        run = example(kept)(run)
    test = settings(
        max_examples=budget,
        deadline=None,
        derandomize=profile.name == "ci",
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )(given(strategy)(run))
    try:
        test()
    finally:
        proof.bad_tried, proof.bad_rejected = tally.tried, tally.rejected
