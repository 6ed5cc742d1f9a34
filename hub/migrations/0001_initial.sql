-- 0001: the spine: patients, gateways, devices, readings, dead letters.
CREATE EXTENSION IF NOT EXISTS timescaledb;

CREATE TABLE patients (
    id             uuid PRIMARY KEY,
    pathway        text NOT NULL DEFAULT 'default'
                   CHECK (pathway IN ('CHF', 'COPD', 'HTN', 'default')),
    discharge_date date,
    enrolled_at    timestamptz NOT NULL DEFAULT now()
);

-- Identifiers given at enrollment (MRN, pharmacy member id, ...); a pair
-- (system, value) names at most one patient.
CREATE TABLE patient_identifiers (
    system     text NOT NULL CHECK (system <> ''),
    value      text NOT NULL CHECK (value <> ''),
    patient_id uuid NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
    PRIMARY KEY (system, value)
);
CREATE INDEX patient_identifiers_patient ON patient_identifiers (patient_id);

-- A gateway speaks MQTT for a patient's devices; its id is its MQTT username
-- and client id.
CREATE TABLE gateways (
    id           text PRIMARY KEY CHECK (id ~ '^gw-[a-z0-9]{8,40}$'),
    label        text,
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz
);

CREATE TABLE devices (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    serial        text NOT NULL UNIQUE CHECK (serial ~ '^[A-Za-z0-9._:-]{1,64}$'),
    kind          text NOT NULL CHECK (kind IN ('scale', 'bp_cuff', 'pulse_oximeter', 'multi')),
    gateway_id    text NOT NULL REFERENCES gateways (id),
    patient_id    uuid NOT NULL REFERENCES patients (id),
    status        text NOT NULL DEFAULT 'registered'
                  CHECK (status IN ('registered', 'active', 'silent', 'retired', 'disabled')),
    registered_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_gateway ON devices (gateway_id);
CREATE INDEX devices_patient ON devices (patient_id);

-- Every stored measurement. Values are normalized to one unit per measure
-- (kg, mmHg, %, beats/min); value2 is the diastolic pressure of a blood
-- pressure reading and NULL otherwise. What the gateway sent is kept in
-- original_*. The natural key makes redelivery and resends idempotent.
CREATE TABLE readings (
    measured_at     timestamptz NOT NULL,
    device_id       bigint NOT NULL REFERENCES devices (id),
    measure         text NOT NULL
                    CHECK (measure IN ('body-weight', 'blood-pressure', 'oxygen-saturation', 'heart-rate')),
    patient_id      uuid NOT NULL,
    value           double precision NOT NULL,
    value2          double precision,
    unit            text NOT NULL,
    original_value  double precision NOT NULL,
    original_value2 double precision,
    original_unit   text NOT NULL,
    modality        text NOT NULL CHECK (modality IN ('sensed', 'self-reported')),
    schema_version  text NOT NULL,
    header_id       text NOT NULL,
    received_at     timestamptz NOT NULL,
    -- set when the value summarizes several measurements (minimum, average, ...)
    descriptive_statistic text,
    CONSTRAINT readings_natural_key UNIQUE (device_id, measure, measured_at)
);
SELECT create_hypertable('readings', 'measured_at', chunk_time_interval => interval '7 days');
CREATE INDEX readings_patient_measure_time ON readings (patient_id, measure, measured_at DESC);

-- Messages or data points that were not stored, with the code sent back to the
-- gateway. notified_at is set once the rejection went out on the errors topic,
-- so a crash between commit and publish is caught up on restart.
CREATE TABLE dead_letters (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at    timestamptz NOT NULL,
    topic          text NOT NULL,
    gateway_id     text,
    device_serial  text,
    header_id      text,
    item_index     integer,
    code           text NOT NULL,
    detail         text NOT NULL,
    payload        bytea NOT NULL,
    payload_sha256 bytea NOT NULL,
    notified_at    timestamptz
);
CREATE INDEX dead_letters_sha ON dead_letters (payload_sha256);
CREATE INDEX dead_letters_pending ON dead_letters (id) WHERE notified_at IS NULL;
CREATE INDEX dead_letters_gateway_time ON dead_letters (gateway_id, received_at DESC);
