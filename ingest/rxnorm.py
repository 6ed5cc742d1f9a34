"""Load a full RxNorm release, so that a dispense carrying only a code is classified.

The release's RRF files are read line by line (they are about a gigabyte):

``RXNCONSO.RRF``
    ``RXCUI|LAT|TS|LUI|STT|SUI|ISPREF|RXAUI|SAUI|SCUI|SDUI|SAB|TTY|CODE|STR|SRL|SUPPRESS|CVF``.
    RxNorm's own names (``SAB=RXNORM``) of ingredients and drugs (``TTY`` in
    :data:`TERM_TYPES`) give each concept (RXCUI) its name.
``RXNSAT.RRF`` (optional)
    ``RXCUI|LUI|SUI|RXAUI|STYPE|CODE|ATUI|SATUI|ATN|SAB|ATV|SUPPRESS|CVF``.
    A row with ``ATN=NDC`` and ``SAB=RXNORM`` gives an NDC (``ATV``) of the concept.

Each name is classified by its ingredients
(:func:`hub.medications.classify`, the one table of classes); only
codes in a class are stored, into ``drug_codes``, in batches, but every
code is counted. The files may sit in the directory given or in its
``rrf`` folder, as the release unpacks. Then stored dispenses of no known
drug whose code is now known are given its drug
(:func:`hub.drug_codes.reclassify_dispenses`). All of it runs in the
caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

from hub.db import Conn
from hub.drug_codes import DrugCode, reclassify_dispenses, upsert_drug_codes
from hub.medications import classify, normalize_code
from ingest.dispenses import NDC, RXNORM
from ingest.exceptions import RxnormFormatError

#: RxNorm term types kept: ingredients (plain, precise, multiple), clinical
#: and branded drugs, and generic and branded packs.
TERM_TYPES = frozenset({"IN", "PIN", "MIN", "SCD", "SBD", "GPCK", "BPCK"})
CONSO_COLUMNS = 18
SAT_COLUMNS = 13


@dataclass(slots=True)
class RxnormLoad:
    """What loading a release did."""

    #: RxNorm names of the kept term types read, and of those in a drug class (stored).
    concepts: int = 0
    classified: int = 0
    #: NDCs read (``SAB=RXNORM``), and of those of a concept in a drug class (stored).
    ndcs: int = 0
    ndcs_stored: int = 0
    #: Whether the release had an ``RXNSAT.RRF`` (no NDCs without it).
    had_ndcs: bool = False
    #: Stored dispenses given a drug, and their enrolled patients.
    reclassified: int = 0
    patients: set[UUID] = field(default_factory=set)

    def summary(self) -> str:
        ndcs = (
            f"{self.ndcs:,} NDCs, {self.ndcs_stored:,} of those drugs"
            if self.had_ndcs
            else "no RXNSAT.RRF, so no NDCs"
        )
        return (
            f"{self.concepts:,} RxNorm ingredient and drug names, "
            f"{self.classified:,} in a drug class; {ndcs}; "
            f"{self.reclassified:,} stored dispenses of no known drug classified by their code"
        )


def release_file(directory: Path, name: str) -> Path | None:
    """``name`` in the release directory or its ``rrf`` folder, if there."""
    for path in (directory / name, directory / "rrf" / name):
        if path.is_file():
            return path
    return None


def rrf_rows(
    lines: Iterable[str], *, columns: int, marker: str, source: str
) -> Iterator[list[str]]:
    """The fields of each line holding ``marker``, checked for the file's column count.

    ``marker`` is a cheap test on the raw line (``|RXNORM|``) that skips most
    of a file without splitting it; the caller checks the fields themselves.
    """
    for number, line in enumerate(lines, start=1):
        if marker not in line:
            continue
        fields = line.rstrip("\r\n").split("|")
        if len(fields) < columns:
            msg = f"{source} line {number}: {len(fields)} fields, expected {columns}"
            raise RxnormFormatError(msg)
        yield fields


def _concepts(
    lines: Iterable[str], done: RxnormLoad, known: dict[str, DrugCode]
) -> Iterator[DrugCode]:
    for f in rrf_rows(lines, columns=CONSO_COLUMNS, marker="|RXNORM|", source="RXNCONSO.RRF"):
        rxcui, sab, tty, name = f[0], f[11], f[12], f[14]
        if sab != "RXNORM" or tty not in TERM_TYPES:
            continue
        done.concepts += 1
        if rxcui in known:
            continue
        found = classify(name)
        if found.classes:
            known[rxcui] = code = DrugCode(RXNORM, rxcui, name, found.drug, found.classes)
            done.classified += 1
            yield code


def _ndcs(lines: Iterable[str], done: RxnormLoad, known: dict[str, DrugCode]) -> Iterator[DrugCode]:
    stored: set[str] = set()
    for f in rrf_rows(lines, columns=SAT_COLUMNS, marker="|NDC|RXNORM|", source="RXNSAT.RRF"):
        rxcui, atn, sab, value = f[0], f[8], f[9], f[10]
        if atn != "NDC" or sab != "RXNORM":
            continue
        done.ndcs += 1
        concept = known.get(rxcui)
        ndc = normalize_code("ndc", value)
        if concept is None or not ndc or ndc in stored:
            continue
        stored.add(ndc)
        done.ndcs_stored += 1
        yield DrugCode(NDC, ndc, concept.name, concept.drug, concept.classes)


def _store(conn: Conn, codes: Iterator[DrugCode], batch_size: int) -> None:
    batch: list[DrugCode] = []
    for code in codes:
        batch.append(code)
        if len(batch) >= batch_size:
            upsert_drug_codes(conn, codes=batch)
            batch = []
    upsert_drug_codes(conn, codes=batch)


def load_rxnorm(conn: Conn, directory: Path, *, batch_size: int = 5000) -> RxnormLoad:
    """Store the release's classified codes, then classify stored dispenses by them."""
    conso = release_file(directory, "RXNCONSO.RRF")
    if conso is None:
        msg = f"no RXNCONSO.RRF in {directory} or {directory / 'rrf'}: is it an RxNorm release?"
        raise RxnormFormatError(msg)
    done = RxnormLoad()
    known: dict[str, DrugCode] = {}
    with conso.open(encoding="utf-8") as lines:
        _store(conn, _concepts(lines, done, known), batch_size)
    if not done.concepts:
        msg = f"{conso} has no RxNorm (SAB=RXNORM) ingredient or drug names"
        raise RxnormFormatError(msg)
    sat = release_file(directory, "RXNSAT.RRF")
    if sat is not None:
        done.had_ndcs = True
        with sat.open(encoding="utf-8") as lines:
            _store(conn, _ndcs(lines, done, known), batch_size)
    patients = reclassify_dispenses(conn)
    done.reclassified = len(patients)
    done.patients = {p for p in patients if p is not None}
    return done
