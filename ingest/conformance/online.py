"""Online mode: publish the samples to a hub as the gateway and collect its answers.

The hub answers only rejections (contract section 1): every reading not
stored gets exactly one on the gateway's ``errors`` topic. To know that a
sample was *stored*, the kit follows each sample with a **probe**: a valid
data point with a fresh ``header.id`` for a device serial that is not
registered (``probe-<random>``), which the hub is sure to reject
(``unknown_device``). The hub handles a gateway's messages in order, one
batch after another, and within a batch it records the rejections found by
validation before those found by the device registry, so a registry
rejection of a probe comes after every rejection of the messages sent before
it. When the probe's rejection arrives, each point of the sample without a
rejection was stored. (A probe rejected by validation, say with an
unsupported schema, could overtake a sample's ``unknown_device``; that is
why the probe is a valid point.)

One probe also opens the run, so that rejections the hub still owed the
gateway from before are not taken for the samples' own.
"""

from __future__ import annotations

import queue
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from hub.topics import errors_topic, readings_topic, status_topic
from ingest.conformance.acl import run_acl_checks
from ingest.conformance.models import (
    Answer,
    Check,
    MessageOutcome,
    PointOutcome,
    Report,
    Result,
    Sample,
)
from ingest.conformance.outcomes import attribute, judge
from ingest.conformance.session import PROTOCOLS, Session, describe

PROBE_PREFIX = "probe-"


@dataclass(frozen=True, slots=True)
class Target:
    """The hub's broker and the gateway's credentials (the password never shown)."""

    host: str
    port: int
    gateway_id: str
    password: str = field(repr=False)
    mqtt: str = "3.1.1"
    #: Seconds to wait for the broker's acknowledgements and the hub's answers.
    timeout: float = 30.0


def probe_payload(header_id: str) -> bytes:
    """A valid body-weight data point: rejected only for its unregistered device.

    Dated now, so neither time rule (``time_in_future``, ``time_too_old``)
    can refuse it before the registry does.
    """
    at = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    point = {
        "header": {
            "id": header_id,
            "creation_date_time": at,
            "schema_id": {"namespace": "omh", "name": "body-weight", "version": "1.0"},
            "acquisition_provenance": {"source_name": "lastmile-conformance", "modality": "sensed"},
        },
        "body": {
            "body_weight": {"value": 70, "unit": "kg"},
            "effective_time_frame": {"date_time": at},
        },
    }
    return orjson.dumps(point)


def run_online(samples: Sequence[Sample], target: Target, *, acl: bool = True) -> Report:
    """ACL checks (MQTT 5), then every sample published and answered in turn.

    Raises :class:`~ingest.conformance.exceptions.BrokerUnavailableError`
    when the broker cannot be reached at all.
    """
    checks: list[Check] = []
    if acl:
        checks = run_acl_checks(
            host=target.host, port=target.port, gateway_id=target.gateway_id,
            password=target.password, timeout=min(target.timeout, 10.0),
        )  # fmt: skip
        connected = checks[1]  # the gateway's own connection
        if not connected.passed:
            return Report("online", (), tuple(checks), ("samples not sent: cannot connect",))
    session = Session(
        host=target.host, port=target.port, client_id=target.gateway_id,
        username=target.gateway_id, password=target.password,
        protocol=PROTOCOLS[target.mqtt], timeout=target.timeout,
        will=(status_topic(target.gateway_id), b"offline"),
    )  # fmt: skip
    run = _Run(session, target)
    with session:
        reason = session.connect()
        checks.append(
            Check(f"connect (MQTT {target.mqtt})", not reason.is_failure, describe(reason))
        )
        if reason.is_failure:
            return Report("online", (), tuple(checks), ("samples not sent: cannot connect",))
        checks.extend(run.start())
        messages: list[MessageOutcome] = []
        if all(check.passed for check in checks):
            messages = [run.send(sample) for sample in samples]
        checks.append(run.finish())
    notes = ("samples not sent: the session checks failed",) if not messages and samples else ()
    return Report("online", tuple(messages), tuple(checks), notes)


class _Run:
    """One session's samples and probes."""

    def __init__(self, session: Session, target: Target) -> None:
        self._session = session
        self._target = target
        self._probe_serial = f"{PROBE_PREFIX}{uuid.uuid4().hex[:16]}"

    def start(self) -> list[Check]:
        gateway_id = self._target.gateway_id
        granted = self._session.subscribe(errors_topic(gateway_id))
        online = self._session.publish(status_topic(gateway_id), b"online", retain=True)
        checks = [
            Check(
                "subscribe to the own errors topic",
                granted is not None and not granted.is_failure,
                describe(granted),
            ),
            Check(
                "publish 'online' (retained) to the own status topic",
                online is not None and not online.is_failure,
                describe(online),
            ),
        ]
        if all(check.passed for check in checks):
            answers = self._probe()
            stale = f"; {len(answers)} earlier rejections set aside" if answers else ""
            checks.append(
                Check(
                    "the hub answers a probe on the errors topic",
                    answers is not None,
                    self._timeout_text() if answers is None else f"answered{stale}",
                )
            )
        return checks

    def send(self, sample: Sample) -> MessageOutcome:
        topic = readings_topic(self._target.gateway_id, sample.serial)
        reason = self._session.publish(topic, sample.payload)
        if reason is None or reason.is_failure:
            return _unanswered(sample, f"the broker did not accept the publish: {describe(reason)}")
        answers = self._probe()
        if answers is None:
            return _unanswered(sample, self._timeout_text())
        mine = [(h, a) for serial, h, a in answers if serial == sample.serial]
        others = tuple(a for serial, _, a in answers if serial != sample.serial)
        whole, points, stray = attribute(sample, mine)
        return judge(sample, whole, points, offline=False, unattributed=stray + others)

    def finish(self) -> Check:
        """End the session so that the hub sees the gateway offline."""
        if self._session.v5:
            self._session.close(with_will=True)
            return Check("disconnect with the Last Will (MQTT 5, 0x04)", True, "sent")
        reason = self._session.publish(
            status_topic(self._target.gateway_id), b"offline", retain=True
        )
        self._session.close()
        ok = reason is not None and not reason.is_failure
        return Check("publish 'offline' (retained) before disconnecting", ok, describe(reason))

    def _timeout_text(self) -> str:
        wait = f"{self._target.timeout:g} s"
        return f"no answer to the probe within {wait}; is the hub's ingest running?"

    def _probe(self) -> list[tuple[str | None, str | None, Answer]] | None:
        """Send a probe; the rejections that came before its own, None on timeout."""
        header_id = f"lastmile-probe-{uuid.uuid4().hex}"
        topic = readings_topic(self._target.gateway_id, self._probe_serial)
        reason = self._session.publish(topic, probe_payload(header_id))
        if reason is None or reason.is_failure:
            return None
        before: list[tuple[str | None, str | None, Answer]] = []
        deadline = time.monotonic() + self._target.timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                _, payload = self._session.messages.get(timeout=remaining)
            except queue.Empty:
                break
            serial, got, answer = _rejection(payload)
            if got == header_id:
                return before
            before.append((serial, got, answer))
        return None


def _rejection(payload: bytes) -> tuple[str | None, str | None, Answer]:
    """(device serial, header id, answer) of one message on the errors topic."""
    try:
        body: Any = orjson.loads(payload)
    except orjson.JSONDecodeError:
        body = None
    if type(body) is not dict:
        return None, None, Answer("?", "a message on the errors topic is not a JSON object")
    serial, header_id = body.get("device_serial"), body.get("header_id")
    return (
        serial if isinstance(serial, str) else None,
        header_id if isinstance(header_id, str) else None,
        Answer(str(body.get("code")), str(body.get("detail"))),
    )


def _unanswered(sample: Sample, note: str) -> MessageOutcome:
    row = PointOutcome(
        None, None, Result.NO_ANSWER, None, None, sample.expectation.default, False, note
    )
    return MessageOutcome(sample.name, sample.serial, (row,))
