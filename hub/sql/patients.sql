-- name: insert_patient
INSERT INTO patients (id, pathway, discharge_date, timezone)
VALUES (%(id)s, %(pathway)s, %(discharge_date)s, %(timezone)s)
RETURNING id, pathway, discharge_date, enrolled_at, timezone;

-- name: insert_patient_identifier
INSERT INTO patient_identifiers (system, value, patient_id)
VALUES (%(system)s, %(value)s, %(patient_id)s);

-- name: get_patient
SELECT id, pathway, discharge_date, enrolled_at, timezone FROM patients WHERE id = %(id)s;

-- name: patient_identifiers
SELECT system, value FROM patient_identifiers WHERE patient_id = %(patient_id)s ORDER BY system, value;
