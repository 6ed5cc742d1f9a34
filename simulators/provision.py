"""Register a simulated cohort in the hub through its HTTP admin API (contract section 3).

For each simulated patient: ``POST /api/v1/patients`` (identifier system
``urn:lastmile:sim``), ``POST /api/v1/gateways`` (whose answer carries the MQTT
password, shown once), then ``POST /api/v1/devices`` for each device. The
result maps each simulated gateway key to the hub's gateway id and password.
:func:`provision_feed` registers the simulated pharmacy's feed
(``POST /api/v1/pharmacy/feeds``, contract section 2).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from simulators.cohort import Cohort
from simulators.exceptions import ProvisioningError
from simulators.models import SimPatient

log = logging.getLogger(__name__)

SIM_IDENTIFIER_SYSTEM = "urn:lastmile:sim"


class ApiResponse(Protocol):
    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


class ApiClient(Protocol):
    """What registering needs of an HTTP client: an ``httpx.Client`` or a test client like one."""

    def post(
        self, url: str, *, json: Any = None, headers: Mapping[str, str] | None = None
    ) -> ApiResponse: ...

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> ApiResponse: ...


@dataclass(frozen=True, slots=True)
class ProvisionedGateway:
    """What the hub gave one simulated gateway; ``password`` is known nowhere else."""

    gateway_key: str
    gateway_id: str
    password: str
    mqtt_username: str
    client_id: str
    patient_id: str
    device_serials: tuple[str, ...]

    def __repr__(self) -> str:
        return (
            f"ProvisionedGateway(gateway_key={self.gateway_key!r}, "
            f"gateway_id={self.gateway_id!r}, password='***', "
            f"device_serials={self.device_serials!r})"
        )


@dataclass(frozen=True, slots=True)
class ProvisionedCohort:
    gateways: Mapping[str, ProvisionedGateway]

    @property
    def credentials(self) -> dict[str, tuple[str, str]]:
        """Gateway key -> (gateway id, password)."""
        return {key: (gw.gateway_id, gw.password) for key, gw in self.gateways.items()}

    @property
    def patient_ids(self) -> dict[str, str]:
        """Gateway key -> the hub's patient id."""
        return {key: gw.patient_id for key, gw in self.gateways.items()}


def provision_cohort(
    cohort: Cohort,
    *,
    api_url: str,
    admin_token: str,
    client: ApiClient | None = None,
    timeout_s: float = 30.0,
    coordinators: Sequence[str] = (),
) -> ProvisionedCohort:
    """Enroll every patient of ``cohort``, provision their gateways, register their devices.

    ``coordinators`` are user names whose panel the patients join.

    ``client`` (for tests, or to reuse a pool) must already point at the API;
    otherwise one is made for ``api_url``. The first refusal stops everything
    with a :class:`~simulators.exceptions.ProvisioningError`; what was
    registered before it stays registered.
    """
    with _session(api_url, client, timeout_s) as session:
        headers = _bearer(admin_token)
        ids = _user_ids(session, coordinators, headers) if coordinators else []
        return _provision_all(session, cohort, headers, ids)


def _user_ids(client: ApiClient, usernames: Sequence[str], headers: Mapping[str, str]) -> list[str]:
    """The ids of users named ``usernames`` (``GET /api/v1/users``)."""
    response = client.get("/api/v1/users", headers=dict(headers))
    if response.status_code != 200:
        raise ProvisioningError(f"GET /api/v1/users answered {response.status_code}")
    by_name = {str(u["username"]): str(u["id"]) for u in response.json()}
    missing = [name for name in usernames if name not in by_name]
    if missing:
        raise ProvisioningError(f"no such user: {', '.join(missing)}")
    return [by_name[name] for name in usernames]


@dataclass(frozen=True, slots=True)
class ProvisionedFeed:
    """What the hub gave the simulated pharmacy's feed; ``password`` is known nowhere else."""

    feed_id: str
    password: str
    mqtt_username: str
    client_id: str
    dispenses_topic: str
    errors_topic: str

    def __repr__(self) -> str:
        return f"ProvisionedFeed(feed_id={self.feed_id!r}, password='***')"


def provision_feed(
    *,
    label: str,
    api_url: str,
    admin_token: str,
    client: ApiClient | None = None,
    timeout_s: float = 30.0,
) -> ProvisionedFeed:
    """Provision one pharmacy feed (``client`` as for :func:`provision_cohort`)."""
    path = "/api/v1/pharmacy/feeds"
    with _session(api_url, client, timeout_s) as session:
        feed = _post(session, path, {"label": label}, _bearer(admin_token))
    made = {
        name: _field(feed, name, path)
        for name in ("id", "mqtt_password", "dispenses_topic", "errors_topic")
    }
    log.info("pharmacy feed provisioned", extra={"feed_id": made["id"]})
    return ProvisionedFeed(
        feed_id=made["id"],
        password=made["mqtt_password"],
        mqtt_username=str(feed.get("mqtt_username") or made["id"]),
        client_id=str(feed.get("client_id") or made["id"]),
        dispenses_topic=made["dispenses_topic"],
        errors_topic=made["errors_topic"],
    )


@contextmanager
def _session(api_url: str, client: ApiClient | None, timeout_s: float) -> Iterator[ApiClient]:
    """``client`` if given, else one of our own for ``api_url``, closed after."""
    if client is not None:
        yield client
        return
    with httpx.Client(base_url=api_url, timeout=timeout_s) as own:
        yield own


def _bearer(admin_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token}"}


def _provision_all(
    client: ApiClient, cohort: Cohort, headers: Mapping[str, str], coordinators: Sequence[str]
) -> ProvisionedCohort:
    gateways: dict[str, ProvisionedGateway] = {}
    for patient in cohort.patients:
        gateways[patient.gateway_key] = provision_patient(
            client, patient, headers=headers, coordinators=coordinators
        )
    log.info(
        "cohort provisioned",
        extra={
            "prefix": cohort.prefix,
            "patients": len(cohort.patients),
            "gateways": len(gateways),
        },
    )
    return ProvisionedCohort(gateways=gateways)


#: What each pathway's simulated patients were admitted for.
CONDITIONS = {
    "CHF": ("heart failure",),
    "COPD": ("chronic obstructive pulmonary disease",),
    "HTN": ("hypertension",),
}


def simulated_discharge_inputs(index: int) -> dict[str, Any]:
    """Made-up LACE and HOSPITAL inputs of the index stay, drawn from the patient's index.

    >>> simulated_discharge_inputs(3) == simulated_discharge_inputs(3)
    True
    >>> 1 <= simulated_discharge_inputs(3)["length_of_stay_days"] <= 21
    True
    """
    rng = random.Random(f"discharge-{index}")
    return {
        "length_of_stay_days": min(21, 1 + int(rng.expovariate(1 / 4))),
        "acute_admission": rng.random() < 0.8,
        "charlson_index": min(8, int(rng.expovariate(1 / 2))),
        "ed_visits_6m": min(6, int(rng.expovariate(1 / 0.8))),
        "haemoglobin_g_dl": round(rng.gauss(12.6, 1.6), 1),
        "sodium_mmol_l": round(rng.gauss(138.0, 3.5), 0),
        "oncology_discharge": rng.random() < 0.05,
        "procedure_during_stay": rng.random() < 0.35,
        "admissions_12m": min(8, int(rng.expovariate(1 / 1.2))),
    }


def provision_patient(
    client: ApiClient,
    patient: SimPatient,
    *,
    headers: Mapping[str, str],
    coordinators: Sequence[str] = (),
) -> ProvisionedGateway:
    """Register one simulated patient (on ``coordinators``' panels), their gateway and devices."""
    body: dict[str, Any] = {
        "identifiers": [{"system": SIM_IDENTIFIER_SYSTEM, "value": patient.sim_id}],
        "pathway": patient.pathway.value,
        "discharge_date": patient.discharge_date.isoformat(),
        "conditions": list(CONDITIONS.get(patient.pathway.value, ())),
        "discharge_inputs": simulated_discharge_inputs(patient.index),
    }
    if coordinators:
        body["coordinators"] = list(coordinators)
    enrolled = _post(client, "/api/v1/patients", body, headers)
    patient_id = _field(enrolled, "id", "/api/v1/patients")
    gateway = _post(client, "/api/v1/gateways", {"label": _label(patient)}, headers)
    gateway_id = _field(gateway, "id", "/api/v1/gateways")
    password = _field(gateway, "mqtt_password", "/api/v1/gateways")
    for device in patient.devices:
        _post(
            client,
            "/api/v1/devices",
            {
                "serial": device.serial,
                "kind": device.kind.value,
                "gateway_id": gateway_id,
                "patient_id": patient_id,
            },
            headers,
        )
    log.debug(
        "simulated patient provisioned",
        extra={"sim_id": patient.sim_id, "patient_id": patient_id, "gateway_id": gateway_id},
    )
    return ProvisionedGateway(
        gateway_key=patient.gateway_key,
        gateway_id=gateway_id,
        password=password,
        mqtt_username=str(gateway.get("mqtt_username") or gateway_id),
        client_id=str(gateway.get("client_id") or gateway_id),
        patient_id=patient_id,
        device_serials=tuple(d.serial for d in patient.devices),
    )


def _label(patient: SimPatient) -> str:
    return f"simulated {patient.pathway.value} gateway {patient.gateway_key} ({patient.sim_id})"


def _post(
    client: ApiClient, path: str, body: Mapping[str, Any], headers: Mapping[str, str]
) -> dict[str, Any]:
    try:
        response = client.post(path, json=body, headers=headers)
    except httpx.HTTPError as exc:
        msg = f"POST {path} failed: {type(exc).__name__}: {exc}"
        raise ProvisioningError(msg) from exc
    if response.status_code != httpx.codes.CREATED:
        msg = f"POST {path} answered {response.status_code}: {response.text[:300]}"
        raise ProvisioningError(msg, status_code=response.status_code)
    try:
        data = response.json()
    except ValueError as exc:
        msg = f"POST {path} answered 201 without a JSON body"
        raise ProvisioningError(msg, status_code=response.status_code) from exc
    if not isinstance(data, dict):
        msg = f"POST {path} answered 201 with a JSON {type(data).__name__}, not an object"
        raise ProvisioningError(msg, status_code=response.status_code)
    return data


def _field(data: Mapping[str, Any], name: str, path: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        msg = f"POST {path} answered without {name!r}"
        raise ProvisioningError(msg)
    return value
