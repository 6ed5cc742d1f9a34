-- The periodic gap check (streaming/reading_gaps.py): the sequence numbers of
-- the readings measured since a time, per device, in order.
-- name: gap_sequences
SELECT r.device_id, d.serial, r.patient_id, r.sequence, r.measured_at, r.received_at
FROM readings r
JOIN devices d ON d.id = r.device_id
WHERE r.sequence IS NOT NULL AND r.measured_at >= %(since)s
ORDER BY r.device_id, r.sequence;

-- name: reported_gaps
SELECT device_id, first_missing, last_missing
FROM reading_gaps
WHERE device_id = ANY(%(device_ids)s);

-- name: insert_reading_gap
INSERT INTO reading_gaps (device_id, first_missing, last_missing, reported_at)
VALUES (%(device_id)s, %(first_missing)s, %(last_missing)s, %(now)s)
ON CONFLICT DO NOTHING;

-- The holes of the unresolved reading-gap alerts (those reported since the
-- alert opened, on the patient's devices), of every patient (`all`) or some:
-- how many of their numbers have arrived since, and the measurement times of
-- the readings either side. A reading that fills a hole was measured between
-- them, so no later than `lookback` before the hole was reported.
-- name: gaps_of_open_alerts
SELECT a.patient_id, a.reason, d.serial, g.first_missing, g.last_missing,
       (SELECT count(DISTINCT r.sequence) FROM readings r
        WHERE r.device_id = g.device_id AND r.sequence IS NOT NULL
          AND r.sequence BETWEEN g.first_missing AND g.last_missing
          AND r.measured_at >= g.reported_at - %(lookback)s::interval) AS arrived,
       (SELECT min(r.measured_at) FROM readings r
        WHERE r.device_id = g.device_id AND r.sequence = g.first_missing - 1
          AND r.measured_at >= g.reported_at - %(lookback)s::interval) AS before,
       (SELECT min(r.measured_at) FROM readings r
        WHERE r.device_id = g.device_id AND r.sequence = g.last_missing + 1
          AND r.measured_at >= g.reported_at - %(lookback)s::interval) AS after
FROM alerts a
JOIN devices d ON d.patient_id = a.patient_id
JOIN reading_gaps g ON g.device_id = d.id AND g.reported_at >= a.opened_at
WHERE a.kind = 'reading_gap' AND a.status <> 'resolved'
  AND (%(all)s OR a.patient_id = ANY(%(patient_ids)s))
ORDER BY a.patient_id, g.reported_at, d.serial, g.first_missing;
