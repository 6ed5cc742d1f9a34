"""Exceptions of the ``billing`` package.

Tree::

    BillingError           root of the billing package
    ├── RulesError         a rules file is unreadable, malformed or inconsistent (has a ``code``)
    │   └── NoRulesError   no rules file covers the service date
    └── EvidenceError      an input cannot be counted (naive time, unknown zone, forked corrections)
"""

from __future__ import annotations

import enum


class BillingError(Exception):
    """Root of the billing package's exceptions."""


class RulesErrorCode(enum.StrEnum):
    """Why a rules file was refused: one machine-readable reason each."""

    #: The file is missing, not UTF-8, or not TOML.
    UNREADABLE = "rules_unreadable"
    #: A table or value does not match the schema (missing, extra, wrong type).
    INVALID = "rules_invalid"
    #: Values that are valid alone contradict each other (overlapping day tiers,
    #: a rule naming a source the file does not list, a period shorter than a tier).
    INCONSISTENT = "rules_inconsistent"
    #: Two files claim the same service date.
    OVERLAP = "rules_overlap"
    #: No file covers the service date.
    NOT_FOUND = "rules_not_found"


class RulesError(BillingError):
    """A rules file was refused; ``code`` says why, the message says where."""

    def __init__(self, code: RulesErrorCode, detail: str) -> None:
        super().__init__(f"{code.value}: {detail}")
        self.code = code
        self.detail = detail


class NoRulesError(RulesError):
    """No rules file covers the service date."""

    def __init__(self, detail: str) -> None:
        super().__init__(RulesErrorCode.NOT_FOUND, detail)


class EvidenceError(BillingError):
    """An input cannot be counted: a naive datetime, an unknown time zone, negative
    minutes, two entries with one id, or two corrections of one entry."""
