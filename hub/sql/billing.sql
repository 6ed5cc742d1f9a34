-- A month's billing evidence, read in batches of patients, and the month's
-- sign-off (flows/billing_export, migration 0025). Days and months are the
-- patient's own (patients.timezone).

-- The patients of a scope (every patient, or a supervisor's panel: migration
-- 0027's visible_patients), by id, after ``after`` (the last of the previous
-- batch).
-- name: billing_scope_patients
WITH batch AS (
    SELECT s.id, s.timezone FROM visible_patients(%(all)s, %(user_id)s::uuid) s
    WHERE s.id > %(after)s::uuid
    ORDER BY s.id
    LIMIT %(limit)s
)
SELECT b.id, b.timezone, coalesce(ids.identifiers, '[]'::jsonb) AS identifiers
FROM batch b
LEFT JOIN LATERAL (
    SELECT jsonb_agg(jsonb_build_object('system', i.system, 'value', i.value)
                     ORDER BY i.system, i.value) AS identifiers
    FROM patient_identifiers i WHERE i.patient_id = b.id
) ids ON true
ORDER BY b.id;

-- name: billing_scope_count
SELECT count(*) FROM visible_patients(%(all)s, %(user_id)s::uuid);

-- The episodes a month can bill: RPM and CCM ones that overlap it, TCM ones
-- whose service period (from the day of discharge) ends in it, and those of
-- the month's time entries (``episode_ids``: time moved here may be older).
-- What is recorded of them (consent, milestones) is program_records_of_episodes'.
-- name: billing_episodes
SELECT e.id, e.patient_id, e.kind, e.started_on, e.ended_on, e.ordering_name,
       e.ordering_npi, e.discharged_on, e.discharge_setting
FROM program_episodes e
WHERE e.patient_id = ANY(%(patient_ids)s::uuid[])
  AND (CASE WHEN e.kind = 'TCM'
            THEN e.discharged_on BETWEEN %(tcm_from)s::date AND %(tcm_to)s::date
            ELSE e.started_on <= %(last)s::date
                 AND (e.ended_on IS NULL OR e.ended_on >= %(first)s::date) END
       OR e.id = ANY(%(episode_ids)s::bigint[]))
ORDER BY e.patient_id, e.kind, e.started_on, e.id;

-- The scope's days with sensed data from a device registered to the patient,
-- per patient and device, patients by id. The days are bits: the local day
-- ``first + k - 1`` is bit ``k mod 62`` of word ``k / 62`` (three words), so
-- that the readings are folded into one small group per device as they are
-- read. (Bit 0 and those past the window's end are the edges of the UTC
-- bounds: the caller drops them.) Self-reported values do not count; several
-- readings on one day are one. One pass over the readings between
-- ``utc_from`` and ``utc_to``, whatever the number of patients.
-- name: billing_sensed_days
WITH days AS (
    -- OFFSET 0 keeps the subquery whole: each reading's day is computed once,
    -- not once per use of k below.
    SELECT r.patient_id, r.device_id,
           (r.measured_at AT TIME ZONE s.timezone)::date - %(first)s::date + 1 AS k
    FROM visible_patients(%(all)s, %(user_id)s::uuid) s
    JOIN readings r ON r.patient_id = s.id
    WHERE r.modality = 'sensed'
      AND r.measured_at >= %(utc_from)s AND r.measured_at < %(utc_to)s
    OFFSET 0
), bits AS (
    SELECT patient_id, device_id,
           bit_or(CASE WHEN k < 62 THEN 1::int8 << k ELSE 0 END) AS w0,
           bit_or(CASE WHEN k >= 62 AND k < 124 THEN 1::int8 << (k - 62) ELSE 0 END) AS w1,
           bit_or(CASE WHEN k >= 124 THEN 1::int8 << (k - 124) ELSE 0 END) AS w2
    FROM days
    GROUP BY patient_id, device_id
)
SELECT b.patient_id, d.serial, ARRAY[b.w0, b.w1, b.w2] AS words
FROM bits b
JOIN devices d ON d.id = b.device_id AND d.patient_id = b.patient_id
ORDER BY b.patient_id, d.serial;

-- For RPM episodes older than the month's periods: the earliest period before
-- ``before_day`` with at least ``min_days`` days of sensed data, and its first
-- ``min_days`` days (the set-up code is earned once, in the first such period,
-- and that is all that is needed to know it was).
-- name: billing_setup_history
WITH w AS (
    SELECT * FROM unnest(%(episode_ids)s::bigint[], %(patient_ids)s::uuid[],
                         %(zones)s::text[], %(starts)s::date[], %(befores)s::date[])
        AS w(episode_id, patient_id, zone, started_on, before_day)
), days AS (
    SELECT DISTINCT w.episode_id, w.started_on, w.before_day,
           (r.measured_at AT TIME ZONE w.zone)::date AS day
    FROM w
    JOIN readings r ON r.patient_id = w.patient_id
    JOIN devices d ON d.id = r.device_id AND d.patient_id = r.patient_id
    WHERE r.modality = 'sensed'
      AND r.measured_at >= %(utc_from)s AND r.measured_at < %(utc_to)s
), periods AS (
    SELECT episode_id, (day - started_on) / %(period_days)s::int AS k,
           (array_agg(day ORDER BY day))[1:%(min_days)s::int] AS days
    FROM days
    WHERE day >= started_on AND day < before_day
    GROUP BY episode_id, started_on, (day - started_on) / %(period_days)s::int
    HAVING count(*) >= %(min_days)s::int
)
SELECT DISTINCT ON (episode_id) episode_id, days
FROM periods
ORDER BY episode_id, k;

-- The RPM and CCM time billed in a month: entries that count (not corrected,
-- not withdrawn) begun in the patient's month and not moved on, and entries
-- moved to it after their own month was signed (``own_month`` set).
-- name: billing_time_entries
SELECT t.id, t.patient_id, t.episode_id, e.kind, t.started_at, t.seconds, t.activity,
       t.interactive, u.username, NULL::date AS own_month
FROM time_entries t
JOIN program_episodes e ON e.id = t.episode_id
JOIN patients p ON p.id = t.patient_id
JOIN users u ON u.id = t.coordinator_id
WHERE t.patient_id = ANY(%(patient_ids)s::uuid[])
  AND e.kind IN ('RPM', 'CCM')
  AND t.seconds > 0
  AND t.started_at >= %(utc_from)s AND t.started_at < %(utc_to)s
  AND date_trunc('month', t.started_at AT TIME ZONE p.timezone)::date = %(month)s::date
  AND NOT EXISTS (SELECT 1 FROM time_entries c WHERE c.supersedes = t.id)
  AND NOT EXISTS (SELECT 1 FROM billing_late_time l WHERE l.entry_id = t.id)
UNION ALL
SELECT t.id, t.patient_id, t.episode_id, e.kind, t.started_at, t.seconds, t.activity,
       t.interactive, u.username, l.own_month
FROM billing_late_time l
JOIN time_entries t ON t.id = l.entry_id
JOIN program_episodes e ON e.id = t.episode_id
JOIN users u ON u.id = t.coordinator_id
WHERE l.month = %(month)s::date
  AND l.patient_id = ANY(%(patient_ids)s::uuid[])
  AND e.kind IN ('RPM', 'CCM')
  AND t.seconds > 0
  AND NOT EXISTS (SELECT 1 FROM time_entries c WHERE c.supersedes = t.id)
ORDER BY patient_id, started_at, id;

-- Each of the patient's programmes' time in the patient's month holding
-- ``now`` (their calendar, their zone), as the export will count it: the
-- entries that count (not corrected, not withdrawn) billed in that month
-- (billing_month_of_entry: begun in it and not moved on, or moved to it from
-- a signed month), whole minutes per entry. Programmes without time: 0; a
-- patient without programmes: one row, its programme NULL (the month alone).
-- name: patient_month_time
WITH m AS (
    SELECT p.id, p.timezone,
           date_trunc('month', %(now)s::timestamptz AT TIME ZONE p.timezone)::date AS month
    FROM patients p WHERE p.id = %(patient_id)s
)
SELECT m.month, m.timezone, e.id AS episode_id, e.kind,
       coalesce(sum(t.seconds / 60), 0)::int AS minutes
FROM m
LEFT JOIN program_episodes e ON e.patient_id = m.id
LEFT JOIN time_entries t ON t.episode_id = e.id AND t.seconds > 0
     AND NOT EXISTS (SELECT 1 FROM time_entries c WHERE c.supersedes = t.id)
     AND billing_month_of_entry(t.id) = m.month
GROUP BY m.month, m.timezone, e.id, e.kind
ORDER BY e.id;

-- Held by a sign-off while it reads and stores its month; every new time
-- entry shares it (migration 0025's trigger).
-- name: billing_signoff_lock
SELECT pg_advisory_xact_lock(hashtext('lastmile.billing_signoff'));

-- name: billing_time_lock
SELECT pg_advisory_xact_lock_shared(hashtext('lastmile.billing_signoff'));

-- name: billing_signoff
SELECT s.id, s.month, s.scope, s.signed_by, u.username AS signed_by_name, s.signed_at,
       s.format, s.document, s.sha256, s.patient_count, s.row_count
FROM billing_signoffs s JOIN users u ON u.id = s.signed_by
WHERE s.month = %(month)s AND s.scope = %(scope)s;

-- name: insert_billing_signoff
INSERT INTO billing_signoffs (month, scope, signed_by, signed_at, format, document, sha256,
                              patient_count, row_count)
VALUES (%(month)s, %(scope)s, %(signed_by)s, %(signed_at)s, %(format)s, %(document)s,
        %(sha256)s, %(patient_count)s, %(row_count)s)
RETURNING id;

-- name: insert_billing_signed_patients
INSERT INTO billing_signed_patients (month, patient_id, signoff_id)
SELECT %(month)s, unnest(%(patient_ids)s::uuid[]), %(signoff_id)s;

-- Which of these patients' month is signed already.
-- name: billing_signed_among
SELECT patient_id FROM billing_signed_patients
WHERE month = %(month)s AND patient_id = ANY(%(patient_ids)s::uuid[]);

-- The month the patient's entry is billed in, and whether it is signed.
-- name: billing_entry_month
SELECT m.month,
       EXISTS (SELECT 1 FROM billing_signed_patients s
               WHERE s.patient_id = %(patient_id)s AND s.month = m.month) AS signed
FROM (SELECT billing_month_of_entry(t.id) AS month FROM time_entries t
      WHERE t.id = %(entry_id)s AND t.patient_id = %(patient_id)s) m;
