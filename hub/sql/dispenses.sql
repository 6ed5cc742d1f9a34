-- name: insert_dispenses
-- Rows of one batch; a dedup_key already stored is skipped. The patient is
-- matched here when the identifier is known, else held (patient_id NULL).
INSERT INTO dispenses (dedup_key, source, identifier, patient_system, patient_value,
                       patient_id, code_system, code, medication, drug, classes,
                       filled_on, days_supply, quantity, received_at, feed_id)
SELECT t.k, %(source)s, t.i, t.ps, t.pv, pi.patient_id, t.cs, t.c, t.m, t.d,
       string_to_array(t.cl, ','), t.f, t.s, t.q, %(received_at)s, %(feed_id)s::text
FROM unnest(%(keys)s::text[], %(identifiers)s::text[], %(patient_systems)s::text[],
            %(patient_values)s::text[], %(code_systems)s::text[], %(codes)s::text[],
            %(medications)s::text[], %(drugs)s::text[], %(classes)s::text[],
            %(filled)s::date[], %(supplies)s::int[], %(quantities)s::float8[])
     AS t(k, i, ps, pv, cs, c, m, d, cl, f, s, q)
LEFT JOIN patient_identifiers pi ON pi.system = t.ps AND pi.value = t.pv
ON CONFLICT (dedup_key) DO NOTHING
RETURNING dedup_key, patient_id;

-- name: match_held_dispenses
-- A patient enrolled (or given an identifier): claim the dispenses held for it.
UPDATE dispenses d SET patient_id = pi.patient_id
FROM patient_identifiers pi
WHERE d.patient_id IS NULL AND pi.patient_id = %(patient_id)s
  AND d.patient_system = pi.system AND d.patient_value = pi.value
RETURNING d.id;

-- name: dispenses_of_patient
SELECT drug, classes, filled_on, days_supply, medication
FROM dispenses WHERE patient_id = %(patient_id)s ORDER BY filled_on, drug;

-- name: refill_fills
-- Classified fills of matched patients since a date (every patient's, or some).
SELECT patient_id, drug, classes, filled_on, days_supply FROM dispenses
WHERE patient_id IS NOT NULL AND cardinality(classes) > 0 AND filled_on >= %(since)s
  AND (%(all)s OR patient_id = ANY(%(patient_ids)s))
ORDER BY patient_id, filled_on;

-- name: device_days
-- Days (the patient's own, first to last) with at least one reading; start and end
-- bound the UTC times widely enough for the index.
SELECT count(DISTINCT (r.measured_at AT TIME ZONE p.timezone)::date)
FROM readings r JOIN patients p ON p.id = r.patient_id
WHERE r.patient_id = %(patient_id)s AND r.measured_at >= %(start)s AND r.measured_at < %(end)s
  AND (r.measured_at AT TIME ZONE p.timezone)::date BETWEEN %(first)s AND %(last)s;
