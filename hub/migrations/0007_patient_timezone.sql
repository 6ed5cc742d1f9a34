-- 0007: the patient's time zone (IANA name). Daily models (the daily minimum
-- weight, the daily mean blood pressure and heart rate) work on the patient's
-- own days, so an evening weighing just after midnight UTC is still today.
ALTER TABLE patients ADD COLUMN timezone text NOT NULL DEFAULT 'UTC';
