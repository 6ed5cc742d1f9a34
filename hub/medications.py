"""Which drug classes a dispensed medication belongs to, from its name.

The data are two files under ``hub/data``: ``drug_classes.csv`` (each
ingredient, its WHO ATC code and its class; the source is named in the
file) and ``drug_classes.toml`` (per class: label, PDC threshold, and the
alert kinds it bears on). A medication is matched by the ingredient names in
its text (``"Lisinopril / Hydrochlorothiazide 20-12.5 MG Oral Tablet"``);
a combination belongs to the classes of each ingredient. A medication with
no known ingredient is not an error: it is stored and reported unclassified.

The *drug* of a dispense, for PDC's same-drug rule, is its set of
ingredients under one spelling each (``torasemide`` is ``torsemide``).

A medication that carries only a code is classified by the code's name:
``drug_codes.csv`` (its sources are named in the file) maps RxNorm concept
ids and NDCs to their names, and the name goes through :func:`classify`, so
the ingredient table stays the one source of classes. An NDC is keyed in
its 11-digit form (:func:`normalize_ndc`).

>>> m = classify("Lisinopril / Hydrochlorothiazide 20-12.5 MG Oral Tablet")
>>> m.drug, sorted(m.classes)
('hydrochlorothiazide+lisinopril', ['ras_antagonists', 'thiazide_diuretics'])
>>> classify("Acetaminophen 500 MG").classes
frozenset()
>>> classify_code("rxnorm", "313988").drug
'furosemide'
>>> normalize_ndc("1234-5678-90")
'01234567890'
"""

from __future__ import annotations

import csv
import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from hub.alerting import AlertKind

DATA = Path(__file__).parent / "data"
CLASSES_CSV = DATA / "drug_classes.csv"
CLASSES_TOML = DATA / "drug_classes.toml"
CODES_CSV = DATA / "drug_codes.csv"

#: The code systems of ``drug_codes.csv``: RxNorm concept ids and NDCs.
CODE_SYSTEMS = ("rxnorm", "ndc")

_WORD = re.compile(r"[a-z]+")
# ASCII digits only: ``\d`` would take any script's digits.
_NDC_11 = re.compile(r"[0-9]{11}")
_NDC_HYPHENATED = re.compile(r"([0-9]{4,5})-([0-9]{3,4})-([0-9]{1,2})")
#: Segment lengths (labeler, product, package) an NDC is printed in.
_NDC_LAYOUTS = frozenset({(4, 4, 2), (5, 3, 2), (5, 4, 1), (5, 4, 2)})


@dataclass(frozen=True, slots=True)
class DrugClass:
    name: str
    label: str
    pdc_threshold: float
    #: Deterioration alerts this class bears on.
    relevant: frozenset[AlertKind]


@dataclass(frozen=True, slots=True)
class Ingredient:
    name: str
    atc: str
    classes: frozenset[str]
    #: The spelling every other spelling of this ingredient maps to.
    canonical: str


@dataclass(frozen=True, slots=True)
class Medication:
    """A medication's known ingredients (canonical names, sorted) and classes."""

    ingredients: tuple[str, ...]
    classes: frozenset[str]

    @property
    def drug(self) -> str:
        """The drug for PDC's same-drug rule; empty when no ingredient is known."""
        return "+".join(self.ingredients)


@functools.cache
def drug_classes() -> Mapping[str, DrugClass]:
    """Every class, by name."""
    with CLASSES_TOML.open("rb") as f:
        raw = tomllib.load(f)
    return MappingProxyType(
        {
            name: DrugClass(
                name=name,
                label=str(spec["label"]),
                pdc_threshold=float(spec["pdc_threshold"]),
                relevant=frozenset(AlertKind(k) for k in spec["relevant"]),
            )
            for name, spec in raw.items()
        }
    )


@functools.cache
def ingredients() -> Mapping[str, Ingredient]:
    """Every spelling of every ingredient, lower case."""
    with CLASSES_CSV.open(newline="") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    classes: dict[str, set[str]] = {}
    atc_of: dict[str, str] = {}
    first_of_code: dict[str, str] = {}
    for row in rows:
        name, atc = row["ingredient"].strip().lower(), row["atc"].strip()
        classes.setdefault(name, set()).add(row["class"].strip())
        atc_of[name] = atc
        first_of_code.setdefault(atc, name)
    return MappingProxyType(
        {
            name: Ingredient(name, atc_of[name], frozenset(cs), first_of_code[atc_of[name]])
            for name, cs in classes.items()
        }
    )


def classify(text: str) -> Medication:
    """The known ingredients and classes named in ``text``."""
    known = ingredients()
    found = [known[w] for w in _WORD.findall(text.lower()) if w in known]
    return Medication(
        ingredients=tuple(sorted({i.canonical for i in found})),
        classes=frozenset(c for i in found for c in i.classes),
    )


_UNKNOWN = Medication(ingredients=(), classes=frozenset())


def normalize_ndc(code: str) -> str | None:
    """An NDC as 11 digits (5-4-2) without hyphens, or None when that is ambiguous.

    The rule: 11 digits, bare or hyphenated 5-4-2, are already normal. A
    10-digit NDC is printed 4-4-2, 5-3-2 or 5-4-1; its short segment gets a
    leading zero (``1234-5678-90`` is ``01234567890``, ``12345-678-90`` is
    ``12345067890``, ``12345-6789-0`` is ``12345678900``). Ten bare digits
    could be any of the three, so they are not normalised (None), nor is
    anything else.
    """
    text = code.strip()
    if _NDC_11.fullmatch(text):
        return text
    match = _NDC_HYPHENATED.fullmatch(text)
    if match is None:
        return None
    labeler, product, package = match.groups()
    if (len(labeler), len(product), len(package)) not in _NDC_LAYOUTS:
        return None
    return labeler.zfill(5) + product.zfill(4) + package.zfill(2)


def normalize_code(system: str, code: str) -> str:
    """A code as the code tables key it: an NDC in 11 digits when unambiguous, else trimmed."""
    text = code.strip()
    if system == "ndc":
        return normalize_ndc(text) or text
    return text


@functools.cache
def drug_codes() -> Mapping[tuple[str, str], str]:
    """The bundled code table: (system, code) → the code's name."""
    with CODES_CSV.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    return MappingProxyType(
        {
            (row["system"], normalize_code(row["system"], row["code"])): row["name"].strip()
            for row in rows
        }
    )


def classify_code(system: str, code: str) -> Medication:
    """The ingredients and classes of a coded medication, from its name in the bundled table.

    ``system`` is ``rxnorm`` or ``ndc``; an unknown code has neither.
    """
    name = drug_codes().get((system, normalize_code(system, code)))
    return classify(name) if name is not None else _UNKNOWN
