-- Care programmes and the coordinator's time log (programs/, migrations 0023 and 0028).

-- name: patient_timezone
SELECT timezone FROM patients WHERE id = %(patient_id)s;

-- name: insert_program_episode
INSERT INTO program_episodes (patient_id, kind, started_on, ordering_name, ordering_npi,
                              conditions, discharged_on, discharge_setting, created_by,
                              created_at)
VALUES (%(patient_id)s, %(kind)s, %(started_on)s, %(ordering_name)s, %(ordering_npi)s,
        %(conditions)s, %(discharged_on)s, %(discharge_setting)s, %(actor)s, %(now)s)
RETURNING id;

-- The patient's episodes, the newest first; with the patient's time zone.
-- name: program_episodes_of_patient
SELECT e.*, p.timezone FROM program_episodes e JOIN patients p ON p.id = e.patient_id
WHERE e.patient_id = %(patient_id)s
ORDER BY e.started_on DESC, e.id DESC;

-- The open episodes of the kinds, of every patient or of ``patient_ids``;
-- with the patient's time zone.
-- name: open_program_episodes
SELECT e.*, p.timezone FROM program_episodes e JOIN patients p ON p.id = e.patient_id
WHERE e.ended_on IS NULL AND e.kind = ANY(%(kinds)s)
  AND (%(all)s OR e.patient_id = ANY(%(patient_ids)s))
ORDER BY e.patient_id, e.id;

-- The patients with an open episode of the kinds (all, or of ``patient_ids``), by id.
-- name: patients_with_open_episodes
SELECT DISTINCT e.patient_id FROM program_episodes e
WHERE e.ended_on IS NULL AND e.kind = ANY(%(kinds)s)
  AND (%(all)s OR e.patient_id = ANY(%(patient_ids)s))
ORDER BY e.patient_id;

-- name: program_episode
SELECT e.*, p.timezone FROM program_episodes e JOIN patients p ON p.id = e.patient_id
WHERE e.id = %(id)s AND e.patient_id = %(patient_id)s;

-- name: program_episode_for_update
SELECT e.*, p.timezone FROM program_episodes e JOIN patients p ON p.id = e.patient_id
WHERE e.id = %(id)s AND e.patient_id = %(patient_id)s
FOR UPDATE OF e;

-- Whether an episode of the kind is open, and the last end of a closed one.
-- name: program_kind_span
SELECT bool_or(ended_on IS NULL) AS any_open, max(ended_on) AS last_end
FROM program_episodes WHERE patient_id = %(patient_id)s AND kind = %(kind)s;

-- name: open_program_episode_ids
SELECT id FROM program_episodes
WHERE patient_id = %(patient_id)s AND ended_on IS NULL
ORDER BY id;

-- name: insert_program_record
INSERT INTO program_records (episode_id, patient_id, fact, on_date, at_time, method, performer,
                             complexity, attempted_by, note, recorded_by, recorded_at,
                             supersedes, reason, withdrawn)
VALUES (%(episode_id)s, %(patient_id)s, %(fact)s, %(on_date)s, %(at_time)s, %(method)s,
        %(performer)s, %(complexity)s, %(attempted_by)s, %(note)s, %(recorded_by)s,
        %(recorded_at)s, %(supersedes)s, %(reason)s, %(withdrawn)s)
RETURNING id;

-- What is recorded of the episodes, oldest first, corrected rows too: each with
-- the correction that supersedes it, if any, and the user names of who
-- recorded it (and of who attempted a contact).
-- name: program_records_of_episodes
SELECT r.id, r.episode_id, r.fact, r.on_date, r.at_time, r.method, r.performer, r.complexity,
       r.attempted_by, a.username AS attempted_by_name, r.note, r.recorded_by,
       u.username AS recorded_by_name, r.recorded_at, r.supersedes, r.reason, r.withdrawn,
       c.id AS superseded_by
FROM program_records r
LEFT JOIN program_records c ON c.supersedes = r.id
LEFT JOIN users u ON u.id = r.recorded_by
LEFT JOIN users a ON a.id = r.attempted_by
WHERE r.episode_id = ANY(%(episode_ids)s::bigint[])
ORDER BY r.episode_id, r.id;


-- name: close_program_episode
UPDATE program_episodes SET ended_on = %(ended_on)s, ended_by = %(actor)s
WHERE id = %(id)s;

-- The starts of the episode's first and last entries whose time counts (a
-- correction moving one elsewhere, or to 0 s, takes it out).
-- name: program_episode_time_span
SELECT min(t.started_at), max(t.started_at) FROM time_entries t
WHERE t.episode_id = %(id)s AND t.seconds > 0
  AND NOT EXISTS (SELECT 1 FROM time_entries c WHERE c.supersedes = t.id);

-- name: insert_time_entry
INSERT INTO time_entries (episode_id, patient_id, coordinator_id, started_at, ended_at,
                          seconds, activity, interactive, note, alert_id, source,
                          supersedes, reason, recorded_by, recorded_at)
VALUES (%(episode_id)s, %(patient_id)s, %(coordinator_id)s, %(started_at)s, %(ended_at)s,
        %(seconds)s, %(activity)s, %(interactive)s, %(note)s, %(alert_id)s, %(source)s,
        %(supersedes)s, %(reason)s, %(recorded_by)s, %(recorded_at)s)
RETURNING id;

-- The patient's entries, oldest first, optionally of one episode and from
-- ``since`` (inclusive) to ``until`` (exclusive); each with its episode's kind
-- and the correction that replaces it, if any.
-- name: time_entries_of_patient
SELECT t.*, e.kind, c.id AS superseded_by
FROM time_entries t
JOIN program_episodes e ON e.id = t.episode_id
LEFT JOIN time_entries c ON c.supersedes = t.id
WHERE t.patient_id = %(patient_id)s
  AND (%(episode_id)s::bigint IS NULL OR t.episode_id = %(episode_id)s)
  AND (%(since)s::timestamptz IS NULL OR t.started_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR t.started_at < %(until)s)
ORDER BY t.started_at, t.id
LIMIT %(limit)s;

-- name: time_entry
SELECT t.*, e.kind, c.id AS superseded_by
FROM time_entries t
JOIN program_episodes e ON e.id = t.episode_id
LEFT JOIN time_entries c ON c.supersedes = t.id
WHERE t.id = %(id)s AND t.patient_id = %(patient_id)s;

-- name: alert_is_patients
SELECT EXISTS (SELECT 1 FROM alerts WHERE id = %(alert_id)s AND patient_id = %(patient_id)s);

-- A second start (another tab) finds the running timer and leaves it be.
-- name: start_timer
INSERT INTO running_timers (coordinator_id, patient_id, episode_id, alert_id, started_at)
VALUES (%(coordinator_id)s, %(patient_id)s, %(episode_id)s, %(alert_id)s, %(now)s)
ON CONFLICT (coordinator_id, patient_id) DO NOTHING;

-- name: running_timer
SELECT coordinator_id, patient_id, episode_id, alert_id, started_at FROM running_timers
WHERE coordinator_id = %(coordinator_id)s AND patient_id = %(patient_id)s;

-- name: take_timer
DELETE FROM running_timers
WHERE coordinator_id = %(coordinator_id)s AND patient_id = %(patient_id)s
RETURNING coordinator_id, patient_id, episode_id, alert_id, started_at;
