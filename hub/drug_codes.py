"""Drug codes a deployment loaded (``lastmile import rxnorm``), and classifying by them.

Repository functions over a connection: keyword-only, never commit. The
``system`` of a code is the FHIR code system URI, as a dispense's
``code_system``; an NDC is stored in its 11-digit form.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from hub.db import Conn
from hub.domain import Dispense
from hub.sql import queries


@dataclass(frozen=True, slots=True)
class DrugCode:
    """An RxNorm or NDC code, its name, and the drug and classes the name gives."""

    system: str
    code: str
    name: str
    drug: str
    classes: frozenset[str]


def upsert_drug_codes(conn: Conn, *, codes: Sequence[DrugCode]) -> None:
    """Store one batch of codes (a code stored before is replaced)."""
    if not codes:
        return
    conn.execute(
        queries["upsert_drug_codes"],
        {
            "systems": [c.system for c in codes],
            "codes": [c.code for c in codes],
            "names": [c.name for c in codes],
            "drugs": [c.drug for c in codes],
            "classes": [",".join(sorted(c.classes)) for c in codes],
        },
    )


def classify_by_loaded_codes(
    conn: Conn, *, dispenses: Sequence[Dispense]
) -> tuple[list[Dispense], int]:
    """The dispenses, those of no known drug classified by a loaded code; and how many were.

    One query for the whole batch, and none when every dispense has a drug.
    """
    wanted = {(d.code_system, d.code) for d in dispenses if not d.drug and d.code_system and d.code}
    if not wanted:
        return list(dispenses), 0
    pairs = sorted((str(s), str(c)) for s, c in wanted)
    rows = conn.execute(
        queries["drug_codes_of"],
        {"systems": [s for s, _ in pairs], "codes": [c for _, c in pairs]},
    ).fetchall()
    known = {(str(s), str(c)): (str(d), frozenset(cl)) for s, c, d, cl in rows}
    out: list[Dispense] = []
    classified = 0
    for dispense in dispenses:
        found = known.get((str(dispense.code_system), str(dispense.code)))
        if dispense.drug or found is None:
            out.append(dispense)
        else:
            out.append(dataclasses.replace(dispense, drug=found[0], classes=found[1]))
            classified += 1
    return out, classified


def reclassify_dispenses(conn: Conn) -> list[UUID | None]:
    """Give stored dispenses of no known drug the drug of their code, where it is now loaded.

    Returns the patient of each dispense changed (None for a held one).
    """
    rows = conn.execute(queries["reclassify_dispenses"]).fetchall()
    return [r[0] for r in rows]
