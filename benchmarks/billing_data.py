"""Simulated care programmes and time for the billing benchmark (benchmarks/billing.py).

Added in bulk, inside PostgreSQL, to the worklist benchmark's patients
(benchmarks/worklist_data.py): no real patient. Per patient, from a hash of
its id (so a rerun makes the same data):

* an RPM episode begun 30 to 399 days ago, its consent (one in thirty has
  none) and its set-up on its first day (rows of the programmes' record);
* a CCM episode for one in three (two conditions, consented);
* a TCM episode for one in fifty, discharged in the month (inpatient, high
  or moderate complexity, reached the next day, seen on day 5, 10 or 20);
* in the month: one to four RPM entries of 5 to 19 minutes by the patient's
  coordinator (about one in three a call), and two CCM entries for CCM
  patients. Each entry passes the time log's trigger (migration 0025);
* missed days: the worklist benchmark measures every patient every day; here
  each patient skips days at a rate of its own (:data:`MISS_PERCENT`), all its
  readings of a skipped day deleted, so that some 30-day periods fall short
  and the daily forecast (benchmarks/forecast.py) finds some at risk.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from billing.models import Month
from hub.db import Conn

#: Every patient's RPM episode; the hash picks its start.
RPM_EPISODES = """
INSERT INTO program_episodes (patient_id, kind, started_on, ordering_name, ordering_npi,
    conditions, created_by, created_at)
SELECT p.id, 'RPM', current_date - (30 + abs(hashtext(p.id::text)) %% 370),
       'Dr. Bench Example', '1234567893', '{I50.22}', %(actor)s, now()
FROM patients p
"""

CCM_EPISODES = """
INSERT INTO program_episodes (patient_id, kind, started_on, ordering_name, ordering_npi,
    conditions, created_by, created_at)
SELECT e.patient_id, 'CCM', e.started_on, e.ordering_name, e.ordering_npi,
       '{I50.22,E11.9}', %(actor)s, now()
FROM program_episodes e
WHERE e.kind = 'RPM' AND abs(hashtext(e.patient_id::text || 'ccm')) %% 3 = 0
"""

TCM_EPISODES = """
INSERT INTO program_episodes (patient_id, kind, started_on, ordering_name, ordering_npi,
    discharged_on, discharge_setting, created_by, created_at)
SELECT p.id, 'TCM', d.day, 'Dr. Bench Example', '1234567893', d.day, 'inpatient',
       %(actor)s, now()
FROM patients p
CROSS JOIN LATERAL (SELECT abs(hashtext(p.id::text || 'tcm')) AS h) hh
CROSS JOIN LATERAL (SELECT %(first)s::date - 29 + hh.h %% 28 AS day) d
WHERE hh.h %% 50 = 0
"""

#: What is recorded of them (migration 0028): an RPM episode's consent (one in thirty
#: has none) and set-up on its first day, a CCM episode's consent; a TCM episode's
#: complexity, its contact the next day, its reconciliation on day 3, its visit on day
#: 5, 10 or 20.
RECORDS = """
INSERT INTO program_records (episode_id, patient_id, fact, on_date, at_time, method, performer,
    complexity, recorded_by, recorded_at)
SELECT e.id, e.patient_id, r.fact, r.on_date, r.at_time, r.method, r.performer, r.complexity,
       %(actor)s, now()
FROM program_episodes e
CROSS JOIN LATERAL (SELECT abs(hashtext(e.patient_id::text)) AS rpm,
                           abs(hashtext(e.patient_id::text || 'tcm')) AS tcm) h
CROSS JOIN LATERAL (VALUES
    ('consent', e.started_on, NULL::timestamptz, 'verbal', NULL, NULL,
     e.kind = 'RPM' AND h.rpm %% 30 <> 0),
    ('setup', e.started_on, NULL, NULL, 'RN Bench', NULL, e.kind = 'RPM'),
    ('consent', e.started_on, NULL, 'written', NULL, NULL, e.kind = 'CCM'),
    ('complexity', NULL, NULL, NULL, NULL,
     CASE WHEN h.tcm %% 2 = 0 THEN 'high' ELSE 'moderate' END, e.kind = 'TCM'),
    ('med_reconciliation', e.started_on + 3, NULL, NULL, NULL, NULL, e.kind = 'TCM'),
    ('face_to_face', e.started_on + (ARRAY[5, 10, 20])[1 + h.tcm %% 3], NULL, NULL, NULL,
     NULL, e.kind = 'TCM'),
    ('contact', NULL, e.started_on + interval '1 day 15 hours', NULL, NULL, NULL,
     e.kind = 'TCM')
) r(fact, on_date, at_time, method, performer, complexity, wanted)
WHERE r.wanted
"""

#: The month's time: entries by the patient's (first) coordinator.
TIME_ENTRIES = """
INSERT INTO time_entries (episode_id, patient_id, coordinator_id, started_at, seconds,
    activity, interactive, source, recorded_by, recorded_at)
SELECT e.id, e.patient_id, c.user_id, t.at, t.seconds,
       CASE WHEN t.call THEN 'call' ELSE 'data_review' END, t.call, 'manual', c.user_id,
       t.at + make_interval(secs => t.seconds)
FROM program_episodes e
CROSS JOIN LATERAL (SELECT pc.user_id FROM patient_coordinators pc
                    WHERE pc.patient_id = e.patient_id ORDER BY pc.user_id LIMIT 1) c
CROSS JOIN LATERAL (SELECT abs(hashtext(e.id::text || 'n')) AS h) hh
CROSS JOIN LATERAL generate_series(1, CASE WHEN e.kind = 'RPM' THEN 1 + hh.h %% 4 ELSE 2 END)
    AS n(k)
CROSS JOIN LATERAL (
    SELECT greatest(%(first)s::date, e.started_on) + ((hh.h / 7 + n.k * 9) %% 20)
               + time '15:00' AS at,
           60 * (5 + (hh.h + n.k) %% 15) AS seconds,
           (hh.h + n.k) %% 3 = 0 AS call
) t
WHERE e.kind IN ('RPM', 'CCM')
  AND EXISTS (SELECT 1 FROM program_records r WHERE r.episode_id = e.id AND r.fact = 'consent')
  AND e.started_on <= %(last)s::date - 20
"""


#: The share of days (per cent) a patient misses, by a hash of its id: four in ten
#: patients miss one day in twenty, two in ten one in five, and one in ten each
#: 35 %, 50 %, 65 % and 80 % of the days.
MISS_PERCENT = (5, 5, 5, 5, 20, 20, 35, 50, 65, 80)

#: One UTC day's readings of the patients who miss it (every reading of the
#: benchmark is taken between 07:00 and 09:00 UTC, so a UTC day is a patient's day).
MISSED_DAY = """
DELETE FROM readings r
WHERE r.measured_at >= %(start)s AND r.measured_at < %(end)s
  AND abs(hashtext(r.patient_id::text || %(day)s)) %% 100
      < (%(miss)s::int[])[1 + abs(hashtext(r.patient_id::text || 'adherence')) %% 10]
"""


def missed_days(conn: Conn, *, first: date, last: date) -> int:
    """Delete the readings of the days the patients miss from ``first`` to ``last`` (UTC
    days); how many readings were deleted. Committed day by day."""
    deleted = 0
    day = first
    while day <= last:
        start = datetime.combine(day, time(0), tzinfo=UTC)
        params = {"start": start, "end": start + timedelta(days=1), "day": day.isoformat(),
                  "miss": list(MISS_PERCENT)}  # fmt: skip
        deleted += conn.execute(MISSED_DAY, params).rowcount
        conn.commit()
        day += timedelta(days=1)
    return deleted


def programmes(conn: Conn, *, month: Month, actor: UUID) -> dict[str, int]:
    """Add the episodes and the month's time; how many of each were added."""
    params: dict[str, Any] = {"actor": actor, "first": month.first_day, "last": month.last_day}
    added = {}
    for name, sql in (
        ("RPM episodes", RPM_EPISODES),
        ("CCM episodes", CCM_EPISODES),
        ("TCM episodes", TCM_EPISODES),
        ("records", RECORDS),
        ("time entries", TIME_ENTRIES),
    ):
        added[name] = conn.execute(sql, params).rowcount
        conn.commit()
    return added
