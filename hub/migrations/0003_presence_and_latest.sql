-- 0003: what the non-adherence checks need, kept current by the ingest worker.

-- The latest measurement per patient and measure (a plain table rather than a
-- continuous aggregate, which the Apache edition of TimescaleDB lacks).
CREATE TABLE measure_latest (
    patient_id       uuid NOT NULL REFERENCES patients (id),
    measure          text NOT NULL,
    last_measured_at timestamptz NOT NULL,
    last_received_at timestamptz NOT NULL,
    PRIMARY KEY (patient_id, measure)
);

-- When a device's first reading was accepted.
ALTER TABLE devices ADD COLUMN activated_at timestamptz;

-- Gateway presence from its Last Will / online message on the status topic.
ALTER TABLE gateways ADD COLUMN presence text CHECK (presence IN ('online', 'offline'));
ALTER TABLE gateways ADD COLUMN presence_at timestamptz;
