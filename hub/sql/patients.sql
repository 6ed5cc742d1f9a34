-- name: insert_patient
INSERT INTO patients (id, pathway, discharge_date, timezone, threshold_overrides, conditions,
                      discharge_inputs, lace, hospital, discharge_risk)
VALUES (%(id)s, %(pathway)s, %(discharge_date)s, %(timezone)s, %(threshold_overrides)s,
        %(conditions)s, %(discharge_inputs)s, %(lace)s, %(hospital)s, %(discharge_risk)s)
RETURNING id, pathway, discharge_date, enrolled_at, timezone, threshold_overrides, conditions,
          discharge_inputs, lace, hospital, discharge_risk;

-- name: insert_patient_identifier
INSERT INTO patient_identifiers (system, value, patient_id)
VALUES (%(system)s, %(value)s, %(patient_id)s);

-- name: get_patient
SELECT id, pathway, discharge_date, enrolled_at, timezone, threshold_overrides, conditions,
       discharge_inputs, lace, hospital, discharge_risk
FROM patients WHERE id = %(id)s;

-- name: patient_identifiers
SELECT system, value FROM patient_identifiers WHERE patient_id = %(patient_id)s ORDER BY system, value;
