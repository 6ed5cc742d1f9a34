-- 0008: a patient's overrides of their pathway's values, e.g. a lower SpO2
-- limit for a COPD patient whose usual saturation is 87 %. Keys as in
-- hub.pathways.Pathway.with_overrides ("spo2_low", "severity.bp_low").
ALTER TABLE patients ADD COLUMN threshold_overrides jsonb NOT NULL DEFAULT '{}'::jsonb;
