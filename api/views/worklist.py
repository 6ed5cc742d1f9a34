"""The coordinator's worklist: their patients in priority order, with the reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response

from alerts.worklist import WorklistRow
from api.deps import CurrentUserDep, ReadConnDep
from api.schemas_worklist import WorklistOut
from flows.worklist import HIGH_RISK_FRACTION, build_worklist

router = APIRouter(prefix="/api/v1")
HOUR = timedelta(hours=1)


def _row(row: WorklistRow, now: datetime) -> dict[str, Any]:
    """One ``WorklistRowOut``, as the plain values orjson writes."""
    facts, scored, oldest = row.facts, row.scored, row.oldest_alert_opened_at
    today = facts.today or now.date()
    return {
        "patient_id": facts.patient_id,
        "identifiers": [{"system": s, "value": v} for s, v in row.identifiers],
        "pathway": facts.pathway,
        "conditions": row.conditions,
        "discharge_date": facts.discharge_date,
        "days_since_discharge": scored.days_since_discharge,
        "discharge_risk": facts.discharge_risk,
        "lace": facts.lace,
        "hospital": facts.hospital,
        "high_risk": facts.high_risk,
        "alerts": {
            **row.alert_counts,
            "oldest_opened_at": oldest,
            "oldest_age_hours": None if oldest is None else round((now - oldest) / HOUR, 2),
        },
        "non_adherence": scored.flags,
        "deadlines": [
            {
                "name": d.name,
                "due": d.due,
                "due_at": d.due_at,
                "left_hours": round(d.left(now) / HOUR, 2),
                "pressing": d.pressing(today),
                "note": d.note,
                "satisfied": d.satisfied or None,
            }
            for d in facts.deadlines
        ],
        "notices": [{"kind": n.kind, "text": n.text, "since": n.since} for n in facts.notices],
        "priority": scored.priority,
        "reasons": scored.reasons,
    }


@router.get("/worklist", response_model=WorklistOut)
def worklist(
    conn: ReadConnDep,
    principal: CurrentUserDep,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> Response:
    """The caller's patients (a supervisor's: their team's; an admin's: all), most urgent first.

    Priority: critical alerts, then a transitional-care deadline due today or overdue,
    then high clinical alerts (an acknowledged one a level lower), the older first; then
    discharge risk, non-adherence, the first days after discharge and the billing
    forecast's notices. ``reasons`` says it in words, heaviest first. Read from the
    replica when there is one, never older than the request (an alert just acknowledged
    shows as acknowledged).
    """
    now = datetime.now(UTC)
    built = build_worklist(
        conn,
        user_id=principal.user_id,
        all_patients=principal.sees_all_patients,
        now=now,
        limit=limit,
    )
    # Each row is written out as soon as it is made, not kept as a model until the end:
    # a panel is thousands of short-lived objects, and fewer of them outlive a garbage
    # collection and bring on a full one. The schema is WorklistOut (tests check it).
    patients = b",".join(orjson.dumps(_row(r, now)) for r in built.rows)
    body = {
        "generated_at": now,
        "high_risk_fraction": HIGH_RISK_FRACTION,
        "high_risk_cutoff": built.high_risk_cutoff,
        "total": built.total,
        "patients": orjson.Fragment(b"[" + patients + b"]"),
    }
    return Response(orjson.dumps(body), media_type="application/json")
