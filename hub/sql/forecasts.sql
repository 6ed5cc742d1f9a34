-- The daily billing forecast and the patient page's progress (flows/forecasts.py).

-- The local days with sensed data from a device registered to the patient, of
-- the patients with an open RPM episode (all, or ``patient_ids``), measured
-- from ``since`` to before ``until``: one row per patient, its days as bits
-- (the local day ``first + k`` is bit ``k``, under 62 days). Self-reported
-- values do not count; several readings on one day are one. For all patients,
-- one pass over the window's readings, folded as they are read.
-- name: forecast_sensed_days
WITH bits AS (
    -- Folded per patient and device as the readings are read (in parallel where
    -- PostgreSQL may); whether the device is the patient's is asked of the few rows after.
    SELECT r.patient_id, r.device_id,
           bit_or(1::int8 << ((r.measured_at AT TIME ZONE p.timezone)::date
                              - %(first)s::date)) AS word
    FROM readings r
    JOIN patients p ON p.id = r.patient_id
    WHERE r.modality = 'sensed'
      AND r.measured_at >= %(since)s AND r.measured_at < %(until)s
      AND (%(all)s OR r.patient_id = ANY(%(patient_ids)s::uuid[]))
      AND p.id IN (SELECT e.patient_id FROM program_episodes e
                   WHERE e.kind = 'RPM' AND e.ended_on IS NULL)
    GROUP BY r.patient_id, r.device_id
)
SELECT b.patient_id, bit_or(b.word) AS word
FROM bits b
JOIN devices d ON d.id = b.device_id AND d.patient_id = b.patient_id
GROUP BY b.patient_id;

-- The open RPM and CCM episodes of ``patient_ids``: what the forecast reads of them.
-- name: forecast_open_episodes
SELECT e.id, e.patient_id, e.kind, e.started_on,
       EXISTS (  -- consent that holds: recorded, neither corrected nor withdrawn (0028)
           SELECT 1 FROM program_records r
           WHERE r.episode_id = e.id AND r.fact = 'consent' AND NOT r.withdrawn
             AND NOT EXISTS (SELECT 1 FROM program_records c WHERE c.supersedes = r.id)
       ) AS consented,
       p.timezone
FROM program_episodes e
JOIN patients p ON p.id = e.patient_id
WHERE e.ended_on IS NULL AND e.kind IN ('RPM', 'CCM') AND e.patient_id = ANY(%(patient_ids)s)
ORDER BY e.patient_id, e.id;

-- The time entries that count (not corrected, not withdrawn) toward the open
-- RPM and CCM episodes, started from ``since``.
-- name: open_episode_time_entries
SELECT t.id, t.episode_id, t.coordinator_id, t.started_at, t.seconds, t.interactive
FROM time_entries t
JOIN program_episodes e ON e.id = t.episode_id
WHERE e.ended_on IS NULL AND e.kind IN ('RPM', 'CCM') AND t.started_at >= %(since)s
  AND t.seconds > 0
  AND NOT EXISTS (SELECT 1 FROM time_entries c WHERE c.supersedes = t.id)
  AND (%(all)s OR e.patient_id = ANY(%(patient_ids)s))
ORDER BY t.started_at, t.id;
