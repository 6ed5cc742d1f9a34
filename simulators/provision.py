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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from simulators.cohort import Cohort
from simulators.exceptions import ProvisioningError
from simulators.hubapi import ApiClient, bearer, field, get_list, post_json, session
from simulators.models import SimPatient

log = logging.getLogger(__name__)

SIM_IDENTIFIER_SYSTEM = "urn:lastmile:sim"


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
    with session(api_url, client, timeout_s) as api:
        headers = bearer(admin_token)
        users = users_named(api, coordinators, headers) if coordinators else []
        return _provision_all(api, cohort, headers, [str(u["id"]) for u in users])


def users_named(
    client: ApiClient, usernames: Sequence[str], headers: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The users named ``usernames``, in that order (``GET /api/v1/users``, an admin's)."""
    by_name = {str(u.get("username")): u for u in get_list(client, "/api/v1/users", headers)}
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
    with session(api_url, client, timeout_s) as api:
        feed = post_json(api, path, {"label": label}, bearer(admin_token))
    made = {
        name: field(feed, name, path)
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
    enrolled = post_json(client, "/api/v1/patients", body, headers)
    patient_id = field(enrolled, "id", "/api/v1/patients")
    gateway = post_json(client, "/api/v1/gateways", {"label": _label(patient)}, headers)
    gateway_id = field(gateway, "id", "/api/v1/gateways")
    password = field(gateway, "mqtt_password", "/api/v1/gateways")
    for device in patient.devices:
        post_json(
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
