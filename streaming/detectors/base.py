"""The protocol every detector follows, and the types it speaks.

Detectors follow River's protocol (``river/base``, ``river/anomaly/base.py``):
the constructor takes parameters only, all state lives in attributes and
pickles small (≤ 2 kB per patient-measure), and

* ``update(x)`` learns one observation and returns the :class:`Finding` it
  raises, if any, as River's drift detectors do;
* ``score_one(x)`` returns what ``update`` would return, changing nothing;
* ``learn_one(x)`` learns without reporting.

Each detector has an *episode*: it opens when the detector fires and ends
after ``recovery_readings`` consecutive readings back inside the detector's
normal band. While its episode is open a detector learns nothing that would
make the deterioration look normal (baselines freeze), and it keeps reporting
the finding on every abnormal reading; the engine turns that into one
detection per episode.
"""

from __future__ import annotations

import abc
import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, NamedTuple

from hub.alerting import SEVERITY_ORDER, AlertKind, Severity
from hub.domain import Measure

#: Seconds in a day.
DAY = 86_400.0

#: Tolerance of comparisons of differences (a gain, a drop) with a limit, so
#: that 82.3 - 80.0 counts as the 2.3 kg it is in decimal.
EPS = 1e-6

_ORDER = SEVERITY_ORDER


def lower(severity: Severity) -> Severity:
    """One level less severe (``low`` stays ``low``)."""
    return _ORDER[max(0, _ORDER.index(severity) - 1)]


def higher(severity: Severity) -> Severity:
    """One level more severe (``critical`` stays ``critical``)."""
    return _ORDER[min(len(_ORDER) - 1, _ORDER.index(severity) + 1)]


def local_day(ts: float, x: Observation) -> float:
    """The number of the patient's local day that POSIX time ``ts`` falls on.

    The day boundary is local midnight, at ``x.offset`` seconds east of UTC
    (UTC days when the offset is 0).

    >>> from datetime import datetime, UTC
    >>> late = datetime(2025, 3, 2, 0, 30, tzinfo=UTC)  # 19:30 the day before in New York
    >>> local_day(late.timestamp(), Observation(late, 80.0, offset=-5 * 3600)) == (
    ...     local_day(late.timestamp(), Observation(late, 80.0)) - 1)
    True
    """
    return (ts + x.offset) // DAY


def utc(ts: float) -> datetime:
    """A POSIX timestamp as a tz-aware UTC datetime."""
    return datetime.fromtimestamp(ts, UTC)


class Observation(NamedTuple):
    """One reading as a detector sees it: when, the value, and the second value.

    ``value2`` is the diastolic pressure of a blood-pressure reading. ``at``
    must be timezone-aware. A named tuple rather than a frozen dataclass:
    every reading makes one, and a tuple is built several times faster.
    """

    at: datetime
    value: float
    value2: float | None = None
    #: Which measure; only detectors that watch several measures read it.
    measure: Measure | None = None
    #: Temporal relationship to physical activity, if the device sent one.
    activity: str | None = None
    #: Seconds east of UTC of the patient's local time at ``at``: detectors
    #: that work on days use the patient's days (see :func:`local_day`).
    offset: float = 0.0
    #: The device that measured it (-1: not known); a new device may have its own bias.
    device: int = -1


#: Activity values under which a heart rate is not a resting heart rate.
EXERTION = frozenset({"active", "during exercise", "after exercise"})


@dataclass(frozen=True, slots=True)
class Finding:
    """What a detector reports; the engine adds the patient and the measure."""

    kind: AlertKind
    severity: Severity
    source: str
    observed: Mapping[str, float]
    baseline: Mapping[str, float]
    window_start: datetime
    window_end: datetime
    reason: str
    #: False for a finding a repeat reading has yet to confirm (a single
    #: reading beyond a safety limit); the pathway says whether such findings
    #: reach the worklist (``confirm.report_unconfirmed``).
    confirmed: bool = True
    #: True for a finding that may raise an open alert's severity but never
    #: opens one (the weight guideline rule beside the heart-failure score).
    escalates_only: bool = False


class Detector(abc.ABC):
    """Base of every detector; see the module docstring for the protocol."""

    #: The alert kind this detector reports (a class attribute, or set by the
    #: constructor of a detector whose parameters say it).
    kind: AlertKind
    #: The rule or model, as findings name it (a class attribute, or set by
    #: the constructor of a detector whose parameters say it).
    source: str
    #: Every measure it watches, when it watches more than the one it is
    #: registered under (see ``registry.ALSO_FEEDS``).
    measures: ClassVar[tuple[Measure, ...]] = ()

    def __init__(self, *, recovery_readings: int) -> None:
        self.recovery_readings = recovery_readings
        self._active = False
        self._calm = 0
        self._since = 0.0

    @property
    def episode_active(self) -> bool:
        """Whether this detector's episode is open."""
        return self._active

    @abc.abstractmethod
    def update(self, x: Observation) -> Finding | None:
        """Learn ``x`` and return the finding it raises, if any."""

    def score_one(self, x: Observation) -> Finding | None:
        """What :meth:`update` would return for ``x``; nothing changes."""
        return copy.deepcopy(self).update(x)

    def learn_one(self, x: Observation) -> None:
        """Learn ``x`` without reporting."""
        self.update(x)

    def recovery_reason(self) -> str | None:
        """What was back to normal when the last episode ended, if the detector says."""
        return None

    def resolve(self) -> None:
        """Close the episode at once (a coordinator resolved the alert)."""
        self._active = False
        self._calm = 0

    def _track(self, *, firing: bool, calm: bool, ts: float) -> None:
        """Open, keep or close the episode after one reading (or one day)."""
        if firing:
            if not self._active:
                self._since = ts
            self._active, self._calm = True, 0
        elif self._active:
            self._calm = self._calm + 1 if calm else 0
            if self._calm >= self.recovery_readings:
                self._active, self._calm = False, 0

    def _window_start(self, ts: float) -> datetime:
        return utc(self._since if self._active else ts)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"
