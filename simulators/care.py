"""Record a simulated cohort's care in the hub through its HTTP API, as simulated nurses.

Programmes and time are a person's record (the API refuses them to the
service token), so :func:`care_team` first makes the cohort's simulated
nurses (``POST /api/v1/users`` with the admin token: coordinators named
``<prefix>-rn1``..., on the team of the first named coordinator's
supervisor), logs them in (``POST /api/v1/auth/token``) and logs them out
again when done; their passwords are drawn, used once and kept nowhere.
The nurses join the patients' panels (``provision_cohort(coordinators=...)``).

:func:`provision_care` then records, per patient, as the patient's nurse:
the programmes (``POST .../programs``, with consent, RPM set-up and TCM
milestones in one request) and the time entries (``POST .../time-entries``,
each as the nurse who did the work). It first reads what the patient has
(``GET .../programs`` and ``.../time-entries``), and adds only what is
missing: an episode of a kind the patient has no episode of, an entry not
logged already toward the same programme with the same start, length and
activity. Run again, it adds nothing.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hub.care_programs import ProgramKind
from simulators.care_models import NURSES, CarePlan, PatientCare, PlannedEntry, PlannedEpisode
from simulators.exceptions import ProvisioningError
from simulators.hubapi import ApiClient, bearer, field, get_list, post_empty, post_json, session
from simulators.provision import ProvisionedCohort, users_named

log = logging.getLogger(__name__)

_NOT_USERNAME = re.compile(r"[^a-z0-9._@-]+")


@dataclass(frozen=True, slots=True)
class Nurse:
    """A simulated nurse's account and bearer token (known to this process only)."""

    username: str
    user_id: str
    display_name: str
    token: str

    def __repr__(self) -> str:
        return f"Nurse(username={self.username!r}, user_id={self.user_id!r}, token='***')"


@dataclass(frozen=True, slots=True)
class CareTeam:
    nurses: tuple[Nurse, ...]

    @property
    def usernames(self) -> list[str]:
        return [n.username for n in self.nurses]


def nurse_username(prefix: str, number: int) -> str:
    """A user name the API accepts for the cohort's nurse ``number`` (from 1).

    >>> nurse_username("sim0-20261207230000", 1), nurse_username("Ward:7", 2)
    ('sim0-20261207230000-rn1', 'ward-7-rn2')
    """
    stem = _NOT_USERNAME.sub("-", prefix.lower()).strip("-._@") or "sim"
    return f"{stem[:58]}-rn{number}"


@contextmanager
def care_team(
    *,
    prefix: str,
    api_url: str,
    admin_token: str,
    supervisor_of: str | None = None,
    client: ApiClient | None = None,
    timeout_s: float = 30.0,
) -> Iterator[CareTeam]:
    """Make and log in the cohort's :data:`~simulators.care_models.NURSES` simulated nurses;
    log them out on leaving.

    ``supervisor_of`` names a user whose supervisor the nurses report to
    (the demo coordinator's, so that the supervisor sees their time).
    """
    with session(api_url, client, timeout_s) as api:
        admin = bearer(admin_token)
        supervisor = None
        if supervisor_of is not None:
            [user] = users_named(api, [supervisor_of], admin)
            supervisor = user.get("supervisor_id")
        nurses: list[Nurse] = []
        try:
            for number in range(1, NURSES + 1):
                nurses.append(_nurse(api, prefix, number, admin, supervisor))
            yield CareTeam(tuple(nurses))
        finally:
            for nurse in nurses:  # a logout that fails leaves a token to expire on its own
                try:
                    post_empty(api, "/api/v1/auth/logout", bearer(nurse.token))
                except ProvisioningError as exc:
                    log.warning("logout failed", extra={"user": nurse.username, "error": str(exc)})


def _nurse(
    api: ApiClient, prefix: str, number: int, admin: Mapping[str, str], supervisor: Any
) -> Nurse:
    username = nurse_username(prefix, number)
    password = secrets.token_urlsafe(24)
    display = f"Simulated nurse {number}"
    body = {
        "username": username,
        "password": password,
        "role": "coordinator",
        "display_name": display,
        "supervisor_id": supervisor,
    }
    made = post_json(api, "/api/v1/users", body, admin)
    path = "/api/v1/auth/token"
    form = {"username": username, "password": password}
    login = post_json(api, path, None, {}, form=form, expect=200)
    return Nurse(
        username, field(made, "id", "/api/v1/users"), display, field(login, "access_token", path)
    )


@dataclass(frozen=True, slots=True)
class CareCounts:
    """What :func:`provision_care` recorded, and what it found recorded already."""

    episodes: int = 0
    episodes_found: int = 0
    entries: int = 0
    entries_found: int = 0

    def __add__(self, other: CareCounts) -> CareCounts:
        return CareCounts(
            self.episodes + other.episodes,
            self.episodes_found + other.episodes_found,
            self.entries + other.entries,
            self.entries_found + other.entries_found,
        )


def provision_care(
    plan: CarePlan,
    provisioned: ProvisionedCohort,
    *,
    team: CareTeam,
    api_url: str,
    client: ApiClient | None = None,
    timeout_s: float = 30.0,
) -> CareCounts:
    """Record ``plan`` for the provisioned patients (what is missing of it; see the module)."""
    total = CareCounts()
    with session(api_url, client, timeout_s) as api:
        for care in plan.patients:
            patient_id = provisioned.gateways[care.gateway_key].patient_id
            total += _patient(api, care, patient_id, team.nurses)
    log.info(
        "simulated care recorded",
        extra={"episodes": total.episodes, "entries": total.entries},
    )
    return total


def _patient(
    api: ApiClient, care: PatientCare, patient_id: str, nurses: Sequence[Nurse]
) -> CareCounts:
    base = f"/api/v1/patients/{patient_id}"
    headers = bearer(nurses[care.nurse].token)
    recorded: dict[str, str] = {}
    for known in get_list(api, f"{base}/programs", headers):  # the newest first
        recorded.setdefault(str(known.get("kind")), field(known, "id", f"{base}/programs"))
    ids: dict[ProgramKind, str] = {}
    made = 0
    for episode in care.episodes:
        if episode.kind.value in recorded:
            ids[episode.kind] = recorded[episode.kind.value]
            continue
        body = _episode_body(episode, setup_by=nurses[care.nurse].display_name)
        answer = post_json(api, f"{base}/programs", body, headers)
        ids[episode.kind] = field(answer, "id", f"{base}/programs")
        made += 1
    logged = {_logged(e) for e in get_list(api, f"{base}/time-entries", headers)}
    added = 0
    for entry in care.entries:
        program_id = ids[entry.kind]
        if (program_id, entry.started_at, entry.minutes * 60, entry.work.activity.value) in logged:
            continue
        body = _entry_body(entry, program_id)
        post_json(api, f"{base}/time-entries", body, bearer(nurses[entry.nurse].token))
        added += 1
    return CareCounts(made, len(care.episodes) - made, added, len(care.entries) - added)


def _episode_body(episode: PlannedEpisode, *, setup_by: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": episode.kind.value,
        "started_on": episode.started_on.isoformat(),
        "ordering": {"name": episode.ordering.name, "npi": episode.ordering.npi},
        "conditions": list(episode.conditions),
    }
    if episode.consent_on is not None:
        body["consent"] = {
            "on": episode.consent_on.isoformat(),
            "method": episode.consent_method.value,
        }
    if episode.setup_on is not None:
        body["setup"] = {"on": episode.setup_on.isoformat(), "by": setup_by}
    if episode.tcm is not None:
        tcm = episode.tcm
        body["tcm"] = {
            "discharged_on": tcm.discharged_on.isoformat(),
            "setting": tcm.setting.value,
            "complexity": tcm.complexity.value if tcm.complexity else None,
            "med_reconciled_on": _iso(tcm.med_reconciled_on),
            "face_to_face_on": _iso(tcm.face_to_face_on),
            "first_contact_at": _iso(tcm.first_contact_at),
        }
    return body


def _entry_body(entry: PlannedEntry, program_id: str) -> dict[str, Any]:
    return {
        "program_id": int(program_id),
        "started_at": entry.started_at.isoformat(),
        "ended_at": (entry.started_at + timedelta(minutes=entry.minutes)).isoformat(),
        "activity": entry.work.activity.value,
        "interactive": entry.work.interactive,
        "note": entry.work.note,
    }


def _logged(entry: Mapping[str, Any]) -> tuple[str, datetime, int, str]:
    """What makes a logged entry the same one again: programme, start, seconds, activity."""
    try:
        return (
            str(entry["program_id"]),
            datetime.fromisoformat(str(entry["started_at"])),
            int(entry["seconds"]),
            str(entry["activity"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        msg = f"a time entry without its programme, start, seconds or activity: {exc}"
        raise ProvisioningError(msg) from exc


def _iso(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())
