"""The vocabulary of care programmes that the programmes and the billing rules share.

The programmes (:mod:`programs`) store episodes of these kinds, discharges from
these settings and this complexity; the rules engine (:mod:`billing`) counts
them, and its rules file names them (``[time.RPM]``, ``qualifying_settings``).
Both import them from here, the bottom layer, so that the value a coordinator
records is the value the rules read, with no mapping between the two.

    >>> [k.value for k in ProgramKind if k.timed]
    ['RPM', 'CCM']
    >>> DischargeSetting("skilled_nursing"), Complexity("high")
    (<DischargeSetting.SKILLED_NURSING: 'skilled_nursing'>, <Complexity.HIGH: 'high'>)
"""

from __future__ import annotations

import enum

__all__ = ["Complexity", "DischargeSetting", "ProgramKind"]


class ProgramKind(enum.StrEnum):
    """The care programme an episode is of.

    RPM: remote physiologic monitoring (CPT 99453, 99454, 99445, 99470, 99457, 99458);
    CCM: chronic care management (99490, 99439, 99487, 99489);
    TCM: transitional care management after a discharge (99495, 99496).
    """

    RPM = "RPM"
    CCM = "CCM"
    TCM = "TCM"

    @property
    def timed(self) -> bool:
        """Whether its time codes count a calendar month's minutes (RPM, CCM); minutes never
        mix across programmes."""
        return self is not ProgramKind.TCM

    @property
    def needs_consent(self) -> bool:
        """Whether time may be logged only after the patient's consent (CMS asks it of RPM
        and CCM, not of TCM: see :mod:`programs`)."""
        return self is not ProgramKind.TCM


class DischargeSetting(enum.StrEnum):
    """Where the patient was discharged from.

    Which of them can start transitional care is the rules file's
    (``tcm.qualifying_settings``): the inpatient and partial-hospitalization
    settings CMS lists do, an emergency department visit does not.
    """

    #: An inpatient acute care hospital.
    INPATIENT = "inpatient"
    INPATIENT_PSYCHIATRIC = "inpatient_psychiatric"
    LONG_TERM_CARE_HOSPITAL = "long_term_care_hospital"
    SKILLED_NURSING = "skilled_nursing"
    INPATIENT_REHABILITATION = "inpatient_rehabilitation"
    #: Hospital outpatient observation.
    OBSERVATION = "observation"
    PARTIAL_HOSPITALIZATION = "partial_hospitalization"
    EMERGENCY_DEPARTMENT = "emergency_department"


class Complexity(enum.StrEnum):
    """TCM's medical decision making: moderate (99495) or high (99496)."""

    MODERATE = "moderate"
    HIGH = "high"
