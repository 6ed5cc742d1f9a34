"""Run a ground-truth cohort through the real pipeline and read back what the hub stored.

Simulated data only. :func:`pipeline_run` does what a deployment would see:

1. a fresh database (default ``lastmile_eval``) on the given services, migrated;
2. every truth patient enrolled (identifier ``urn:lastmile:sim`` = the truth
   patient id), one gateway each with broker credentials, and every device
   :meth:`simulators.groundtruth.TruthCohort.devices` lists (a scale that
   replaced another included), with the serials
   :func:`simulators.groundtruth.sim_events` uses;
3. the real ``lastmile ingest`` worker as a subprocess, detection on, the
   scheduled non-adherence pass pushed out of reach (its wall clock means
   nothing for replayed months);
4. every data point published at QoS 1, one raw connection per gateway, each
   gateway's messages in arrival order (gateways interleave);
5. a bounded wait until ``readings`` plus ``dead_letters`` account for every
   point, then the worker stops and its MQTT session is discarded;
6. every ``alert_evidence`` row read back as a :class:`~hub.alerting.Detection`
   of the truth patient.

Measurement times must not be in the future, so the cohort should end before
today (:func:`pipeline_start`). Its readings then arrive months after they were
measured: the engine reports everything ``:late`` and one severity lower.
"""

from __future__ import annotations

import math
import subprocess
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import UUID

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from devices import service as devices
from hub import patients
from hub.alerting import AlertKind, Detection, Severity
from hub.db import connect, fresh_database
from hub.domain import Measure
from hub.services.dynsec import DynsecClient
from hub.settings import Settings
from hub.sql import queries
from hub.topics import readings_topic, status_topic
from ingest.session import discard_session, spawn_ingest
from simulators.exceptions import PublisherError, SimulatorError
from simulators.groundtruth import TruthCohort, sim_events
from simulators.load.rawmqtt import PublishStats, publish_preencoded
from simulators.provision import SIM_IDENTIFIER_SYSTEM

EVAL_DATABASE = "lastmile_eval"
SIM_PREFIX = "eval"
PUBLISH_THREADS = 4
#: Give up when the stored count has not moved for this long.
STALL_S = 120.0


@dataclass(frozen=True, slots=True)
class _Gateway:
    key: str
    gateway_id: str
    password: str
    serials: frozenset[str]


@dataclass(frozen=True)
class PipelineRun:
    """What the hub made of the cohort, with the run's counts and timings."""

    detections: list[Detection]
    database: str
    published: int  # data points, one per message
    duplicates: int  # points whose (device, measure, time) was published before
    stored: int  # rows in readings
    rejected: dict[str, int]  # dead letters by code
    seconds_provision: float  # database, patients, gateways, devices, broker credentials
    seconds_encode: float  # the MQTT messages of every reading
    seconds_publish: float  # first PUBLISH to the last PUBACK
    seconds_ingest: float  # first PUBLISH until every point was accounted for

    @property
    def readings_per_s(self) -> float:
        return self.stored / self.seconds_ingest if self.seconds_ingest > 0 else 0.0


def pipeline_start(days: float, *, now: datetime | None = None) -> datetime:
    """First day (UTC midnight) of a ``days``-long cohort that ends two days before today."""
    today = (now or datetime.now(UTC)).astimezone(UTC)
    today = today.replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=math.ceil(days) + 2)


def run_pipeline(
    cohort: TruthCohort, *, settings: Settings, database: str = EVAL_DATABASE
) -> list[Detection]:
    """The detections the hub stored for ``cohort`` (see :func:`pipeline_run`)."""
    return pipeline_run(cohort, settings=settings, database=database).detections


def pipeline_run(
    cohort: TruthCohort, *, settings: Settings, database: str = EVAL_DATABASE
) -> PipelineRun:
    """Provision, publish, ingest and read back ``cohort`` on ``settings``' services.

    ``database`` is dropped and created afresh (and left behind for
    inspection); the gateways' broker credentials are deleted afterwards.
    """
    now = datetime.now(UTC) + timedelta(seconds=settings.future_tolerance_s)
    if cohort.truth.end > now:
        msg = f"the cohort ends {cohort.truth.end:%Y-%m-%d}, in the future: use pipeline_start()"
        raise SimulatorError(msg)
    t0 = time.perf_counter()
    hub = fresh_database(settings, database)
    gateways = _provision(hub, cohort)
    try:
        t1 = time.perf_counter()
        messages, published, duplicates = _messages(cohort, gateways)
        seconds_provision, seconds_encode = t1 - t0, time.perf_counter() - t1
        worker = spawn_ingest(
            hub,
            LASTMILE_DETECTION_ENABLED="true",
            # Wall-clock non-adherence means nothing for months replayed in minutes.
            LASTMILE_ADHERENCE_INTERVAL_S="1000000000",
            LASTMILE_ADHERENCE_ON_ARRIVAL="false",
        )
        try:
            _wait_for_session(hub, next(iter(gateways.values())), worker)
            began = time.monotonic()
            stats = _publish(hub, gateways, messages)
            published_at = max(s.finished_at for s in stats)
            stored, dead = _wait_accounted(hub, published - duplicates, worker)
            done_at = time.monotonic()
        finally:
            worker.terminate()
            worker.wait(timeout=60)
        discard_session(hub)
        detections = read_detections(hub)
        with connect(hub) as conn:
            rows = conn.execute(queries["eval_dead_letters_by_code"])
            codes = {str(code): cast("int", n) for code, n in rows.fetchall()}
    finally:
        _delete_credentials(hub, gateways)
    if sum(codes.values()) != dead:
        msg = f"dead letters changed after the run: {dead} then {sum(codes.values())}"
        raise SimulatorError(msg)
    return PipelineRun(
        detections=detections,
        database=database,
        published=published,
        duplicates=duplicates,
        stored=stored,
        rejected=dict(sorted(codes.items())),
        seconds_provision=seconds_provision,
        seconds_encode=seconds_encode,
        seconds_publish=published_at - began,
        seconds_ingest=done_at - began,
    )


def _provision(settings: Settings, cohort: TruthCohort) -> dict[str, _Gateway]:
    """Enroll the patients, their gateways and devices; create the broker credentials."""
    gateways: dict[str, _Gateway] = {}
    with connect(settings) as conn:
        for p in cohort.patients:
            enrolled = patients.enroll_patient(
                conn,
                pathway=p.pathway.value,
                discharge_date=p.start.date(),
                identifiers=[patients.Identifier(SIM_IDENTIFIER_SYSTEM, str(p.patient_id))],
            )
            key = f"{SIM_PREFIX}-gw{p.index:04d}"
            gateway_id = devices.new_gateway_id()
            devices.create_gateway(conn, gateway_id=gateway_id, label=f"simulated {key}")
            serials = []
            for device in cohort.devices(p.index):  # a replacement scale too
                serial = device.serial(SIM_PREFIX, p.index)
                devices.create_device(
                    conn,
                    serial=serial,
                    kind=device.kind,
                    gateway_id=gateway_id,
                    patient_id=enrolled.id,
                )
                serials.append(serial)
            gateways[key] = _Gateway(key, gateway_id, uuid.uuid4().hex, frozenset(serials))
        conn.commit()
    with DynsecClient.from_settings(settings) as dynsec:  # one admin session for all
        for gw in gateways.values():
            dynsec.create_gateway_client(gw.gateway_id, gw.password)
    return gateways


def _delete_credentials(settings: Settings, gateways: dict[str, _Gateway]) -> None:
    with DynsecClient.from_settings(settings) as dynsec:
        for gw in gateways.values():
            dynsec.delete_gateway_client(gw.gateway_id)


def _messages(
    cohort: TruthCohort, gateways: dict[str, _Gateway]
) -> tuple[dict[str, list[tuple[str, bytes]]], int, int]:
    """Each gateway's (topic, payload) pairs in arrival order; the points and duplicates."""
    out: dict[str, list[tuple[str, bytes]]] = {key: [] for key in gateways}
    seen: set[tuple[int, Measure, datetime]] = set()
    duplicates = published = 0
    for reading, event in zip(
        cohort.readings(), sim_events(cohort, prefix=SIM_PREFIX), strict=True
    ):
        gw = gateways.get(event.gateway_key)
        if gw is None or event.device_serial not in gw.serials:
            msg = f"{event.gateway_key}/{event.device_serial} was not provisioned"
            raise SimulatorError(msg)
        out[gw.key].append((readings_topic(gw.gateway_id, event.device_serial), event.payload))
        published += event.n_points
        key = (reading.device_id, reading.measure, reading.measured_at)
        duplicates += key in seen
        seen.add(key)
    return out, published, duplicates


def _publish(
    settings: Settings,
    gateways: dict[str, _Gateway],
    messages: dict[str, list[tuple[str, bytes]]],
) -> list[PublishStats]:
    def one(gw: _Gateway) -> PublishStats:
        return publish_preencoded(
            settings.mqtt_host,
            settings.mqtt_port,
            client_id=gw.gateway_id,
            username=gw.gateway_id,
            password=gw.password,
            messages=messages[gw.key],
            timeout_s=600.0,
        )

    with ThreadPoolExecutor(PUBLISH_THREADS) as pool:
        stats = list(pool.map(one, [gw for gw in gateways.values() if messages[gw.key]]))
    failed = [s for s in stats if s.timed_out or s.acked != s.total]
    if failed:
        s = failed[0]
        msg = f"{len(failed)} gateways not fully acknowledged, e.g. {s.acked}/{s.total}"
        raise PublisherError(msg)
    return stats


def _wait_for_session(settings: Settings, gw: _Gateway, worker: subprocess.Popen[bytes]) -> None:
    """Publish the gateway's 'online' status until the worker has recorded it.

    A status message stores no reading, so the cohort's data stay untouched.
    """
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=gw.gateway_id, protocol=MQTTProtocolVersion.MQTTv311
    )
    client.username_pw_set(gw.gateway_id, gw.password)
    client.connect(settings.mqtt_host, settings.mqtt_port)
    client.loop_start()
    try:
        with connect(settings) as conn:
            conn.autocommit = True
            for _ in range(120):
                if worker.poll() is not None:
                    msg = f"the ingest worker exited with {worker.returncode}"
                    raise SimulatorError(msg)
                client.publish(status_topic(gw.gateway_id), b"online", qos=1)
                time.sleep(0.5)
                row = conn.execute(queries["gateway_presence"], {"id": gw.gateway_id}).fetchone()
                if row is not None and row[0] == "online":
                    return
    finally:
        client.disconnect()
        client.loop_stop()
    msg = "the ingest worker did not record a gateway status within 60 s"
    raise SimulatorError(msg)


def _wait_accounted(
    settings: Settings, expected: int, worker: subprocess.Popen[bytes]
) -> tuple[int, int]:
    """Wait until readings + dead letters reach ``expected``; fail when progress stops."""
    last, moved = -1, time.monotonic()
    with connect(settings) as conn:
        conn.autocommit = True
        while True:
            row = conn.execute(queries["eval_accounted"]).fetchone()
            assert row is not None
            stored, dead = cast("tuple[int, int]", row)
            if stored + dead >= expected:
                return stored, dead
            if worker.poll() is not None:
                msg = f"the ingest worker exited with {worker.returncode}"
                raise SimulatorError(msg)
            if stored + dead != last:
                last, moved = stored + dead, time.monotonic()
            elif time.monotonic() - moved > STALL_S:
                msg = (
                    f"only {stored:,} readings + {dead:,} dead letters of {expected:,} points "
                    f"after {STALL_S:.0f} s without progress"
                )
                raise SimulatorError(msg)
            time.sleep(0.5)


def read_detections(settings: Settings) -> list[Detection]:
    """Every stored piece of alert evidence as a Detection of the truth patient."""
    with connect(settings) as conn:
        rows = conn.execute(queries["eval_evidence"], {"system": SIM_IDENTIFIER_SYSTEM}).fetchall()
    return [_detection(row) for row in rows]


def _detection(row: Sequence[Any]) -> Detection:
    patient, kind, severity, source, measure, observed, baseline, start, end, reason = row
    return Detection(
        patient_id=UUID(patient),
        kind=AlertKind(kind),
        severity=Severity(severity),
        source=source,
        measure=None if measure is None else Measure(measure),
        observed={str(k): float(v) for k, v in observed.items()},
        baseline={str(k): float(v) for k, v in baseline.items()},
        window_start=start,
        window_end=end,
        reason=reason,
    )
