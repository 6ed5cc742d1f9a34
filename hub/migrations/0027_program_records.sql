-- 0027: the care programmes' shared vocabulary (hub/care_programs.py). The
-- discharge settings are the rules engine's too, so the ones CMS lists for
-- transitional care beside the four 0023 took (and the emergency department,
-- which the rules say does not qualify) can be recorded.
ALTER TABLE program_episodes DROP CONSTRAINT program_episodes_discharge_setting_check;
ALTER TABLE program_episodes ADD CONSTRAINT program_episodes_discharge_setting_check
    CHECK (discharge_setting IN ('inpatient', 'inpatient_psychiatric', 'long_term_care_hospital',
                                 'skilled_nursing', 'inpatient_rehabilitation', 'observation',
                                 'partial_hospitalization', 'emergency_department'));
