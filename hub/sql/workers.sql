-- Several ingest workers on one database (docs/scaling.md). The advisory
-- locks here all take two int4 keys, the first a namespace (flows/sharing.py,
-- flows/patient_order.py, flows/leader.py): they never meet the one-bigint
-- keys of the checks' lock or the migrations' lock.

-- A batch's per-patient locks, held to the end of its transaction, taken in
-- the order of the keys given (sorted and distinct by the caller), so that two
-- batches never wait for each other in a cycle.
-- name: lock_patients
SELECT count(pg_advisory_xact_lock(%(namespace)s, k)) FROM unnest(%(keys)s::int4[]) AS k;

-- The newest arrival time stored for each of these patients, as the workers of
-- several keep it (a patient not there has no row).
-- name: stream_heads
SELECT patient_id, last_received_at FROM patient_streams
WHERE patient_id = ANY(%(patient_ids)s);

-- The same, from the readings themselves (each chunk's index probed), for the
-- patients patient_streams does not know yet.
-- name: stored_stream_heads
SELECT p.id,
       (SELECT r.received_at FROM readings r WHERE r.patient_id = p.id
        ORDER BY r.received_at DESC LIMIT 1)
FROM unnest(%(patient_ids)s::uuid[]) AS p (id);

-- Each patient's newest reading stored by a batch, in the batch's transaction
-- under the patient's lock: after every reading stored before it.
-- name: advance_stream_heads
INSERT INTO patient_streams (patient_id, last_received_at, last_measured_at, last_device_id,
                             last_measure)
SELECT * FROM unnest(%(patient_ids)s::uuid[], %(received)s::timestamptz[],
                     %(measured)s::timestamptz[], %(devices)s::bigint[], %(measures)s::text[])
ON CONFLICT (patient_id) DO UPDATE
SET last_received_at = EXCLUDED.last_received_at,
    last_measured_at = EXCLUDED.last_measured_at,
    last_device_id = EXCLUDED.last_device_id,
    last_measure = EXCLUDED.last_measure;

-- Where each of these patients' checkpoint stands (not its state), and where
-- their stored readings end (NULL: not known to patient_streams).
-- name: stream_positions
SELECT p.id, c.code_version, c.last_received_at, c.last_measured_at, c.last_device_id,
       c.last_measure, s.last_received_at, s.last_measured_at, s.last_device_id, s.last_measure
FROM unnest(%(patient_ids)s::uuid[]) AS p (id)
LEFT JOIN detector_checkpoints c ON c.patient_id = p.id
LEFT JOIN patient_streams s ON s.patient_id = p.id;

-- A session-level advisory lock (a worker's slot, its membership of the
-- group, the scheduled passes' turn), held until released or the session ends.
-- name: try_session_lock
SELECT pg_try_advisory_lock(%(namespace)s, %(key)s);

-- name: session_unlock
SELECT pg_advisory_unlock(%(namespace)s, %(key)s);

-- name: transaction_lock
SELECT pg_advisory_xact_lock(%(namespace)s, %(key)s);

-- The keys of a namespace's session locks held now in this database, by anyone.
-- name: held_session_locks
SELECT objid::bigint FROM pg_locks
WHERE locktype = 'advisory' AND granted AND objsubid = 2
  AND classid = %(namespace)s::oid
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY 1;

-- name: last_scheduled_run
SELECT max(ran_at) FROM scheduled_runs WHERE pass = %(pass)s;

-- name: record_scheduled_run
INSERT INTO scheduled_runs (pass, ran_at, ran_by) VALUES (%(pass)s, %(ran_at)s, %(ran_by)s)
ON CONFLICT DO NOTHING;

-- name: prune_scheduled_runs
DELETE FROM scheduled_runs WHERE pass = %(pass)s AND ran_at < %(before)s;
