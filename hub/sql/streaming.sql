-- name: checkpoints_for_patients
SELECT patient_id, state, code_version, readings_covered,
       last_received_at, last_measured_at, last_device_id, last_measure
FROM detector_checkpoints WHERE patient_id = ANY(%(patient_ids)s);

-- name: save_checkpoints
INSERT INTO detector_checkpoints (patient_id, state, code_version, readings_covered,
                                  last_received_at, last_measured_at, last_device_id,
                                  last_measure, updated_at)
SELECT p, s, %(code_version)s, c, r, m, d, ms, %(now)s
FROM unnest(%(patient_ids)s::uuid[], %(states)s::bytea[], %(covered)s::bigint[],
            %(received)s::timestamptz[], %(measured)s::timestamptz[], %(devices)s::bigint[],
            %(measures)s::text[]) AS t(p, s, c, r, m, d, ms)
ON CONFLICT (patient_id) DO UPDATE
SET state = EXCLUDED.state, code_version = EXCLUDED.code_version,
    readings_covered = EXCLUDED.readings_covered,
    last_received_at = EXCLUDED.last_received_at,
    last_measured_at = EXCLUDED.last_measured_at,
    last_device_id = EXCLUDED.last_device_id,
    last_measure = EXCLUDED.last_measure,
    updated_at = EXCLUDED.updated_at;

-- name: pathways_for_patients
SELECT id, pathway, timezone, threshold_overrides FROM patients
WHERE id = ANY(%(patient_ids)s);

-- The stored readings of one patient after a position in arrival order (all of
-- them when the position is NULL), to bring a checkpoint up to date or to
-- rebuild the state on a cold start.
-- name: readings_after_positions
-- The stored readings of each patient after its position (all of them where
-- the position is NULL), in arrival order per patient: the columns of
-- hub.reading_row.ScoringRow, in its order.
SELECT r.patient_id, r.device_id, r.measure, r.measured_at, r.value, r.value2, r.received_at,
       r.activity
FROM unnest(%(patient_ids)s::uuid[], %(received)s::timestamptz[], %(measured)s::timestamptz[],
            %(devices)s::bigint[], %(measures)s::text[])
     AS p (patient_id, received_at, measured_at, device_id, measure)
CROSS JOIN LATERAL (
    SELECT * FROM readings
    WHERE readings.patient_id = p.patient_id
      AND (p.received_at IS NULL
           OR (readings.received_at, readings.measured_at, readings.device_id, readings.measure)
              > (p.received_at, p.measured_at, p.device_id, p.measure))
) AS r
ORDER BY r.patient_id, r.received_at, r.measured_at, r.device_id, r.measure;

-- name: adherence_patients
SELECT id, pathway, enrolled_at, discharge_date FROM patients ORDER BY id;

-- name: adherence_latest
SELECT patient_id, measure, last_measured_at FROM measure_latest;

-- name: adherence_recent_readings
SELECT patient_id, measure, measured_at FROM readings
WHERE measured_at >= %(since)s AND measured_at < %(until)s;

-- Every device, retired and disabled ones too (a device-never-active alert
-- clears when its device is retired).
-- name: adherence_devices
SELECT patient_id, id, serial, status, activated_at, registered_at FROM devices;

-- name: offline_gateways
SELECT g.id, g.presence_at, d.patient_id
FROM gateways g JOIN devices d ON d.gateway_id = g.id
WHERE g.presence = 'offline' AND g.presence_at < %(before)s
  AND d.status NOT IN ('retired', 'disabled')
GROUP BY g.id, g.presence_at, d.patient_id;

-- The same facts for the patients whose readings just arrived (the check on
-- arrival, in the batch's transaction, so the batch's readings count).
-- name: arrival_patients
SELECT id, pathway, enrolled_at, discharge_date FROM patients
WHERE id = ANY(%(patient_ids)s) ORDER BY id;

-- (It runs for every batch of a patient with an alert to clear: one newest
-- reading per patient and measure, each an index probe.)
-- name: arrival_latest
SELECT patient_id, measure, max(measured_at) FROM (
    SELECT patient_id, measure, last_measured_at AS measured_at FROM measure_latest
    WHERE patient_id = ANY(%(patient_ids)s)
    UNION ALL
    SELECT p.id, m.measure,
           (SELECT r.measured_at FROM readings r
            WHERE r.patient_id = p.id AND r.measure = m.measure AND r.measured_at >= %(since)s
            ORDER BY r.measured_at DESC LIMIT 1)
    FROM unnest(%(patient_ids)s::uuid[]) AS p (id)
    CROSS JOIN unnest(%(measures)s::text[]) AS m (measure)
) AS t
WHERE measured_at IS NOT NULL
GROUP BY patient_id, measure;

-- name: arrival_recent_readings
SELECT patient_id, measure, measured_at FROM readings
WHERE patient_id = ANY(%(patient_ids)s) AND measured_at >= %(since)s AND measured_at < %(until)s;

-- name: arrival_devices
SELECT patient_id, id, serial, status, activated_at, registered_at FROM devices
WHERE patient_id = ANY(%(patient_ids)s);

-- name: unresolved_alert_kinds_of
-- The kinds of the unresolved alerts of these patients (on the partial unique
-- index alerts_one_unresolved_per_kind): a monitor's open kind without one
-- was resolved (streaming/service.py, MonitorCache).
SELECT patient_id, kind FROM alerts
WHERE status <> 'resolved' AND patient_id = ANY(%(patient_ids)s);

-- The unresolved alerts of every patient (`all`) or of some, each with what
-- its headline names: the measure, the observations and the window start of
-- its newest evidence (streaming/clearing.py).
-- name: unresolved_alert_headlines
SELECT a.patient_id, a.kind, a.severity, e.measure, e.observed, e.window_start
FROM alerts a
LEFT JOIN LATERAL (
    SELECT measure, observed, window_start FROM alert_evidence
    WHERE alert_id = a.id ORDER BY detected_at DESC, id DESC LIMIT 1
) e ON true
WHERE a.status <> 'resolved' AND (%(all)s OR a.patient_id = ANY(%(patient_ids)s));

-- A gateway said `online`: its patients whose gateway-offline alert it ends,
-- those with no other gateway still offline.
-- name: patients_back_online
SELECT DISTINCT d.patient_id FROM devices d
WHERE d.gateway_id = %(id)s AND d.status NOT IN ('retired', 'disabled')
  AND NOT EXISTS (
      SELECT 1 FROM devices o JOIN gateways g ON g.id = o.gateway_id
      WHERE o.patient_id = d.patient_id AND o.status NOT IN ('retired', 'disabled')
        AND g.presence = 'offline')
ORDER BY d.patient_id;

-- The lock between the scheduled pass (exclusive) and the checks of each
-- ingest batch (shared), held to the end of the transaction
-- (streaming/schedule.py, hold_checks_lock). The key is the checks' own.
-- name: checks_lock
SELECT pg_advisory_xact_lock(7811235904412053);

-- name: checks_lock_shared
SELECT pg_advisory_xact_lock_shared(7811235904412053);
