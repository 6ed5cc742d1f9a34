"""A month's billing rows from the real database, against hand-worked expectations.

Every case is worked out in its docstring: which local days count, which
minutes, what the rows must say.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import psycopg
import pytest

from billing.models import Month
from flows.billing_export.evidence import Scope
from flows.billing_export.export import export_document
from hub.care_programs import Complexity, DischargeSetting, ProgramKind
from programs import corrections
from programs.episodes import start_episode
from programs.models import Fact, Tcm
from tests.api_support import make_user
from tests.billing_export.support import (
    CALL,
    DR,
    MARCH,
    NOW,
    REVIEW,
    brief,
    daily,
    home,
    log,
    month_rows,
    of,
    programme,
    reading,
)

pytestmark = pytest.mark.services

Conn = psycopg.Connection[Any]


@pytest.fixture
def cora(conn: Conn) -> UUID:
    return make_user(conn, "cora")


def programme_tcm(conn: Conn, patient: UUID, actor: UUID, tcm: Tcm) -> None:
    start_episode(
        conn, patient_id=patient, kind=ProgramKind.TCM, started_on=None, ordering=DR,
        conditions=[], actor=actor, now=NOW, tcm=tcm,
    )  # fmt: skip


def _march_days(*days: int) -> list[str]:
    return [date(2026, 3, d).isoformat() for d in days]


def test_sixteen_sensed_days_earn_99454_self_reported_and_foreign_devices_do_not_count(
    conn: Conn, cora: UUID
) -> None:
    """New York; RPM from 1 March (period 0: 1-30 March), consent 1 March, set-up 2 March.

    Sensed, cuff: 1-15 March at 14:00 UTC (15 days), and 17 March 03:30 UTC,
    which is 16 March 23:30 in New York (EDT since 8 March): 16 days. Also
    sensed: the scale on 5 March and the cuff again on 3 March (two readings,
    two devices on one day count once). Self-reported on 20 and 21 March: not
    counted (else 18). A reading stored for the patient from another
    patient's device on 25 March: not counted (else 17). 31 March is period 1
    (April's). So: 16 days, 99454; the set-up 99453 in period 0.
    """
    p = home(conn, mrn="SIM-16", tz="America/New_York", coordinator=cora,
             serials=("CUFF-1", "SCALE-1"))  # fmt: skip
    other = home(conn, mrn="SIM-Q", tz="America/New_York", coordinator=cora, serials=("Q-1",))
    episode = programme(
        conn, p.patient, cora, consent=date(2026, 3, 1), setup=(date(2026, 3, 2), "RN Lee")
    )
    cuff, scale = p.devices["CUFF-1"], p.devices["SCALE-1"]
    daily(conn, p.patient, cuff, date(2026, 3, 1), 15)
    reading(conn, p.patient, cuff, datetime(2026, 3, 17, 3, 30, tzinfo=UTC))
    reading(conn, p.patient, scale, datetime(2026, 3, 5, 14, 30, tzinfo=UTC))
    reading(conn, p.patient, cuff, datetime(2026, 3, 3, 20, 0, tzinfo=UTC), measure="heart-rate")
    for day in (20, 21):
        at = datetime(2026, 3, day, 14, tzinfo=UTC)
        reading(conn, p.patient, cuff, at, modality="self-reported")
    reading(conn, p.patient, other.devices["Q-1"], datetime(2026, 3, 25, 14, tzinfo=UTC))
    reading(conn, p.patient, cuff, datetime(2026, 3, 31, 14, tzinfo=UTC))

    rows = of(month_rows(conn), p.patient)
    assert [brief(r) for r in rows] == [
        ("RPM", "device_days", "2026-03-01", "2026-03-30", "99454", None, 1, "billable", [], 16),
        ("RPM", "setup", "2026-03-01", "2026-03-30", "99453", None, 1, "billable", [], 16),
        ("RPM", "time", "2026-03-01", "2026-03-31", None, None, 0, "none", [], 0),
    ]
    days = rows[0]["evidence"]
    assert days["days"] == _march_days(*range(1, 17))
    assert days["serials"] == ["CUFF-1", "SCALE-1"]
    assert days["order"] == {"name": DR.name, "npi": DR.npi}
    assert days["consent"] == {"on": "2026-03-01", "method": "verbal"}
    assert days["counted_through"] == "2026-03-30"
    assert rows[1]["evidence"]["setup"] == {"on": "2026-03-02", "by": "RN Lee"}
    assert all(r["episode_id"] == episode.id for r in rows)
    assert rows[0]["identifiers"] == [{"system": "urn:mrn", "value": "SIM-16"}]
    assert of(month_rows(conn), other.patient) == []  # no episode, one day: nothing to say


def test_twenty_minutes_with_a_call_earn_99457_and_without_one_are_at_risk(
    conn: Conn, cora: UUID
) -> None:
    """Chicago; RPM from 1 March with consent. Minutes count in the patient's month.

    A: 12 min of data review on 10 March and an 8 min call on 12 March: 20
    minutes with an interactive communication → 99457, billable.
    B: 15 min of review on 10 March and 5 more at 1 April 03:00 UTC, which is
    31 March 22:00 in Chicago: 20 minutes (15 if months were UTC's: 99470)
    and no interactive communication → no code; 99457 at risk.
    C: a CCM episode beside A's RPM: 15 interactive CCM minutes stay CCM's
    (A's RPM stays at 20, and CCM's 15 reach nothing).
    """
    a = home(conn, mrn="SIM-A", tz="America/Chicago", coordinator=cora)
    b = home(conn, mrn="SIM-B", tz="America/Chicago", coordinator=cora)
    rpm_a = programme(conn, a.patient, cora, consent=date(2026, 3, 1))
    ccm_a = programme(conn, a.patient, cora, kind=ProgramKind.CCM, consent=date(2026, 3, 1))
    programme(conn, b.patient, cora, consent=date(2026, 3, 1))
    review = log(conn, a.patient, cora, at=datetime(2026, 3, 10, 15, tzinfo=UTC), minutes=12,
                 work=REVIEW, episode=rpm_a.id)  # fmt: skip
    call = log(conn, a.patient, cora, at=datetime(2026, 3, 12, 15, tzinfo=UTC), minutes=8,
               work=CALL, episode=rpm_a.id)  # fmt: skip
    log(conn, a.patient, cora, at=datetime(2026, 3, 13, 15, tzinfo=UTC), minutes=15, work=CALL,
        episode=ccm_a.id)  # fmt: skip
    log(conn, b.patient, cora, at=datetime(2026, 3, 10, 15, tzinfo=UTC), minutes=15, work=REVIEW)
    log(conn, b.patient, cora, at=datetime(2026, 4, 1, 3, tzinfo=UTC), minutes=5, work=REVIEW)

    rows = month_rows(conn)
    month, period = ("2026-03-01", "2026-03-31"), ("2026-03-01", "2026-03-30")
    lost_period: tuple[Any, ...] = ("RPM", "device_days", *period, None, None, 0, "none", [], 0)
    assert [brief(r) for r in of(rows, a.patient)] == [
        ("CCM", "time", *month, None, None, 0, "none", [], 15),
        lost_period,
        ("RPM", "time", *month, "99457", None, 1, "billable", [], 20),
    ]
    rpm = of(rows, a.patient)[2]["evidence"]
    assert [(e["id"], e["minutes"], e["by"], e["interactive"]) for e in rpm["entries"]] == [
        (review.id, 12, "cora", False),
        (call.id, 8, "cora", True),
    ]
    assert rpm["interactive_contact"] == {
        "entry_id": call.id, "at": "2026-03-12T15:00:00+00:00", "by": "cora",
    }  # fmt: skip
    assert [brief(r) for r in of(rows, b.patient)] == [
        lost_period,
        ("RPM", "time", *month, None, "99457", 1, "at_risk", ["no_interactive_contact"], 20),
    ]
    assert of(rows, b.patient)[1]["evidence"]["interactive_contact"] is None
    april = of(month_rows(conn, Month(2026, 4)), b.patient)
    assert [brief(r)[1] + ":" + str(brief(r)[9]) for r in april] == ["device_days:0", "time:0"]


def test_missing_consent_and_missing_order_are_flagged(conn: Conn, cora: UUID) -> None:
    """C: an RPM episode from 1 March without consent, sensed 2-4 March (3 days): 99445
    and the set-up 99453 are reached but at risk (no consent; the set-up not recorded
    either); the month's time row says consent is missing. D: sensed 9 and 10 March and
    no RPM episode: 99445 at risk, no order."""
    c = home(conn, mrn="SIM-C", tz="UTC", coordinator=cora, serials=("C-1",))
    d = home(conn, mrn="SIM-D", tz="UTC", coordinator=cora, serials=("D-1",))
    programme(conn, c.patient, cora)
    daily(conn, c.patient, c.devices["C-1"], date(2026, 3, 2), 3)
    daily(conn, d.patient, d.devices["D-1"], date(2026, 3, 9), 2)

    rows = month_rows(conn)
    period, month = ("2026-03-01", "2026-03-30"), ("2026-03-01", "2026-03-31")
    consent, setup = "missing_consent", "setup_not_recorded"
    assert [brief(r) for r in of(rows, c.patient)] == [
        ("RPM", "device_days", *period, None, "99445", 1, "at_risk", [consent], 3),
        ("RPM", "setup", *period, None, "99453", 1, "at_risk", [consent, setup], 3),
        ("RPM", "time", *month, None, None, 0, "none", [consent], 0),
    ]
    assert of(rows, c.patient)[0]["evidence"]["consent"] is None
    no_order = of(rows, d.patient)
    assert [brief(r) for r in no_order] == [
        ("RPM", "device_days", *month, None, "99445", 1, "at_risk", ["no_order"], 2),
    ]
    assert no_order[0]["episode_id"] is None
    assert no_order[0]["evidence"]["days"] == _march_days(9, 10)
    assert no_order[0]["evidence"]["serials"] == ["D-1"]


def test_periods_are_billed_in_the_month_they_end_and_the_set_up_once(
    conn: Conn, cora: UUID
) -> None:
    """RPM from 1 January (UTC): period 0 is 1-30 January, 1 is 31 January - 1 March,
    2 is 2-31 March. Sensed 5 and 6 January (2 days: 99445 and the set-up, in January),
    10-27 February (18 days: period 1, 99454) and 2-4 March (3 days: period 2, 99445).
    March bills periods 1 and 2 (both end in March), without the set-up, earned in
    January. An episode ended on 20 March: its period 2 is cut short, and over then."""
    e = home(conn, mrn="SIM-E", tz="UTC", coordinator=cora, serials=("E-1",))
    episode = programme(
        conn, e.patient, cora, start=date(2026, 1, 1), consent=date(2026, 1, 1),
        setup=(date(2026, 1, 2), "RN Lee"),
    )  # fmt: skip
    device = e.devices["E-1"]
    daily(conn, e.patient, device, date(2026, 1, 5), 2)
    daily(conn, e.patient, device, date(2026, 2, 10), 18)
    daily(conn, e.patient, device, date(2026, 3, 2), 3)

    def devices_of(month: Month) -> list[tuple[Any, ...]]:
        rows = of(month_rows(conn, month), e.patient)
        return [brief(r)[1:8] for r in rows if r["service"] != "time"]

    assert devices_of(Month(2026, 1)) == [
        ("device_days", "2026-01-01", "2026-01-30", "99445", None, 1, "billable"),
        ("setup", "2026-01-01", "2026-01-30", "99453", None, 1, "billable"),
    ]
    assert devices_of(Month(2026, 2)) == []
    assert devices_of(MARCH) == [
        ("device_days", "2026-01-31", "2026-03-01", "99454", None, 1, "billable"),
        ("device_days", "2026-03-02", "2026-03-31", "99445", None, 1, "billable"),
    ]
    conn.execute(
        "UPDATE program_episodes SET ended_on = %s, ended_by = created_by WHERE id = %s",
        (date(2026, 3, 20), episode.id),
    )
    through = [
        r["evidence"]["counted_through"]
        for r in of(month_rows(conn), e.patient)
        if r["service"] == "device_days"
    ]
    assert through == ["2026-03-01", "2026-03-20"]
    assert devices_of(MARCH)[1][3] == "99445"


def test_a_patient_with_nothing_in_the_month_has_no_rows_and_rows_come_in_a_fixed_order(
    conn: Conn, cora: UUID
) -> None:
    """Two runs over the same evidence give the same bytes; the document holds the care
    rows, then the device rows, and in each the patients by id."""
    homes = [home(conn, mrn=f"SIM-{n}", tz="UTC", coordinator=cora, serials=(f"S-{n}",))
             for n in range(3)]  # fmt: skip
    for h in homes:
        programme(conn, h.patient, cora, consent=date(2026, 3, 1))
        daily(conn, h.patient, h.devices[f"S-{homes.index(h)}"], date(2026, 3, 1), 2)
    idle = home(conn, mrn="SIM-IDLE", tz="UTC", coordinator=cora)
    rows = month_rows(conn)
    # The care rows (time, transitional care) first, then the device rows; in each,
    # patients by id.
    care = [r for r in rows if r["service"] in ("time", "transitional_care")]
    devices = rows[len(care) :]
    assert rows[: len(care)] == care
    assert {r["service"] for r in devices} == {"device_days", "setup"}
    for part in (care, devices):
        assert [r["patient_id"] for r in part] == sorted(r["patient_id"] for r in part)
    assert len({r["patient_id"] for r in rows}) == 3
    assert of(rows, idle.patient) == []
    first, _, count = export_document(conn, month=MARCH, scope=Scope())
    assert count == len(rows) == 9  # each: 99445, the set-up (not recorded), no time
    assert export_document(conn, month=MARCH, scope=Scope())[0] == first


def test_transitional_care_is_billed_in_the_month_its_service_period_ends(
    conn: Conn, cora: UUID
) -> None:
    """F: discharged Monday 2 March (inpatient, high complexity); reached 3 March (due by
    Wednesday 4 March: two business days); medication reconciled 5 March; seen 6 March,
    day 4 (99496 needs day 7 at the latest). Service period 2-31 March → March, 99496.
    G: discharged 1 March (moderate), never reached, seen on day 20 (after day 14) and
    nothing reconciled: nothing earned, and the row says what was missed."""
    f = home(conn, mrn="SIM-F", tz="America/New_York", coordinator=cora)
    g = home(conn, mrn="SIM-G", tz="America/New_York", coordinator=cora)
    programme_tcm(conn, f.patient, cora, Tcm(
        discharged_on=date(2026, 3, 2), setting=DischargeSetting.INPATIENT,
        complexity=Complexity.HIGH, med_reconciled_on=date(2026, 3, 5),
        face_to_face_on=date(2026, 3, 6), first_contact_at=datetime(2026, 3, 3, 15, tzinfo=UTC),
    ))  # fmt: skip
    programme_tcm(conn, g.patient, cora, Tcm(
        discharged_on=date(2026, 3, 1), setting=DischargeSetting.OBSERVATION,
        complexity=Complexity.MODERATE, face_to_face_on=date(2026, 3, 21),
    ))  # fmt: skip
    rows = month_rows(conn)
    assert [brief(r) for r in of(rows, f.patient)] == [
        ("TCM", "transitional_care", "2026-03-02", "2026-03-31", "99496", None, 1, "billable",
         [], 4),
    ]  # fmt: skip
    evidence = of(rows, f.patient)[0]["evidence"]
    assert evidence["contact"] == {
        "at": "2026-03-03T15:00:00+00:00", "due": "2026-03-04", "attempts": [],
        "met_by": "contact",
    }  # fmt: skip
    assert evidence["visit"] == {
        "on": "2026-03-06", "due": {"99496": "2026-03-09", "99495": "2026-03-16"},
    }  # fmt: skip
    # Who recorded each milestone, and when (here all with the start of the episode).
    by_cora = {"by": "cora", "at": NOW.isoformat(), "supersedes": None, "reason": None}
    assert evidence["recorded"] == dict.fromkeys(
        ("complexity", "contact", "face_to_face", "med_reconciliation"), by_cora
    )
    missed = ["no_interactive_contact", "no_face_to_face", "med_reconciliation_missing"]
    assert [brief(r) for r in of(rows, g.patient)] == [
        ("TCM", "transitional_care", "2026-03-01", "2026-03-30", None, None, 0, "none",
         missed, 20),
    ]  # fmt: skip
    assert of(month_rows(conn, Month(2026, 4)), f.patient) == []


def test_a_corrected_milestone_is_billed_as_corrected_and_says_who_and_why(
    conn: Conn, cora: UUID
) -> None:
    """As F above (discharged Monday 2 March, high complexity, reached 3 March, reconciled
    5 March), but the visit was typed as 16 March (day 14: 99495) and corrected by sue to
    6 March (day 4: 99496). The export bills the corrected day and names the correction;
    the contact withdrawn instead (wrong patient), the row says it is missing."""
    f = home(conn, mrn="SIM-FC", tz="America/New_York", coordinator=cora)
    episode = start_episode(
        conn, patient_id=f.patient, kind=ProgramKind.TCM, started_on=None, ordering=DR,
        conditions=[], actor=cora, now=NOW, tcm=Tcm(
            discharged_on=date(2026, 3, 2), setting=DischargeSetting.INPATIENT,
            complexity=Complexity.HIGH, med_reconciled_on=date(2026, 3, 5),
            face_to_face_on=date(2026, 3, 16),
            first_contact_at=datetime(2026, 3, 3, 15, tzinfo=UTC),
        ),
    )  # fmt: skip
    ids: dict[str, Any] = {"patient_id": f.patient, "episode_id": episode.id, "now": NOW}
    (before,) = of(month_rows(conn), f.patient)
    assert (before["code"], before["quantity"]) == ("99495", 14)
    sue = make_user(conn, "sue")
    visit = episode.recorded[Fact.FACE_TO_FACE].id
    fixed = corrections.correct(
        conn, **ids, record_id=visit, reason="typed the wrong day", actor=sue,
        changes={"on": date(2026, 3, 6)},
    )  # fmt: skip
    (after,) = of(month_rows(conn), f.patient)
    assert (after["code"], after["quantity"], after["flags"]) == ("99496", 4, [])
    assert after["evidence"]["visit"]["on"] == "2026-03-06"
    assert after["evidence"]["recorded"]["face_to_face"] == {
        "by": "sue", "at": NOW.isoformat(), "supersedes": visit, "reason": "typed the wrong day",
    }  # fmt: skip
    assert fixed.supersedes == visit
    contact = episode.recorded[Fact.CONTACT].id
    corrections.correct(
        conn, **ids, record_id=contact, reason="wrong patient", actor=sue, withdraw=True
    )
    (withdrawn,) = of(month_rows(conn), f.patient)
    assert (withdrawn["code"], withdrawn["flags"]) == (None, ["no_interactive_contact"])
    assert withdrawn["evidence"]["contact"]["at"] is None


def test_local_days_follow_the_patients_clock_across_daylight_saving(
    conn: Conn, cora: UUID
) -> None:
    """New York moves to EDT (UTC-4) on 8 March 2026 at 02:00. 04:30 UTC on 7 March is
    6 March 23:30 EST; 04:30 UTC on 9 March is 9 March 00:30 EDT (with a fixed UTC-5 it
    would be the 8th). And 03:30 UTC on 1 March is still 28 February: before the episode."""
    h = home(conn, mrn="SIM-DST", tz="America/New_York", coordinator=cora, serials=("N-1",))
    programme(conn, h.patient, cora, consent=date(2026, 3, 1))
    for at in ((2026, 3, 1, 3, 30), (2026, 3, 7, 4, 30), (2026, 3, 9, 4, 30)):
        reading(conn, h.patient, h.devices["N-1"], datetime(*at, tzinfo=UTC))
    (days,) = [r for r in of(month_rows(conn), h.patient) if r["service"] == "device_days"]
    assert days["evidence"]["days"] == _march_days(6, 9)
    assert (days["code"], days["status"]) == ("99445", "billable")


def test_a_set_up_earned_long_before_is_found_in_the_episodes_history(
    conn: Conn, cora: UUID
) -> None:
    """RPM from 1 January (UTC). Sensed 5 and 6 January (period 0 earns the set-up), then
    nothing until 3 and 4 April (period 3: 1-30 April). April's export reads the days
    from 31 January; the period before April's (2-31 March) has none, so the set-up is
    looked for further back, and found in January: April bills 99445 alone. A reading of
    June (period 5) shows the same from May's side: 2 days in April, none in May."""
    h = home(conn, mrn="SIM-H", tz="UTC", coordinator=cora, serials=("H-1",))
    programme(conn, h.patient, cora, start=date(2026, 1, 1), consent=date(2026, 1, 1),
              setup=(date(2026, 1, 1), "RN Lee"))  # fmt: skip
    daily(conn, h.patient, h.devices["H-1"], date(2026, 1, 5), 2)
    daily(conn, h.patient, h.devices["H-1"], date(2026, 4, 3), 2)

    def billed(month: Month) -> list[tuple[Any, ...]]:
        rows = of(month_rows(conn, month), h.patient)
        return [(r["service"], r["first_day"], r["code"]) for r in rows if r["service"] != "time"]

    assert billed(Month(2026, 4)) == [("device_days", "2026-04-01", "99445")]
    assert billed(Month(2026, 5)) == [("device_days", "2026-05-01", None)]
