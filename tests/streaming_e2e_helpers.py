"""A small scripted cohort with known episodes, for end-to-end detection tests."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tests.support import bp_point, weight_point


@dataclass(frozen=True)
class Script:
    """Per patient: the messages its gateway publishes, in order."""

    name: str
    scale: list[dict[str, Any]]
    cuff: list[dict[str, Any]]


def scripted_cohort(start: datetime, *, days: int = 40, seed: int = 3) -> list[Script]:
    rng = random.Random(seed)
    scripts = []
    for index in range(6):
        base_kg = 70 + 6 * index
        base_sys = 125 + 3 * index
        scale, cuff = [], []
        for day in range(days):
            at = start + timedelta(days=day, hours=7, minutes=rng.randint(0, 40))
            kg = base_kg + rng.gauss(0, 0.3)
            if index in (0, 3) and day >= 25:  # fluid gain: +0.45 kg a day for 10 days
                kg += 0.45 * min(day - 24, 10)
            scale.append(weight_point(round(kg, 1), at))
            systolic = base_sys + rng.gauss(0, 5)
            if index == 1 and day == 30:  # a crisis reading, beyond the at-once limit
                systolic = 205
            cuff.append(
                bp_point(round(systolic), round(80 + rng.gauss(0, 4)), at + timedelta(minutes=5))
            )
        scripts.append(Script(f"sim-{index}", scale, cuff))
    return scripts
