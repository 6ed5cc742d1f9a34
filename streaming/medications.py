"""Which drug classes a dispensed medication belongs to, from its name.

The data are two files under ``streaming/data``: ``drug_classes.csv`` (each
ingredient, its WHO ATC code and its class; the source is named in the
file) and ``drug_classes.toml`` (per class: label, PDC threshold, and the
alert kinds it bears on). A medication is matched by the ingredient names in
its text (``"Lisinopril / Hydrochlorothiazide 20-12.5 MG Oral Tablet"``);
a combination belongs to the classes of each ingredient. A medication with
no known ingredient is not an error: it is stored and reported unclassified.

The *drug* of a dispense, for PDC's same-drug rule, is its set of
ingredients under one spelling each (``torasemide`` is ``torsemide``).

>>> m = classify("Lisinopril / Hydrochlorothiazide 20-12.5 MG Oral Tablet")
>>> m.drug, sorted(m.classes)
('hydrochlorothiazide+lisinopril', ['ras_antagonists', 'thiazide_diuretics'])
>>> classify("Acetaminophen 500 MG").classes
frozenset()
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

from streaming.models import AlertKind

DATA = Path(__file__).parent / "data"
CLASSES_CSV = DATA / "drug_classes.csv"
CLASSES_TOML = DATA / "drug_classes.toml"

_WORD = re.compile(r"[a-z]+")


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
