"""What the transitional-care and forecast tests share: made-up patients, devices,
readings, episodes, and a coordinator with a browser subscription (to watch the outbox).

Everything is simulated; rows are written directly where the API's clock (now)
would get in the way of fixed, hand-worked dates.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from uuid import UUID

import psycopg

from alerts.push import add_subscription
from hub.care_programs import Complexity, DischargeSetting, ProgramKind
from hub.patients import enroll_patient
from programs.episodes import record, start_episode
from programs.models import ConsentMethod, Episode, Practitioner, Statement, Tcm
from tests.api_support import make_user
from tests.fakes.webpush_protocol import BrowserSubscription

#: CMS's worked example of the NPI check digit.
DR = Practitioner(name="Dr. Ada Example", npi="1234567893")


def coordinator_with_push(conn: psycopg.Connection[Any], name: str, now: datetime) -> UUID:
    """A coordinator whose browser is subscribed: every push to them lands in the outbox."""
    user = make_user(conn, name)
    browser = BrowserSubscription(f"https://push.example.com/wpush/v2/{uuid.uuid4().hex}", "")
    add_subscription(
        conn,
        user_id=user,
        endpoint=browser.endpoint,
        p256dh=browser.p256dh,
        auth=browser.auth,
        now=now,
    )
    return user


def patient(
    conn: psycopg.Connection[Any], *, timezone: str, coordinator: UUID | None = None
) -> UUID:
    made = enroll_patient(
        conn, pathway="CHF", discharge_date=None, identifiers=(), timezone=timezone
    )
    if coordinator is not None:
        conn.execute(
            "INSERT INTO patient_coordinators (patient_id, user_id, assigned_at)"
            " VALUES (%s, %s, now())",
            (made.id, coordinator),
        )
    return made.id


def tcm_episode(
    conn: psycopg.Connection[Any],
    patient_id: UUID,
    actor: UUID,
    *,
    discharged_on: date,
    now: datetime,
    complexity: Complexity | None = None,
    setting: DischargeSetting = DischargeSetting.INPATIENT,
) -> Episode:
    return start_episode(
        conn,
        patient_id=patient_id,
        kind=ProgramKind.TCM,
        started_on=None,
        ordering=DR,
        conditions=[],
        actor=actor,
        now=now,
        tcm=Tcm(discharged_on, setting, complexity),
    )


def program_episode(
    conn: psycopg.Connection[Any],
    patient_id: UUID,
    actor: UUID,
    *,
    kind: ProgramKind,
    started_on: date,
    now: datetime,
    consent: bool = True,
) -> Episode:
    episode = start_episode(
        conn,
        patient_id=patient_id,
        kind=kind,
        started_on=started_on,
        ordering=DR,
        conditions=["I50.22", "E11.9"],
        actor=actor,
        now=now,
    )
    if consent:
        episode = record(
            conn,
            patient_id=patient_id,
            episode_id=episode.id,
            statements=[Statement.consent(started_on, ConsentMethod.VERBAL)],
            actor=actor,
            now=now,
        )
    return episode


def device(conn: psycopg.Connection[Any], patient_id: UUID) -> str:
    """A scale registered to the patient; its serial."""
    serial = f"SC-{uuid.uuid4().hex[:10]}"
    gateway = f"gw-{uuid.uuid4().hex[:10]}"
    conn.execute("INSERT INTO gateways (id, label) VALUES (%s, 'test')", (gateway,))
    conn.execute(
        "INSERT INTO devices (serial, kind, gateway_id, patient_id, status)"
        " VALUES (%s, 'scale', %s, %s, 'active')",
        (serial, gateway, patient_id),
    )
    return serial


def reading(
    conn: psycopg.Connection[Any], serial: str, at: datetime, *, modality: str = "sensed"
) -> None:
    """A body-weight reading of the device's patient, measured at ``at``."""
    conn.execute(
        "INSERT INTO readings (measured_at, device_id, measure, patient_id, value, unit,"
        " original_value, original_unit, modality, schema_version, header_id, received_at)"
        " SELECT %s, d.id, 'body-weight', d.patient_id, 80, 'kg', 80, 'kg', %s, '2.0', %s, %s"
        " FROM devices d WHERE d.serial = %s",
        (at, modality, uuid.uuid4().hex, at, serial),
    )


def outbox(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    """The pushes queued, as (alert kind, urgency)."""
    rows = conn.execute(
        "SELECT a.kind, o.urgency FROM push_outbox o JOIN alerts a ON a.id = o.alert_id"
        " ORDER BY o.id"
    ).fetchall()
    return [(str(k), str(u)) for k, u in rows]
