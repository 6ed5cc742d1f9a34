-- The daily billing forecast and the patient page's progress (flows/forecasts.py).

-- The days with readings of the patients with an open RPM episode (all, or
-- ``patient_ids``), measured from ``since``: one row per patient, device,
-- modality and local day, with the day's first measurement time (billing
-- counts a day once, however many readings it holds).
-- name: rpm_reading_days
SELECT r.patient_id, d.serial, r.modality, min(r.measured_at) AS measured_at
FROM program_episodes e
JOIN patients p ON p.id = e.patient_id
JOIN readings r ON r.patient_id = e.patient_id AND r.measured_at >= %(since)s
JOIN devices d ON d.id = r.device_id
WHERE e.kind = 'RPM' AND e.ended_on IS NULL
  AND (%(all)s OR e.patient_id = ANY(%(patient_ids)s))
GROUP BY r.patient_id, d.serial, r.modality, (r.measured_at AT TIME ZONE p.timezone)::date;

-- The serials of the devices registered to the patients with an open RPM episode.
-- name: rpm_device_serials
SELECT d.patient_id, array_agg(d.serial ORDER BY d.serial) AS serials
FROM devices d
WHERE d.patient_id IN (SELECT e.patient_id FROM program_episodes e
                       WHERE e.kind = 'RPM' AND e.ended_on IS NULL
                         AND (%(all)s OR e.patient_id = ANY(%(patient_ids)s)))
GROUP BY d.patient_id;

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
