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
