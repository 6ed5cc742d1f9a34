"""Patients and their identifiers: repository functions over a connection.

Keyword-only, take the connection, never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from hub.db import Conn
from hub.discharge_risk import DischargeInputs, discharge_risk
from hub.dispenses import match_held_dispenses
from hub.exceptions import ConflictError, NotFoundError
from hub.limits import canonical_overrides
from hub.sql import queries


@dataclass(frozen=True, slots=True)
class Identifier:
    system: str
    value: str


@dataclass(frozen=True, slots=True)
class Patient:
    id: uuid.UUID
    pathway: str
    discharge_date: date | None
    enrolled_at: datetime
    identifiers: tuple[Identifier, ...]
    #: IANA time zone name: the patient's days for the daily models.
    timezone: str = "UTC"
    #: Overrides of the pathway's values (``hub.pathways``), validated by the caller.
    threshold_overrides: Mapping[str, float | int | str] = field(default_factory=dict)
    #: Conditions as given at enrollment (free text or codes).
    conditions: tuple[str, ...] = ()
    #: What was known about the index stay at enrollment.
    discharge_inputs: DischargeInputs = field(default_factory=DischargeInputs)
    #: LACE index and HOSPITAL score of the index stay; None when an input was missing.
    lace: int | None = None
    hospital: int | None = None
    #: ``hub.discharge_risk.discharge_risk``'s 0..1 ranking number, None if no score.
    discharge_risk: float | None = None


def enroll_patient(
    conn: Conn,
    *,
    pathway: str,
    discharge_date: date | None,
    identifiers: Sequence[Identifier],
    timezone: str = "UTC",
    threshold_overrides: Mapping[str, float | int | str] | None = None,
    conditions: Sequence[str] = (),
    discharge_inputs: DischargeInputs | None = None,
) -> Patient:
    """Create a patient with its identifiers; a known identifier is a conflict.

    Dispenses held for one of the identifiers become the patient's. The LACE
    index, HOSPITAL score and discharge risk of ``discharge_inputs`` are
    computed here, once, and stored with the inputs.

    ``timezone`` must be an IANA name this system knows (:class:`ValueError`);
    ``threshold_overrides`` are checked against the pathway by the caller, and
    stored under their current keys (an old name such as ``spo2_low`` as
    ``limits.oxygen-saturation.low``: :func:`hub.limits.canonical_overrides`).
    """
    check_timezone(timezone)
    inputs = discharge_inputs or DischargeInputs()
    risk = discharge_risk(inputs)
    params = {
        "id": uuid.uuid4(),
        "pathway": pathway,
        "discharge_date": discharge_date,
        "timezone": timezone,
        "threshold_overrides": Jsonb(canonical_overrides(threshold_overrides or {})),
        "conditions": list(conditions),
        "discharge_inputs": Jsonb({k: v for k, v in asdict(inputs).items() if v is not None}),
        "lace": risk.lace.total,
        "hospital": risk.hospital.total,
        "discharge_risk": risk.risk,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        try:
            with conn.transaction():
                row = cur.execute(queries["insert_patient"], params).fetchone()
                assert row is not None
                for ident in identifiers:
                    cur.execute(
                        queries["insert_patient_identifier"],
                        {"system": ident.system, "value": ident.value, "patient_id": row["id"]},
                    )
                match_held_dispenses(conn, patient_id=row["id"])
        except psycopg.errors.UniqueViolation as exc:
            raise ConflictError("an identifier is already given to another patient") from exc
    return _patient(row, identifiers)


def check_timezone(name: str) -> str:
    """``name`` if it is an IANA time zone this system knows; else :class:`ValueError`.

    >>> check_timezone("America/New_York")
    'America/New_York'
    """
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc
    return name


def get_patient(conn: Conn, *, patient_id: uuid.UUID) -> Patient:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(queries["get_patient"], {"id": patient_id}).fetchone()
        if row is None:
            raise NotFoundError(f"patient {patient_id}")
        idents = cur.execute(queries["patient_identifiers"], {"patient_id": patient_id}).fetchall()
    return _patient(row, [Identifier(**i) for i in idents])


def _patient(row: Mapping[str, Any], identifiers: Sequence[Identifier]) -> Patient:
    return Patient(
        **{
            **row,
            "conditions": tuple(row["conditions"]),
            "discharge_inputs": DischargeInputs(**row["discharge_inputs"]),
        },
        identifiers=tuple(identifiers),
    )
