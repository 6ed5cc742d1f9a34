-- name: checkpoints_for_patients
SELECT patient_id, state, code_version, readings_covered
FROM detector_checkpoints WHERE patient_id = ANY(%(patient_ids)s);

-- name: save_checkpoint
INSERT INTO detector_checkpoints (patient_id, state, code_version, readings_covered,
                                  last_received_at, updated_at)
VALUES (%(patient_id)s, %(state)s, %(code_version)s, %(readings_covered)s,
        %(last_received_at)s, %(now)s)
ON CONFLICT (patient_id) DO UPDATE
SET state = EXCLUDED.state, code_version = EXCLUDED.code_version,
    readings_covered = EXCLUDED.readings_covered,
    last_received_at = EXCLUDED.last_received_at, updated_at = EXCLUDED.updated_at;

-- name: pathways_for_patients
SELECT id, pathway FROM patients WHERE id = ANY(%(patient_ids)s);

-- Stored history of one patient in arrival order, to rebuild detector state
-- on a cold start.
-- name: history_of_patient
SELECT patient_id, device_id, measure, measured_at, value, value2, received_at
FROM readings
WHERE patient_id = %(patient_id)s
ORDER BY received_at, measured_at;
