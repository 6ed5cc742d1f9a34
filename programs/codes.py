"""Checks of the codes an episode carries: the practitioner's NPI, ICD-10-CM condition codes.

NPI: ten digits, the last a check digit computed with the Luhn formula
("modulus 10 double-add-double", ISO/IEC 7812) over the NPI as if prefixed
by ``80840`` (80: health applications, 840: the United States), as CMS
specifies in "Requirements for National Provider Identifier (NPI) and NPI
Enumerator Check Digit" (the Standard Unique Health Identifier final rule,
69 FR 3434). Without the prefix, the constant 24 stands for its digits.

ICD-10-CM: the *shape* of a code only (a letter, a digit, a digit or
letter, then up to four more characters after the dot); whether the code
exists in this year's code set is not checked here, as no code set ships
with the hub.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from programs.exceptions import InvalidConditionError, InvalidNpiError

#: The NPI's implied card-issuer prefix: 80 (health) and 840 (the United States).
NPI_PREFIX = "80840"

_NPI = re.compile(r"[0-9]{10}")
# Category (3 characters: letter, digit, digit or letter), then the
# subcategory and extension (1-4 characters; ``X`` is the placeholder).
_ICD10CM = re.compile(r"([A-Z][0-9][0-9A-Z])(?:\.?([0-9A-Z]{1,4}))?")


def luhn_valid(digits: str) -> bool:
    """Whether ``digits`` end in their Luhn check digit.

    >>> luhn_valid("79927398713"), luhn_valid("79927398710")
    (True, False)
    """
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:  # every second digit from the right, the check digit not
            value *= 2
            value = value - 9 if value > 9 else value
        total += value
    return total % 10 == 0


def npi_valid(npi: str) -> bool:
    """Whether ``npi`` is ten digits whose last is the NPI check digit.

    CMS's own example: the identifier part 123456789 has the check digit 3.

    >>> npi_valid("1234567893"), npi_valid("1234567890"), npi_valid("123456789")
    (True, False, False)
    """
    return bool(_NPI.fullmatch(npi)) and luhn_valid(NPI_PREFIX + npi)


def check_npi(npi: str) -> str:
    """``npi`` if valid; else :class:`InvalidNpiError`."""
    if not npi_valid(npi):
        msg = f"{npi!r} is not an NPI: ten digits, the last its check digit"
        raise InvalidNpiError(msg)
    return npi


def normalize_icd10cm(code: str) -> str:
    """The code upper case and dotted after its category; :class:`InvalidConditionError` if
    it does not have an ICD-10-CM code's shape.

    >>> normalize_icd10cm("i5022"), normalize_icd10cm("E11.9"), normalize_icd10cm("J44")
    ('I50.22', 'E11.9', 'J44')
    >>> normalize_icd10cm("heart failure")
    Traceback (most recent call last):
    ...
    programs.exceptions.InvalidConditionError: 'heart failure' is not an ICD-10-CM code
    """
    match = _ICD10CM.fullmatch(code.strip().upper())
    if match is None:
        msg = f"{code!r} is not an ICD-10-CM code"
        raise InvalidConditionError(msg)
    category, rest = match.groups()
    return f"{category}.{rest}" if rest else category


def normalize_conditions(codes: Iterable[str]) -> tuple[str, ...]:
    """Each code normalized, duplicates dropped, in the order given.

    >>> normalize_conditions(["I50.22", "i5022", "N18.3"])
    ('I50.22', 'N18.3')
    """
    return tuple(dict.fromkeys(normalize_icd10cm(c) for c in codes))
