"""What the billing export tests share: homes with devices, readings, episodes, time.

Simulated patients only. Every date below is worked by hand in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg

from api import accounts
from billing.models import Month
from devices import service as devices
from flows.billing_export.evidence import Scope
from flows.billing_export.export import export_document
from flows.billing_export.render import document_rows
from hub.care_programs import ProgramKind
from hub.measures import DeviceKind
from hub.patients import Identifier, enroll_patient
from programs import episodes, timelog
from programs.models import (
    Activity,
    ConsentMethod,
    Episode,
    Practitioner,
    Statement,
    TimeEntry,
    Work,
)
from programs.timelog import span_of

NPI = "1234567893"
DR = Practitioner(name="Dr. Ada Example", npi=NPI)
#: The clock of the repository calls: after the months the tests bill.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
MARCH = Month(2026, 3)
CALL = Work(Activity.CALL, interactive=True)
REVIEW = Work(Activity.DATA_REVIEW, interactive=False)

Conn = psycopg.Connection[Any]


@dataclass(frozen=True, slots=True)
class Home:
    """A patient on a coordinator's panel and their devices (serial → id)."""

    patient: UUID
    devices: dict[str, int]


def home(
    conn: Conn, *, mrn: str, tz: str, coordinator: UUID, serials: tuple[str, ...] = ()
) -> Home:
    patient = enroll_patient(
        conn,
        pathway="CHF",
        discharge_date=None,
        identifiers=[Identifier(system="urn:mrn", value=mrn)],
        timezone=tz,
    ).id
    accounts.assign_coordinators(
        conn, patient_id=patient, user_ids=[coordinator], now=NOW, replace=False
    )
    return Home(patient, home_devices(conn, patient, serials))


def home_devices(conn: Conn, patient: UUID, serials: tuple[str, ...]) -> dict[str, int]:
    """Devices registered to the patient on a gateway of their own: serial → id."""
    gateway = devices.new_gateway_id()
    devices.create_gateway(conn, gateway_id=gateway, label="home")
    return {
        serial: devices.create_device(
            conn, serial=serial, kind=DeviceKind.MULTI, gateway_id=gateway, patient_id=patient
        ).id
        for serial in serials
    }


def reading(
    conn: Conn,
    patient: UUID,
    device_id: int,
    at: datetime,
    *,
    modality: str = "sensed",
    measure: str = "body-weight",
) -> None:
    """One stored reading (the ingest path's columns; the value does not matter here)."""
    conn.execute(
        "INSERT INTO readings (measured_at, device_id, measure, patient_id, value, unit,"
        " original_value, original_unit, modality, schema_version, header_id, received_at)"
        " VALUES (%s, %s, %s, %s, 80, 'kg', 80, 'kg', %s, '1.0', %s, %s)",
        (at, device_id, measure, patient, modality, f"h-{device_id}-{at}", at),
    )


def daily(
    conn: Conn, patient: UUID, device_id: int, first: date, days: int, *, hour: int = 14
) -> None:
    """A sensed reading on each of ``days`` days from ``first``, at ``hour``:00 UTC."""
    for n in range(days):
        at = datetime.combine(first + timedelta(days=n), datetime.min.time(), tzinfo=UTC)
        reading(conn, patient, device_id, at + timedelta(hours=hour))


def programme(
    conn: Conn,
    patient: UUID,
    actor: UUID,
    *,
    kind: ProgramKind = ProgramKind.RPM,
    start: date = date(2026, 3, 1),
    consent: date | None = None,
    setup: tuple[date, str] | None = None,
) -> Episode:
    episode = episodes.start_episode(
        conn, patient_id=patient, kind=kind, started_on=start, ordering=DR,
        conditions=["I50.22", "E11.9"], actor=actor, now=NOW,
    )  # fmt: skip
    if consent is not None:
        episode = episodes.record(
            conn, patient_id=patient, episode_id=episode.id,
            statements=[Statement.consent(consent, ConsentMethod.VERBAL)], actor=actor, now=NOW,
        )  # fmt: skip
    if setup is not None:
        episode = episodes.record(
            conn, patient_id=patient, episode_id=episode.id,
            statements=[Statement.setup(*setup)], actor=actor, now=NOW,
        )  # fmt: skip
    return episode


def log(
    conn: Conn,
    patient: UUID,
    coordinator: UUID,
    *,
    at: datetime,
    minutes: int,
    work: Work,
    episode: int | None = None,
) -> TimeEntry:
    return timelog.log_time(
        conn, patient_id=patient, episode_id=episode, coordinator_id=coordinator,
        span=span_of(now=NOW, minutes=minutes, at=at), work=work, now=NOW,
    )  # fmt: skip


def month_rows(
    conn: Conn, month: Month = MARCH, scope: Scope | None = None
) -> list[dict[str, Any]]:
    """The month's export rows, as the JSON document has them."""
    document, _, _ = export_document(conn, month=month, scope=scope or Scope())
    return document_rows(document)


_SERVICES = ("device_days", "setup", "time", "transitional_care")


def of(rows: list[dict[str, Any]], patient: UUID) -> list[dict[str, Any]]:
    """The patient's rows, by programme, service, first day and code (the document has
    the care rows first, then the device rows: ``test_the_document_holds_…``)."""
    mine = [r for r in rows if r["patient_id"] == str(patient)]
    return sorted(mine, key=lambda r: (
        r["program"], _SERVICES.index(r["service"]), r["first_day"],
        r["code"] or r["would_earn"] or "",
    ))  # fmt: skip


def brief(row: dict[str, Any]) -> tuple[Any, ...]:
    """What a row bills: (programme, service, first day, last day, code, would earn, units,
    status, flags, quantity)."""
    return (
        row["program"], row["service"], row["first_day"], row["last_day"], row["code"],
        row["would_earn"], row["units"], row["status"], row["flags"], row["quantity"],
    )  # fmt: skip
