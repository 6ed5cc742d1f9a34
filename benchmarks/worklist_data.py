"""Simulated data for the worklist benchmark (benchmarks/worklist.py): no real patient.

Everything is written in bulk (COPY, or INSERT ... SELECT inside PostgreSQL): a
benchmark's set-up, not the enrollment API. The discharge scores are computed by
``hub.discharge_risk`` exactly as enrollment computes them.
"""

from __future__ import annotations

import math
import random
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import psycopg
from psycopg.types.json import Jsonb

from api import accounts
from api.accounts import Role
from hub.db import Conn
from hub.discharge_risk import DischargeInputs, discharge_risk
from hub.reading_row import COPY_TYPES, ReadingRow
from hub.sql import queries

SYSTEM = "urn:lastmile:bench-mrn"
#: The benchmark users' password: made up per run.
PASSWORD = secrets.token_urlsafe(18)
COORDINATORS_PER_SUPERVISOR = 10
PATHWAYS = ("CHF", "CHF", "COPD", "HTN", "default")
TIMEZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
CONDITIONS = ("heart failure", "COPD", "hypertension", "type 2 diabetes", "CKD stage 3")
#: (measure, unit, minutes after 07:00 the reading is taken)
MEASURES = (
    ("body-weight", "kg", 0),
    ("blood-pressure", "mmHg", 5),
    ("oxygen-saturation", "%", 7),
    ("heart-rate", "beats/min", 7),
)
#: Unresolved alerts: (kind, severity, reason), clinical and non-adherence.
OPEN_ALERTS = (
    ("spo2_low", "critical", "SpO2 85% at rest (limit 88%), confirmed."),
    ("bp_high", "critical", "Blood pressure 186/112 mmHg (limit 180/120), confirmed."),
    ("weight_gain", "high", "Weight up 2.4 kg in 72 h (limit 2.0 kg)."),
    ("hr_high", "high", "Heart rate 128/min at rest (limit 120)."),
    ("weight_gain", "medium", "Daily weight has crept 1.8 kg above the personal level."),
    ("bp_high", "low", "Systolic 182 mmHg once; waiting for a repeat reading."),
    ("missed_readings", "low", "No body-weight reading for 50 h since the last one."),
    ("refill_overdue", "medium", "Loop diuretics: furosemide 40 MG ran out: 6 days."),
    ("low_pdc", "low", "Beta-blockers: 51 of 90 days covered (PDC 57%, adherent from 80%)."),
)
#: Share of patients with unresolved alerts, and resolved alerts per patient-year.
ALERTED_SHARE, RESOLVED_PER_PATIENT = 0.10, 1.0


@dataclass(frozen=True, slots=True)
class Cohort:
    patients: int
    panel: int
    coordinators: int
    supervisors: int
    #: The measured coordinator, their supervisor, and the panel's patient ids.
    coordinator: str
    supervisor: str
    panel_ids: tuple[uuid.UUID, ...]
    #: Days of readings of the panel.
    days: int


def pid(i: int) -> uuid.UUID:
    return uuid.UUID(int=i + 1)


def _inputs(rng: random.Random) -> DischargeInputs:
    """A made-up index stay; one patient in twenty has no discharge labs."""
    labs = rng.random() >= 0.05
    return DischargeInputs(
        length_of_stay_days=min(int(rng.expovariate(1 / 5)), 40),
        acute_admission=rng.random() < 0.7,
        charlson_index=min(int(rng.expovariate(1 / 2)), 10),
        ed_visits_6m=min(int(rng.expovariate(1)), 8),
        haemoglobin_g_dl=round(rng.gauss(12.5, 1.8), 1) if labs else None,
        sodium_mmol_l=round(rng.gauss(138, 3.5)) if labs else None,
        oncology_discharge=rng.random() < 0.08,
        procedure_during_stay=rng.random() < 0.4,
        admissions_12m=min(int(rng.expovariate(1 / 1.2)), 9),
    )


def users(conn: Conn, cohort: Cohort, now: datetime) -> list[uuid.UUID]:
    """Coordinators (ten to a supervisor) and their supervisors; the coordinators' ids.

    The measured coordinator (the first) and their supervisor are made through
    ``accounts``; the others are copied in with the same password hash.
    """
    sup = accounts.create_user(
        conn, username=cohort.supervisor, password=PASSWORD, role=Role.SUPERVISOR, now=now
    )
    me = accounts.create_user(
        conn,
        username=cohort.coordinator,
        password=PASSWORD,
        role=Role.COORDINATOR,
        now=now,
        supervisor_id=sup.id,
    )
    row = conn.execute("SELECT password_hash FROM users WHERE id = %s", (me.id,)).fetchone()
    assert row is not None
    supervisors = [sup.id, *(uuid.uuid4() for _ in range(1, cohort.supervisors))]
    coordinators = [me.id, *(uuid.uuid4() for _ in range(1, cohort.coordinators))]
    columns = "id, username, role, supervisor_id, password_hash, password_changed_at, created_at"
    with conn.cursor() as cur, cur.copy(f"COPY users ({columns}) FROM STDIN") as copy:
        for n, user_id in enumerate(supervisors[1:], start=1):
            copy.write_row((user_id, f"bench-s{n:03d}", "supervisor", None, row[0], now, now))
        for n, user_id in enumerate(coordinators[1:], start=1):
            boss = supervisors[n // COORDINATORS_PER_SUPERVISOR]
            copy.write_row((user_id, f"bench-c{n:04d}", "coordinator", boss, row[0], now, now))
    return coordinators


def patients(
    conn: Conn, cohort: Cohort, coordinators: list[uuid.UUID], today: date, rng: random.Random
) -> None:
    """Patients with their scores, identifiers, panels, and one device on one gateway each."""
    columns = (
        "id, pathway, discharge_date, enrolled_at, timezone, conditions, discharge_inputs, "
        "lace, hospital, discharge_risk"
    )
    with conn.cursor() as cur:
        with cur.copy(f"COPY patients ({columns}) FROM STDIN") as copy:
            for i in range(cohort.patients):
                inputs, discharged = _inputs(rng), today - timedelta(days=rng.randrange(365))
                risk = discharge_risk(inputs)
                given = {k: v for k, v in asdict(inputs).items() if v is not None}
                copy.write_row((
                    pid(i), rng.choice(PATHWAYS), discharged,
                    datetime.combine(discharged, datetime.min.time(), tzinfo=UTC),
                    rng.choice(TIMEZONES), rng.sample(CONDITIONS, rng.randint(1, 3)),
                    Jsonb(given), risk.lace.total, risk.hospital.total, risk.risk,
                ))  # fmt: skip
        with cur.copy("COPY patient_identifiers (system, value, patient_id) FROM STDIN") as copy:
            for i in range(cohort.patients):
                copy.write_row((SYSTEM, f"B{i:06d}", pid(i)))
        now = datetime.now(UTC)
        columns = "patient_id, user_id, assigned_at"
        with cur.copy(f"COPY patient_coordinators ({columns}) FROM STDIN") as copy:
            for i in range(cohort.patients):
                copy.write_row((pid(i), coordinators[i // cohort.panel], now))
        with cur.copy("COPY gateways (id, label) FROM STDIN") as copy:
            for g in range(cohort.coordinators):
                copy.write_row((f"gw-bench{g:08d}", "benchmark"))
        with cur.copy(
            "COPY devices (serial, kind, gateway_id, patient_id, status) FROM STDIN"
        ) as copy:
            for i in range(cohort.patients):
                gateway = f"gw-bench{i // cohort.panel:08d}"
                copy.write_row((f"BENCH-{i:06d}", "multi", gateway, pid(i), "active"))


def alerts(conn: Conn, cohort: Cohort, now: datetime, rng: random.Random) -> None:
    """Unresolved alerts for about one patient in ten, and a year of resolved ones."""
    snooze = conn.execute(
        "SELECT count(*) FROM information_schema.columns"
        " WHERE table_name = 'alerts' AND column_name = 'snoozed_until'"
    ).fetchone() == (1,)
    columns = "patient_id, kind, severity, status, source, reason, opened_at, updated_at"
    with conn.cursor() as cur:
        with cur.copy(f"COPY alerts ({columns}, resolved_at) FROM STDIN") as copy:
            for i in range(cohort.patients):
                for _ in range(_poisson(rng, RESOLVED_PER_PATIENT)):
                    kind, severity, reason = rng.choice(OPEN_ALERTS)
                    at = now - timedelta(days=rng.uniform(2, 365))
                    done = at + timedelta(hours=rng.uniform(1, 48))
                    copy.write_row((pid(i), kind, severity, "resolved", "rule:bench", reason,
                                    at, done, done))  # fmt: skip
                if rng.random() >= ALERTED_SHARE:
                    continue
                for kind, severity, reason in _distinct_kinds(rng, rng.randint(1, 3)):
                    at = now - timedelta(hours=rng.expovariate(1 / 20))
                    status = "acknowledged" if rng.random() < 0.15 else "open"
                    copy.write_row((pid(i), kind, severity, status, "rule:bench", reason,
                                    at, at, None))  # fmt: skip
        if snooze:
            cur.execute(
                "UPDATE alerts SET snoozed_until = now() + interval '4 hours'"
                " WHERE status <> 'resolved' AND id % 30 = 0"
            )


#: Shares of patients in care programmes: an open TCM episode (its clocks on the
#: worklist), an open RPM episode, and of those a device-days notice.
TCM_SHARE, RPM_SHARE, NOTICE_SHARE = 0.03, 0.3, 0.15
NPI = "1234567893"


def programmes(conn: Conn, cohort: Cohort, actor: uuid.UUID, rng: random.Random) -> None:
    """Open TCM episodes (discharged in the last three weeks, some milestones recorded) and
    RPM episodes, a share of them with the daily forecast's notice."""
    now = datetime.now(UTC)
    columns = (
        "patient_id, kind, started_on, ordering_name, ordering_npi, discharged_on,"
        " discharge_setting, created_by, created_at"
    )
    # Per TCM patient: the complexity, the visit's day and the contact's instant, if recorded.
    milestones: dict[uuid.UUID, tuple[str | None, date | None, datetime | None]] = {}
    with conn.cursor() as cur:
        with cur.copy(f"COPY program_episodes ({columns}) FROM STDIN") as copy:
            for i in range(cohort.patients):
                if rng.random() < TCM_SHARE:
                    day = now.date() - timedelta(days=rng.randrange(21))
                    contact = now - timedelta(hours=rng.uniform(0, 24))
                    copy.write_row((pid(i), "TCM", day, "Dr. Bench", NPI, day, "inpatient",
                                    actor, now))  # fmt: skip
                    milestones[pid(i)] = (
                        rng.choice(("moderate", "high", None)),
                        day if rng.random() < 0.3 else None,
                        contact if rng.random() < 0.5 and contact.date() >= day else None,
                    )
                if rng.random() < RPM_SHARE:
                    day = now.date() - timedelta(days=rng.randrange(120))
                    copy.write_row((pid(i), "RPM", day, "Dr. Bench", NPI, None, None, actor,
                                    now))  # fmt: skip
        _milestone_records(cur, milestones, actor, now)
        cur.execute(
            "INSERT INTO worklist_notices (patient_id, kind, episode_id, period_start, text,"
            " opened_at, updated_at)"
            " SELECT patient_id, 'device_days', id, started_on,"
            " 'Device days: needs 6 more days in 8 for 99454', %(now)s, %(now)s"
            " FROM program_episodes WHERE kind = 'RPM' AND random() < %(share)s",
            {"now": now, "share": NOTICE_SHARE},
        )


def _milestone_records(
    cur: psycopg.Cursor[Any],
    milestones: dict[uuid.UUID, tuple[str | None, date | None, datetime | None]],
    actor: uuid.UUID,
    now: datetime,
) -> None:
    """The TCM episodes' milestones, as rows of their record (migration 0028)."""
    episodes = cur.execute("SELECT patient_id, id FROM program_episodes WHERE kind = 'TCM'")
    ids = dict(episodes.fetchall())
    columns = "episode_id, patient_id, fact, on_date, at_time, complexity, recorded_by, recorded_at"
    with cur.copy(f"COPY program_records ({columns}) FROM STDIN") as copy:
        for patient, (complexity, visit, contact) in milestones.items():
            for fact, on, at, level in (
                ("complexity", None, None, complexity),
                ("face_to_face", visit, None, None),
                ("contact", None, contact, None),
            ):
                if (on, at, level) != (None, None, None):
                    copy.write_row((ids[patient], patient, fact, on, at, level, actor, now))


def _poisson(rng: random.Random, mean: float) -> int:
    n, p, limit = 0, 1.0, math.exp(-mean)
    while (p := p * rng.random()) > limit:
        n += 1
    return n


def _distinct_kinds(rng: random.Random, n: int) -> list[tuple[str, str, str]]:
    by_kind = {kind: (kind, sev, reason) for kind, sev, reason in rng.sample(OPEN_ALERTS, 6)}
    return list(by_kind.values())[:n]


def _panel_rows(
    devices: dict[uuid.UUID, int], level: dict[uuid.UUID, float], day: date, rng: random.Random
) -> Iterator[ReadingRow]:
    """One day of the panel's readings: weight drifting slowly, the others around a level."""
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    for n, (patient, device) in enumerate(devices.items()):
        level[patient] += rng.gauss(0, 0.15)
        base = 60 + n % 50 + level[patient]
        values = (
            (round(base + rng.gauss(0, 0.3), 1), None),
            (round(118 + n % 30 + rng.gauss(0, 6)), round(74 + n % 15 + rng.gauss(0, 4))),
            (min(100.0, round(95 + n % 3 + rng.gauss(0, 1))), None),
            (round(68 + n % 20 + rng.gauss(0, 5)), None),
        )
        for (measure, unit, minutes), (value, value2) in zip(MEASURES, values, strict=True):
            at = midnight + timedelta(hours=7, minutes=minutes + n % 90)
            received = at + timedelta(seconds=40)
            yield ReadingRow(
                measured_at=at, device_id=device, measure=measure, patient_id=patient,
                value=value, value2=value2, unit=unit, original_value=value,
                original_value2=value2, original_unit=unit, modality="sensed",
                schema_version="1.0", header_id=f"bench-{n}-{day}", received_at=received,
                descriptive_statistic=None, activity=None, sequence=None,
            )  # fmt: skip


#: One day of readings for every device but the panel's, generated inside PostgreSQL.
BACKGROUND_DAY = """
INSERT INTO readings (measured_at, device_id, measure, patient_id, value, value2, unit,
    original_value, original_value2, original_unit, modality, schema_version, header_id,
    received_at)
SELECT t.at, d.id, m.measure, d.patient_id, v.value, v.value2, m.unit, v.value, v.value2,
       m.unit, 'sensed', '1.0', 'bench', t.at + interval '40 seconds'
FROM devices d
CROSS JOIN (VALUES ('body-weight', 'kg', 0), ('blood-pressure', 'mmHg', 5),
                   ('oxygen-saturation', '%%', 7), ('heart-rate', 'beats/min', 7))
           AS m(measure, unit, minutes)
CROSS JOIN LATERAL (SELECT %(day)s::timestamptz + interval '7 hours'
                           + make_interval(mins => m.minutes + (d.id %% 90)::int) AS at) t
CROSS JOIN LATERAL (SELECT CASE m.measure
        WHEN 'body-weight' THEN round((60 + d.id %% 50 + random() * 0.8)::numeric, 1)::float8
        WHEN 'blood-pressure' THEN round(115 + d.id %% 30 + random() * 12)
        WHEN 'oxygen-saturation' THEN least(100, round(94 + d.id %% 4 + random() * 2))
        ELSE round(66 + d.id %% 20 + random() * 10) END AS value,
    CASE WHEN m.measure = 'blood-pressure' THEN round(72 + d.id %% 15 + random() * 8) END
        AS value2) v
WHERE NOT (d.patient_id = ANY(%(panel)s))
"""


def readings(conn: Conn, cohort: Cohort, *, background_days: int, rng: random.Random) -> None:
    """``cohort.days`` of the panel's readings (COPY), ``background_days`` of the others'.

    Day by day, oldest first, committed per day: the order ingest would store them in.
    """
    today = datetime.now(UTC).date()
    rows = conn.execute(
        "SELECT patient_id, id FROM devices WHERE patient_id = ANY(%s) ORDER BY patient_id",
        (list(cohort.panel_ids),),
    ).fetchall()
    devices = {cast("uuid.UUID", p): cast("int", d) for p, d in rows}
    level = dict.fromkeys(devices, 0.0)
    panel_n = background_n = 0
    started = time.perf_counter()
    for back in range(max(cohort.days, background_days), 0, -1):
        day = today - timedelta(days=back)
        if back <= cohort.days:
            with conn.cursor() as cur, cur.copy(queries["copy_readings"]) as copy:
                copy.set_types(COPY_TYPES)
                for row in _panel_rows(devices, level, day, rng):
                    copy.write_row(row)
                    panel_n += 1
        if back <= background_days:
            params: dict[str, Any] = {"day": day, "panel": list(cohort.panel_ids)}
            background_n += conn.execute(BACKGROUND_DAY, params).rowcount
        conn.commit()
        if back % 30 == 0:
            rate = (panel_n + background_n) / (time.perf_counter() - started)
            print(f"    readings up to {day}: {panel_n + background_n:,} ({rate:,.0f}/s)")
