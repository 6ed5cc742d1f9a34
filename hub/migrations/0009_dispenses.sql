-- 0009: pharmacy dispenses (fills), from every way in (MQTT, HTTP, CSV).
-- The patient is matched by (patient_system, patient_value) against the
-- identifiers given at enrolment; until then patient_id is NULL and the
-- dispense is held, not dropped. dedup_key is the contract's idempotency
-- rule: the dispense identifier, else patient + drug + fill date.
CREATE TABLE dispenses (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedup_key      text NOT NULL UNIQUE,
    source         text NOT NULL CHECK (source IN ('mqtt', 'http', 'csv')),
    identifier     text,
    patient_system text NOT NULL,
    patient_value  text NOT NULL,
    patient_id     uuid REFERENCES patients (id) ON DELETE CASCADE,
    code_system    text,
    code           text,
    medication     text,
    -- The drug for PDC's same-drug rule (its known ingredients, '+'-joined;
    -- '' when none is known) and its classes (streaming/data/drug_classes.csv).
    drug           text NOT NULL,
    classes        text[] NOT NULL,
    filled_on      date NOT NULL,
    days_supply    integer NOT NULL CHECK (days_supply > 0),
    quantity       double precision,
    received_at    timestamptz NOT NULL
);
CREATE INDEX dispenses_patient_filled ON dispenses (patient_id, filled_on);
CREATE INDEX dispenses_held ON dispenses (patient_system, patient_value)
    WHERE patient_id IS NULL;
