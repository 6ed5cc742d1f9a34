"""Ingest benchmark: figures, not a test. ``lastmile bench ingest`` runs it.

In one run, on the private services, with the same pre-encoded publishers
(several processes, raw sockets, so the publisher is not the limit):

(a) the raw broker → paho QoS 1 rate of a bare counting subscriber, for MQTT
    3.1.1 and 5 (the hub's own protocol version is chosen by this figure);
(b) the raw binary COPY rate into the readings hypertable;
(c) the hub's end-to-end rate: published → validated → committed → acked,
    counted in the database, with the real ``lastmile ingest`` process: without
    detection (c0), with the detectors' scoring only (c1: no on-arrival
    non-adherence checks), and as it runs by default (c: scoring and the
    on-arrival checks);

and prints (c) as a ratio of (a), against the target of 0.50, and what
scoring (c1 against c0) and scoring with the on-arrival checks (c against c0)
add to a reading's cost, against the target of +20 % for scoring.
"""

from __future__ import annotations

import random
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import orjson
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from benchmarks.reset import clear_alerts
from devices import service as devices
from devices.credentials import provision_gateway_credentials
from hub import patients
from hub.db import connect, fresh_database
from hub.domain import DeviceKind
from hub.reading_row import COPY_TYPES, ReadingRow
from hub.settings import BENCH_SERVICES, Settings
from hub.sql import queries
from hub.topics import READINGS_FILTER, readings_topic
from ingest.session import discard_session, spawn_ingest
from simulators.load.countsub import SubscribeStats, count_subscriber
from simulators.load.rawmqtt import MultiPublishStats, PublisherJob, run_publishers_in_processes

BENCH_DB = "lastmile_bench"
TARGET_RATIO = 0.50
#: Alternating end-to-end runs: without detection, scoring only, and the default hub.
ROUNDS = 3


#: Simulated patients per publisher, each with one scale: a day's readings are
#: one per patient, so the detectors see realistic daily series.
PATIENTS_PER_PUBLISHER = 500


@dataclass(frozen=True)
class Publisher:
    gateway_id: str
    password: str
    serials: tuple[str, ...]


def _provision(settings: Settings, count: int) -> list[Publisher]:
    publishers = []
    with connect(settings) as conn:
        for _ in range(count):
            gateway_id = devices.new_gateway_id()
            password = uuid.uuid4().hex
            devices.create_gateway(conn, gateway_id=gateway_id, label="benchmark")
            serials = []
            for _ in range(PATIENTS_PER_PUBLISHER):
                patient = patients.enroll_patient(
                    conn, pathway="CHF", discharge_date=None, identifiers=[]
                )
                serial = f"BENCH-{uuid.uuid4().hex[:8]}"
                devices.create_device(
                    conn,
                    serial=serial,
                    kind=DeviceKind.SCALE,
                    gateway_id=gateway_id,
                    patient_id=patient.id,
                )
                serials.append(serial)
            provision_gateway_credentials(settings, gateway_id=gateway_id, password=password)
            publishers.append(Publisher(gateway_id, password, tuple(serials)))
        conn.commit()
    return publishers


def _payload(kg: float, at: datetime) -> bytes:
    stamp = at.isoformat()
    return orjson.dumps(
        {
            "header": {
                "id": str(uuid.uuid4()),
                "creation_date_time": stamp,
                "schema_id": {"namespace": "omh", "name": "body-weight", "version": "1.0"},
                "acquisition_provenance": {"source_name": "bench-scale", "modality": "sensed"},
            },
            "body": {
                "body_weight": {"value": kg, "unit": "kg"},
                "effective_time_frame": {"date_time": stamp},
            },
        }
    )


def _jobs(publishers: list[Publisher], per_publisher: int) -> list[PublisherJob]:
    """Daily morning weights: day by day, one reading per patient, with noise."""
    start = datetime.now(UTC).replace(hour=7, minute=0, second=0, microsecond=0)
    start -= timedelta(days=per_publisher // PATIENTS_PER_PUBLISHER + 2)
    rng = random.Random(20261122)
    jobs = []
    for p in publishers:
        base = [rng.uniform(60, 110) for _ in p.serials]
        messages = []
        for n in range(per_publisher):
            day, index = divmod(n, len(p.serials))
            kg = round(base[index] + rng.gauss(0, 0.4), 1)
            at = start + timedelta(days=day, minutes=index % 120)
            messages.append((readings_topic(p.gateway_id, p.serials[index]), _payload(kg, at)))
        jobs.append(
            PublisherJob(
                client_id=p.gateway_id,
                username=p.gateway_id,
                password=p.password,
                messages=messages,
            )
        )
    return jobs


def _publish(settings: Settings, jobs: list[PublisherJob]) -> MultiPublishStats:
    return run_publishers_in_processes(
        len(jobs), settings.mqtt_host, settings.mqtt_port, jobs=jobs, window=1000, timeout_s=300
    )


def bare_subscriber(
    settings: Settings, jobs: list[PublisherJob], protocol: int
) -> tuple[SubscribeStats, MultiPublishStats]:
    expected = sum(len(j.messages) for j in jobs)
    ready = threading.Event()
    result: list[SubscribeStats] = []

    def subscribe() -> None:
        result.append(
            count_subscriber(
                settings.mqtt_host,
                settings.mqtt_port,
                username=settings.mqtt_hub_username,
                password=settings.mqtt_hub_password.get_secret_value(),
                topic=READINGS_FILTER,
                expected=expected,
                protocol=protocol,
                timeout_s=30,
                ready=ready,
            )
        )

    thread = threading.Thread(target=subscribe)
    thread.start()
    if not ready.wait(10):
        msg = "the counting subscriber did not subscribe"
        raise RuntimeError(msg)
    published = _publish(settings, jobs)
    thread.join()
    return result[0], published


def copy_rate(settings: Settings, rows: int) -> float:
    start = datetime.now(UTC) - timedelta(days=200)
    with connect(settings) as conn:
        device = conn.execute("SELECT id, patient_id FROM devices LIMIT 1").fetchone()
        assert device is not None
        device_id, patient_id = cast("tuple[int, uuid.UUID]", device)
        data = [
            ReadingRow(
                measured_at=start + timedelta(seconds=n), device_id=device_id,
                measure="body-weight", patient_id=patient_id, value=70.0, value2=None, unit="kg",
                original_value=70.0, original_value2=None, original_unit="kg", modality="sensed",
                schema_version="1.0", header_id=f"copy-{n}", received_at=start,
                descriptive_statistic=None, activity=None, sequence=None,
            )
            for n in range(rows)
        ]  # fmt: skip
        began = time.perf_counter()
        with conn.cursor() as cur, cur.copy(queries["copy_readings"]) as copy:
            copy.set_types(COPY_TYPES)
            for row in data:
                copy.write_row(row)
        conn.commit()
        elapsed = time.perf_counter() - began
        conn.execute("TRUNCATE readings")
        conn.commit()
    return rows / elapsed


def _count(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM readings").fetchone()
    return int(row[0]) if row else 0


def end_to_end(
    settings: Settings,
    jobs: list[PublisherJob],
    publishers: list[Publisher],
    *,
    detection: bool,
    arrival: bool = True,
) -> tuple[float, int, MultiPublishStats]:
    with connect(settings) as conn:  # each run starts from empty tables
        conn.execute("TRUNCATE readings, detector_checkpoints, dead_letters")
        clear_alerts(conn)
        conn.commit()
    worker = spawn_ingest(
        settings,
        LASTMILE_DETECTION_ENABLED="true" if detection else "false",
        LASTMILE_ADHERENCE_ON_ARRIVAL="true" if arrival else "false",
    )
    try:
        with connect(settings) as conn:
            conn.autocommit = True
            _wait_for_session(settings, publishers[0], conn)
            baseline = _count(conn)
            expected = sum(len(j.messages) for j in jobs)
            done_at: list[float] = []

            def watch() -> None:
                with connect(settings) as watcher:
                    watcher.autocommit = True
                    deadline = time.monotonic() + 600
                    while time.monotonic() < deadline:
                        if _count(watcher) - baseline >= expected:
                            done_at.append(time.monotonic())
                            return
                        time.sleep(0.02)

            watcher_thread = threading.Thread(target=watch)
            watcher_thread.start()
            published = _publish(settings, jobs)
            watcher_thread.join()
            stored = _count(conn) - baseline
        if not done_at:
            mode = "with" if detection else "without"
            msg = f"end to end {mode} detection: {stored:,} of {expected:,} stored in 600 s"
            raise RuntimeError(msg)
        began = min(j.started_at for j in published.jobs)
        rate = stored / (done_at[0] - began) if done_at else 0.0
        return rate, stored, published
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def _wait_for_session(settings: Settings, pub: Publisher, conn: psycopg.Connection[Any]) -> None:
    """Publish one reading until the worker has stored it (its session exists)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=pub.gateway_id)
    client.username_pw_set(pub.gateway_id, pub.password)
    client.connect(settings.mqtt_host, settings.mqtt_port)
    client.loop_start()
    payload = _payload(50.0, datetime.now(UTC).replace(microsecond=0) - timedelta(days=400))
    try:
        for _ in range(60):
            client.publish(readings_topic(pub.gateway_id, pub.serials[0]), payload, qos=1)
            time.sleep(0.5)
            if _count(conn) > 0:
                return
    finally:
        client.disconnect()
        client.loop_stop()
    msg = "the ingest worker did not store a reading within 30 s"
    raise RuntimeError(msg)


def run(settings: Settings, *, messages: int, processes: int) -> float:
    """Run the three measurements and print them; return the (c)/(a) ratio."""
    bench = fresh_database(settings, BENCH_DB)
    # A session left by an interrupted run would queue (a)'s messages and
    # store some of them before (c) takes its baseline count.
    discard_session(bench)
    publishers = _provision(bench, processes)
    jobs = _jobs(publishers, messages // processes)
    total = sum(len(j.messages) for j in jobs)
    print(f"ingest benchmark: {total:,} single-reading QoS 1 messages, {processes} raw publishers")

    sub311, pub_a = bare_subscriber(bench, jobs, mqtt.MQTTv311)
    sub5, _ = bare_subscriber(bench, jobs, mqtt.MQTTv5)
    copy = copy_rate(bench, total)
    # (c0), (c1) and (c) alternate, ROUNDS times each, and their medians are
    # compared: one run differs from the next by several per cent on 2 cores.
    bare_rates: list[float] = []
    scoring_rates: list[float] = []
    e2e_rates: list[float] = []
    for _ in range(ROUNDS):
        bare_rates.append(end_to_end(bench, jobs, publishers, detection=False)[0])
        scoring_rates.append(end_to_end(bench, jobs, publishers, detection=True, arrival=False)[0])
        rate, stored, pub_c = end_to_end(bench, jobs, publishers, detection=True)
        e2e_rates.append(rate)
        if stored != total:
            break
    discard_session(bench)
    bare, e2e = statistics.median(bare_rates), statistics.median(e2e_rates)
    scoring = statistics.median(scoring_rates)

    ratio = e2e / sub311.rate if sub311.rate else 0.0
    lines = [
        ("publishers, during (a)", f"{pub_a.rate:10,.0f} msg/s", f"acked {pub_a.acked:,}"),
        ("(a) bare paho subscriber, 3.1.1", f"{sub311.rate:10,.0f} msg/s",
         f"got {sub311.received:,}"),
        ("(a') bare paho subscriber, 5.0", f"{sub5.rate:10,.0f} msg/s",
         f"3.1.1 is {sub311.rate / sub5.rate:.2f}x faster" if sub5.rate else "n/a"),
        ("(b) binary COPY into readings", f"{copy:10,.0f} rows/s", ""),
        ("publishers, during (c)", f"{pub_c.rate:10,.0f} msg/s", f"acked {pub_c.acked:,}"),
        ("(c0) hub end to end, no detection", f"{bare:10,.0f} msg/s",
         f"median of {_rates(bare_rates)}"),
        ("(c1) hub end to end, scoring only", f"{scoring:10,.0f} msg/s",
         f"median of {_rates(scoring_rates)}; no on-arrival non-adherence checks"),
        ("(c) hub end to end, in the DB", f"{e2e:10,.0f} msg/s",
         f"median of {_rates(e2e_rates)}; stored {stored:,} of {total:,} each time"),
    ]  # fmt: skip
    for name, figure, note in lines:
        print(f"  {name:<34}{figure}   {note}")
    verdict = "meets" if ratio >= TARGET_RATIO else "BELOW"
    print(f"  (c)/(a) = {ratio:.2f}   target >= {TARGET_RATIO:.2f}: {verdict}")
    print(f"  (c)/(b) = {e2e / copy:.2f}   (share of the raw COPY rate)")
    if e2e and scoring:
        print(f"  scoring adds {bare / scoring - 1:+.0%} per reading   target <= +20%  (c0/c1)")
        print(
            f"  scoring and the on-arrival non-adherence checks add {bare / e2e - 1:+.0%}"
            " per reading  (c0/c)"
        )
    if stored != total:
        print(f"  LOST: {total - stored} readings were not stored in the last run")
    return ratio


def _rates(rates: list[float]) -> str:
    return ", ".join(f"{r:,.0f}" for r in rates)


def main() -> None:
    from hub.services import up
    from hub.settings import load_settings

    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    run(up(load_settings(**BENCH_SERVICES)), messages=messages, processes=1)


if __name__ == "__main__":
    main()
