-- 0014: what enrollment records about the patient's condition and index stay,
-- and the readmission-risk scores computed from it (streaming.discharge_risk),
-- stored once so that the worklist never recomputes them.

-- Free-text or coded conditions (e.g. 'heart failure', 'I50.9'), as given.
ALTER TABLE patients ADD COLUMN conditions text[] NOT NULL DEFAULT '{}';
-- The discharge-risk inputs as given at enrollment (DischargeInputs' field
-- names as keys; an input not known is left out). Kept for display and for
-- rescoring should the scores change.
ALTER TABLE patients ADD COLUMN discharge_inputs jsonb NOT NULL DEFAULT '{}'::jsonb
    CHECK (jsonb_typeof(discharge_inputs) = 'object');
-- LACE index (0-19) and HOSPITAL score (0-13); NULL when an input was missing.
ALTER TABLE patients ADD COLUMN lace smallint CHECK (lace BETWEEN 0 AND 19);
ALTER TABLE patients ADD COLUMN hospital smallint CHECK (hospital BETWEEN 0 AND 13);
-- Both scores on one 0..1 ranking scale (the mean of those computable); NULL
-- when neither is.
ALTER TABLE patients ADD COLUMN discharge_risk double precision
    CHECK (discharge_risk >= 0 AND discharge_risk <= 1);

-- The worklist's high-risk flag is "in the top 15 % of all enrolled patients
-- by discharge risk": the k-th largest risk, read down this index.
CREATE INDEX patients_discharge_risk ON patients (discharge_risk DESC)
    WHERE discharge_risk IS NOT NULL;
