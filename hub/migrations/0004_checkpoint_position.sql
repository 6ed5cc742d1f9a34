-- 0004: a checkpoint names the last reading it covers, in arrival order
-- (received_at, measured_at, device_id, measure), so that it need not be
-- written with every batch: on load the readings stored after it are replayed.
ALTER TABLE detector_checkpoints ADD COLUMN last_measured_at timestamptz;
ALTER TABLE detector_checkpoints ADD COLUMN last_device_id bigint;
ALTER TABLE detector_checkpoints ADD COLUMN last_measure text;
CREATE INDEX readings_patient_received ON readings (patient_id, received_at);
