"""Sample files, their devices and their expectations.

Layout: one JSON file per MQTT message (one data point or an array of them),
in a folder per device::

    <samples>/<device serial>/<name>.json

A sample must be stored, every data point of it, unless its name says
otherwise: ``<name>.expect-<code>.json`` must be rejected with ``<code>`` (the
whole message, or each of its points). A sidecar ``<name>.expect.json`` next
to ``<name>.json`` sets expectations per ``header.id``, for an array whose
points end differently::

    {"default": "stored", "points": {"bp-2": "implausible_value"}}

Folder names can be mapped to real serials (``--device scale=SC-00042``), so
the samples shipped with the kit (folders ``scale``, ``bp_cuff`` and
``pulse_oximeter``) run against a vendor's registered devices.

>>> expectation_from_name("weight-900kg.expect-implausible_value.json")
Expectation(default='implausible_value', points=())
>>> header_ids(b'[{"header": {"id": "a"}}, {"header": {}}]')
('a', None)
>>> header_ids(b'{not json')
()
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Final

import orjson

from hub.domain import RejectionCode
from ingest.conformance.exceptions import SampleError
from ingest.conformance.models import STORED, Expectation, Sample

_EXPECT: Final = ".expect-"
_SIDECAR: Final = ".expect.json"
_OUTCOMES: Final = frozenset({STORED, *(code.value for code in RejectionCode)})


def shipped_samples() -> Path:
    """The folder of sample payloads shipped with the kit."""
    return Path(str(resources.files("ingest.conformance") / "samples"))


def load_samples(paths: Iterable[Path], *, devices: Mapping[str, str]) -> list[Sample]:
    """Every sample under ``paths``, in the order they are sent.

    A path is a file (its folder names the device) or a folder of device
    folders. ``devices`` maps folder names to serials. Raises
    :class:`~ingest.conformance.exceptions.SampleError`.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            found = sorted(p for p in path.glob("*/*.json") if not p.name.endswith(_SIDECAR))
            if not found:
                raise SampleError(f"{path}: no <device>/<name>.json files in it")
            files.extend(found)
        else:
            raise SampleError(f"{path}: no such file or folder")
    return [_sample(file, devices) for file in files]


def _sample(path: Path, devices: Mapping[str, str]) -> Sample:
    folder = path.parent.name
    serial = devices.get(folder, folder)
    try:
        payload = path.read_bytes()
    except OSError as exc:
        raise SampleError(f"{path}: cannot be read ({exc.strerror})") from None
    return Sample(
        name=f"{folder}/{path.name}",
        path=path,
        serial=serial,
        payload=payload,
        header_ids=header_ids(payload),
        expectation=_expectation(path),
    )


def header_ids(payload: bytes) -> tuple[str | None, ...]:
    """``header.id`` of each data point of a payload, as the hub reads them."""
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return ()
    if type(document) not in (dict, list):
        return ()
    items: list[Any] = document if type(document) is list else [document]
    return tuple(_header_id(item) for item in items)


def _header_id(item: Any) -> str | None:
    header = item.get("header") if type(item) is dict else None
    found = header.get("id") if type(header) is dict else None
    return found if type(found) is str else None


def expectation_from_name(name: str) -> Expectation:
    """The expectation a file's name states (``.expect-<code>.json``), else stored."""
    stem = name.removesuffix(".json")
    if _EXPECT not in stem:
        return Expectation()
    return Expectation(default=_outcome(stem.rsplit(_EXPECT, 1)[1], name))


def _expectation(path: Path) -> Expectation:
    sidecar = path.with_name(path.name.removesuffix(".json") + _SIDECAR)
    if not sidecar.exists():
        return expectation_from_name(path.name)
    try:
        data = orjson.loads(sidecar.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        raise SampleError(f"{sidecar}: not a readable JSON object") from None
    if type(data) is not dict or not isinstance(data.get("points", {}), dict):
        raise SampleError(f'{sidecar}: expected {{"default": ..., "points": {{...}}}}')
    default = _outcome(data.get("default", STORED), sidecar.name)
    points = tuple(
        (str(header), _outcome(outcome, sidecar.name))
        for header, outcome in data.get("points", {}).items()
    )
    return Expectation(default=default, points=points)


def _outcome(value: object, where: str) -> str:
    if not isinstance(value, str) or value not in _OUTCOMES:
        raise SampleError(f"{where}: {value!r} is neither 'stored' nor a rejection code")
    return value
