"""Pharmacy dispenses: the one validation path every way in goes through.

A dispense arrives as a FHIR R4 ``MedicationDispense`` (over MQTT or HTTP)
or as a CSV row, which :mod:`ingest.pharmacy_csv` turns into one. It is
validated with ``fhir.resources`` (the R4B models, whose
``MedicationDispense`` is R4's) and then against the contract (section 2):

* only a ``completed`` dispense is a fill;
* the patient is ``subject.identifier`` (system and value);
* the fill date is ``whenHandedOver`` (a date, or a date-time whose date is
  taken), not in the future anywhere on Earth (:func:`latest_fill_date`);
* ``daysSupply`` is required (PDC cannot count a fill without it) and must be
  a positive whole number of days;
* the medication is ``medicationCodeableConcept``: an RxNorm or NDC coding
  and/or a text; its classes come from the ingredient names in its text or
  coding display (:func:`hub.medications.classify`), else from its
  code's name in the bundled code table
  (:func:`hub.medications.classify_code`; at insert, a code the
  deployment loaded with ``lastmile import rxnorm`` is looked up too). An NDC
  is kept in its 11-digit form when it can be had unambiguously
  (:func:`hub.medications.normalize_ndc`). An unknown drug is stored,
  unclassified, and reported, never rejected.

Each failure is one :class:`~hub.domain.Rejection` with a contract code.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from fhir.resources.R4B.medicationdispense import MedicationDispense
from pydantic import ValidationError

from hub.domain import Dispense, Rejection, RejectionCode
from hub.medications import classify, classify_code, normalize_code

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NDC = "http://hl7.org/fhir/sid/ndc"
#: Short names accepted in CSV files for the code systems.
CODE_SYSTEMS = {"rxnorm": RXNORM, "ndc": NDC}
_SHORT_NAMES = {uri: name for name, uri in CODE_SYSTEMS.items()}


#: The earliest local time of day anywhere is UTC+14: a fill dated that far
#: ahead of the UTC date is not in the future where the pharmacy is.
_LATEST_OFFSET = timedelta(hours=14)


def latest_fill_date(now: datetime) -> date:
    """The latest fill date that is not in the future somewhere on Earth at ``now``.

    >>> from datetime import UTC
    >>> latest_fill_date(datetime(2026, 11, 22, 22, 0, tzinfo=UTC))
    datetime.date(2026, 11, 23)
    """
    return (now + _LATEST_OFFSET).date()


def _invalid(detail: str) -> Rejection:
    return Rejection(RejectionCode.SCHEMA_INVALID, detail)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "MedicationDispense"
    return f"{where}: {err.get('msg', 'invalid')}"


def parse_dispense(resource: Mapping[str, Any], *, today: date) -> Dispense | Rejection:
    """Validate one ``MedicationDispense`` (as parsed JSON)."""
    if resource.get("resourceType") != "MedicationDispense":
        return _invalid("resourceType: expected MedicationDispense")
    try:
        md = MedicationDispense.model_validate(dict(resource))
    except ValidationError as exc:
        return _invalid(_first_error(exc))
    if md.status != "completed":
        return _invalid(f"status: {md.status!r}; only a completed dispense is a fill")
    subject = md.subject.identifier if md.subject is not None else None
    if subject is None or not subject.system or not subject.value:
        return _invalid("subject.identifier: system and value are required")
    handed = md.whenHandedOver
    if handed is None:
        return _invalid("whenHandedOver: the fill date is required")
    filled_on = handed.date() if isinstance(handed, datetime) else handed
    if filled_on > today:
        return Rejection(
            RejectionCode.TIME_IN_FUTURE, f"whenHandedOver {filled_on} is in the future"
        )
    supply = md.daysSupply.value if md.daysSupply is not None else None
    if supply is None:
        return _invalid("daysSupply: required for adherence")
    if supply <= 0 or supply != int(supply) or supply > 366:
        return _invalid(f"daysSupply: {supply} is not a whole number of days from 1 to 366")
    concept = md.medicationCodeableConcept
    if concept is None:
        return _invalid("medicationCodeableConcept: a coded or named medication is required")
    coding = next((c for c in concept.coding or () if c.system in (RXNORM, NDC) and c.code), None)
    text = concept.text or next((c.display for c in concept.coding or () if c.display), None)
    if coding is None and not text:
        return _invalid("medicationCodeableConcept: an RxNorm or NDC code, or a text, is required")
    system = _SHORT_NAMES[str(coding.system)] if coding is not None else ""
    code = normalize_code(system, str(coding.code)) if coding is not None else None
    found = classify(text or "")
    if not found.ingredients and code:
        found = classify_code(system, code)
    ident = next((i for i in md.identifier or () if i.value), None)
    texts = (subject.system, subject.value, text, code, ident.system if ident else None,
             ident.value if ident else None)  # fmt: skip
    if any("\x00" in str(t) for t in texts if t):
        return _invalid("a text holds a NUL character, which cannot be stored")
    quantity = md.quantity.value if md.quantity is not None else None
    return Dispense(
        identifier=f"{ident.system or ''}|{ident.value}" if ident is not None else None,
        patient_system=str(subject.system),
        patient_value=str(subject.value),
        code_system=str(coding.system) if coding is not None else None,
        code=code,
        medication=text,
        drug=found.drug,
        classes=found.classes,
        filled_on=filled_on,
        days_supply=int(supply),
        quantity=float(quantity) if quantity is not None else None,
    )
