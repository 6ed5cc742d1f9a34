"""The measure spec, read-only, for the dashboard and other clients.

``GET /api/v1/measures`` serves :func:`hub.measures.catalogue` (schema names
and versions, body fields with their plausible ranges, the canonical unit and
every accepted unit with its conversion, device kinds, display label and
digits, LOINC and UCUM codes), and for each measure the alert kinds that are
about it. The dashboard draws one chart per entry: it keeps no measure list
of its own. Any signed-in user may read it (it names no patient).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import CurrentUserDep
from hub.alerting import KIND_MEASURES
from hub.measures import catalogue

router = APIRouter(prefix="/api/v1")


@router.get("/measures")
def measures(principal: CurrentUserDep) -> dict[str, Any]:
    """Every measure the hub accepts, as the measure spec describes it."""
    served = catalogue()
    for entry in served["measures"]:
        entry["alert_kinds"] = [
            kind.value for kind, about in KIND_MEASURES.items() if entry["measure"] in about
        ]
    return served
