"""The rows of a month's billing export: one per patient, programme, period or month, and code.

A row says what its evidence earns, and whether it can be billed:

- ``billable``: ``code`` is earned and nothing the claim needs is missing;
- ``at_risk``: the counts reach ``would_earn`` but something is missing
  (``flags``: no consent, no order, no interactive contact, ...), so
  ``code`` is null until it is supplied;
- ``none``: nothing is earned (``code`` and ``would_earn`` null); the row
  shows how far the period or month got (``quantity`` days or minutes).

The evidence (``evidence``) is JSON: the counted dates and device serials,
the time entries (ids, minutes, who), the interactive contact, the order
(practitioner, NPI), the consent; for transitional care, who recorded each
milestone and when (``recorded``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from flows.billing_export.evidence import EpisodeFacts, ScopePatient
from programs.models import Fact

__all__ = [
    "ExportRow",
    "Flag",
    "Service",
    "Status",
    "consent_json",
    "order_json",
    "recorded_json",
    "status_of",
]


class Status(enum.StrEnum):
    BILLABLE = "billable"
    AT_RISK = "at_risk"
    NONE = "none"


class Flag(enum.StrEnum):
    """What a claim needs and the row lacks."""

    #: An RPM or CCM episode without the patient's consent (or consent dated after the row).
    MISSING_CONSENT = "missing_consent"
    #: Days of sensed data with no RPM episode, hence no practitioner's order, to bill them on.
    NO_ORDER = "no_order"
    #: No real-time interactive communication in the month (time codes), or no
    #: transitional-care contact in time.
    NO_INTERACTIVE_CONTACT = "no_interactive_contact"
    #: The set-up code is earned by the days, but the set-up and education are not recorded.
    SETUP_NOT_RECORDED = "setup_not_recorded"
    #: No transitional-care face-to-face visit in time.
    NO_FACE_TO_FACE = "no_face_to_face"
    #: A transitional-care episode without its decision complexity.
    COMPLEXITY_MISSING = "complexity_missing"
    #: No medication reconciliation on or before the transitional-care visit.
    MED_RECONCILIATION_MISSING = "med_reconciliation_missing"


class Service(enum.StrEnum):
    DEVICE_DAYS = "device_days"
    SETUP = "setup"
    TIME = "time"
    TRANSITIONAL_CARE = "transitional_care"


#: Services in the order a patient's rows are listed.
_ORDER = {service: n for n, service in enumerate(Service)}


def status_of(earned: str | None, flags: tuple[Flag, ...]) -> Status:
    if earned is None:
        return Status.NONE
    return Status.AT_RISK if flags else Status.BILLABLE


@dataclass(frozen=True, slots=True)
class ExportRow:
    patient: ScopePatient
    program: str
    episode_id: int | None
    service: Service
    first_day: date
    last_day: date
    #: What the evidence earns (null: nothing), and whether it may be billed.
    earned: str | None
    units: int
    flags: tuple[Flag, ...]
    quantity: int
    unit: str
    rules: str
    evidence: Mapping[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> Status:
        return status_of(self.earned, self.flags)

    @property
    def code(self) -> str | None:
        return self.earned if self.status is Status.BILLABLE else None

    @property
    def patient_id(self) -> UUID:
        return self.patient.id

    def sort_key(self) -> tuple[str, int, date, str]:
        return (self.program, _ORDER[self.service], self.first_day, self.earned or "")

    def as_json(self) -> dict[str, Any]:
        """The row as the export's JSON object (dates ISO, ids as strings where UUIDs)."""
        status = self.status
        return {
            "patient_id": str(self.patient.id),
            "identifiers": [{"system": s, "value": v} for s, v in self.patient.identifiers],
            "program": self.program,
            "episode_id": self.episode_id,
            "service": self.service.value,
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "code": self.code,
            "would_earn": self.earned if status is Status.AT_RISK else None,
            "units": self.units if self.earned else 0,
            "status": status.value,
            "flags": [f.value for f in self.flags],
            "quantity": self.quantity,
            "unit": self.unit,
            "rules": self.rules,
            "evidence": self.evidence,
        }


def order_json(episode: EpisodeFacts | None) -> dict[str, str] | None:
    if episode is None:
        return None
    return {"name": episode.ordering.name, "npi": episode.ordering.npi}


def consent_json(episode: EpisodeFacts | None) -> dict[str, str] | None:
    if episode is None or episode.consent_on is None:
        return None
    method = episode.consent_method.value if episode.consent_method else None
    return {"on": episode.consent_on.isoformat(), "method": method or ""}


def recorded_json(episode: EpisodeFacts, facts: Iterable[Fact]) -> dict[str, dict[str, Any]]:
    """Who recorded each of the ``facts`` recorded (their user name) and when, both null for
    what migration 0028 carried over from before they were kept; for a correction, the
    record it ``supersedes`` and the ``reason`` (else null)."""
    found = {}
    for fact in facts:
        if (record := episode.recorded.get(fact)) is not None:
            found[fact.value] = {
                "by": record.recorded_by_name,
                "at": record.recorded_at.isoformat() if record.recorded_at else None,
                "supersedes": record.supersedes,
                "reason": record.reason,
            }
    return found


def consent_missing(episode: EpisodeFacts, by: date) -> bool:
    """Whether the episode lacks a consent dated on or before ``by``."""
    return episode.consent_on is None or episode.consent_on > by
