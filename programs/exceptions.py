"""Exceptions of the ``programs`` package.

Tree::

    ProgramsError                 root; ``code`` names the rule, for the API's answer
    ├── InvalidProgramError       what was asked breaks a rule of the data (api/ answers 400)
    │   ├── InvalidNpiError            invalid_npi: not ten digits, or a bad check digit
    │   ├── InvalidConditionError      invalid_condition_code: not an ICD-10-CM code's shape
    │   ├── TooFewConditionsError      ccm_needs_two_conditions
    │   ├── InvalidDatesError          invalid_dates: an end before a start, and the like
    │   └── InvalidTimeEntryError      invalid_time_entry: too long, in the future,
    │                                  outside the episode's dates, an alert of another patient
    └── ProgramStateError         the programme's state does not allow it now (api/ answers 409)
        ├── ConsentRequiredError       consent_required: RPM/CCM time before consent
        ├── ProgramClosedError         program_closed: the episode has ended
        ├── ProgramOpenError           program_open: one of that kind is open already
        ├── AlreadyRecordedError       already_recorded: consent, set-up or a milestone
        ├── AlreadySupersededError     already_superseded: correct the latest entry instead
        ├── ProgramRequiredError       program_required: no single open episode to choose
        └── TimerError                 timer_conflict: no running timer, or another programme's

A missing episode, entry or timer's patient is ``hub.exceptions.NotFoundError``
(api/ answers 404), as everywhere.
"""

from __future__ import annotations


class ProgramsError(Exception):
    """Root of the programs package's exceptions."""

    code = "program_error"


class InvalidProgramError(ProgramsError):
    """What was asked breaks a rule of the data itself."""

    code = "invalid_program"


class InvalidNpiError(InvalidProgramError):
    code = "invalid_npi"


class InvalidConditionError(InvalidProgramError):
    code = "invalid_condition_code"


class TooFewConditionsError(InvalidProgramError):
    code = "ccm_needs_two_conditions"


class InvalidDatesError(InvalidProgramError):
    code = "invalid_dates"


class InvalidTimeEntryError(InvalidProgramError):
    code = "invalid_time_entry"


class ProgramStateError(ProgramsError):
    """The episode's (or the timer's) state does not allow it now."""

    code = "program_state"


class ConsentRequiredError(ProgramStateError):
    code = "consent_required"


class ProgramClosedError(ProgramStateError):
    code = "program_closed"


class ProgramOpenError(ProgramStateError):
    code = "program_open"


class AlreadyRecordedError(ProgramStateError):
    code = "already_recorded"


class AlreadySupersededError(ProgramStateError):
    code = "already_superseded"


class ProgramRequiredError(ProgramStateError):
    code = "program_required"


class TimerError(ProgramStateError):
    code = "timer_conflict"
