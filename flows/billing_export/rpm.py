"""Rows of remote physiologic monitoring's device days: device supply (99454/99445), the
set-up (99453), and sensed days that no order covers.

The counting is the engine's (:func:`billing.device_days.periods_of_days`),
over the days the evidence read: a device day is a patient-local day with a
``sensed`` reading from a device registered to the patient, however many
readings or devices it had (the query counts them so, in the patient's
zone). Each period ending in the month is a row
(:mod:`flows.billing_export.calendar`); the set-up is a row of its own in
the period that earns it. Days of the month in no RPM episode, when they would
reach a device-supply tier, are a row flagged ``no_order``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date

from billing.device_days import periods_of_days
from billing.models import Month
from billing.rules import in_force
from flows.billing_export.calendar import RpmTarget, episode_rules, rpm_targets, rules_of_month
from flows.billing_export.evidence import EpisodeFacts, PatientEvidence
from flows.billing_export.rows import (
    ExportRow,
    Flag,
    Service,
    consent_json,
    consent_missing,
    order_json,
)
from hub.care_programs import ProgramKind

__all__ = ["rpm_rows"]


def _serials(evidence: PatientEvidence, days: Iterable[date]) -> list[str]:
    """The serials of the devices that sent data on any of these days."""
    wanted = frozenset(days)
    return sorted(s for s, sent in (evidence.serials or {}).items() if not wanted.isdisjoint(sent))


def _period_rows(
    evidence: PatientEvidence, episode: EpisodeFacts, target: RpmTarget, month: Month
) -> Iterator[ExportRow]:
    p, days = evidence.patient, evidence.days
    earlier = (evidence.setup_history or {}).get(episode.id, ())
    rules = episode_rules(episode.started_on, month)
    periods = periods_of_days(
        episode.started_on, [*earlier, *days], through=target.through, rules=rules
    )
    period = periods[target.index]
    terms = in_force(period.first_day, rules)
    flags = (Flag.MISSING_CONSENT,) if consent_missing(episode, target.through) else ()
    evidence_json = {
        "period": period.index,
        "counted_through": target.through.isoformat(),
        "days": [d.isoformat() for d in period.days],
        "serials": _serials(evidence, period.days),
        "order": order_json(episode),
        "consent": consent_json(episode),
    }
    row = ExportRow(
        patient=p,
        program=ProgramKind.RPM.value,
        episode_id=episode.id,
        service=Service.DEVICE_DAYS,
        first_day=period.first_day,
        last_day=period.last_day,
        earned=period.code,
        units=1,
        flags=flags,
        quantity=period.count,
        unit="days",
        rules=period.rules_id,
        evidence=evidence_json,
    )
    yield row
    if period.setup:
        setup = (
            {"on": episode.setup_on.isoformat(), "by": episode.setup_by or ""}
            if episode.setup_on is not None
            else None
        )
        missing = () if setup else (Flag.SETUP_NOT_RECORDED,)
        yield replace(
            row,
            service=Service.SETUP,
            earned=terms.rpm.setup.code,
            flags=flags + missing,
            evidence={**evidence_json, "setup": setup},
        )


def _no_order_row(evidence: PatientEvidence, month: Month) -> ExportRow | None:
    """The month's sensed days that no RPM episode covers, if they would reach a tier."""
    rpm = [e for e in evidence.episodes if e.kind is ProgramKind.RPM]
    if any(e.covers(month.first_day) and e.covers(month.last_day) for e in rpm):
        return None  # the month is all in an episode
    loose = sorted(d for d in evidence.days if d in month and not any(e.covers(d) for e in rpm))
    rules = rules_of_month(month)
    tier = rules.rpm.tier_for(len(loose))
    if tier is None:
        return None
    return ExportRow(
        patient=evidence.patient,
        program=ProgramKind.RPM.value,
        episode_id=None,
        service=Service.DEVICE_DAYS,
        first_day=month.first_day,
        last_day=month.last_day,
        earned=tier.code,
        units=1,
        flags=(Flag.NO_ORDER,),
        quantity=len(loose),
        unit="days",
        rules=rules.meta.id,
        evidence={
            "days": [d.isoformat() for d in loose],
            "serials": _serials(evidence, loose),
            "order": None,
            "consent": None,
        },
    )


def rpm_rows(evidence: PatientEvidence, month: Month) -> Iterator[ExportRow]:
    """The patient's device-day and set-up rows for the periods ending in the month."""
    for episode in evidence.episodes:
        if episode.kind is not ProgramKind.RPM:
            continue
        for target in rpm_targets(episode.started_on, episode.ended_on, month):
            yield from _period_rows(evidence, episode, target, month)
    loose = _no_order_row(evidence, month)
    if loose is not None:
        yield loose
