-- 0002: alerts with their evidence, and detector checkpoints.

-- One alert per patient and kind while it is not resolved; new evidence
-- attaches to it (alert_evidence) instead of opening another.
CREATE TABLE alerts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id   uuid NOT NULL REFERENCES patients (id),
    kind         text NOT NULL,
    severity     text NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    status       text NOT NULL DEFAULT 'open'
                 CHECK (status IN ('open', 'acknowledged', 'resolved')),
    source       text NOT NULL,
    reason       text NOT NULL,
    opened_at    timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    resolved_at  timestamptz,
    CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
);
CREATE UNIQUE INDEX alerts_one_unresolved_per_kind ON alerts (patient_id, kind)
    WHERE status <> 'resolved';
CREATE INDEX alerts_status_opened ON alerts (status, opened_at DESC);

-- Why an alert fired: which rule or model, the values, the baseline or
-- threshold they were compared with, and the time window of the readings.
CREATE TABLE alert_evidence (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id     bigint NOT NULL REFERENCES alerts (id),
    detected_at  timestamptz NOT NULL,
    source       text NOT NULL,
    measure      text,
    severity     text NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    observed     jsonb NOT NULL,
    baseline     jsonb NOT NULL,
    window_start timestamptz NOT NULL,
    window_end   timestamptz NOT NULL,
    reason       text NOT NULL
);
CREATE INDEX alert_evidence_alert ON alert_evidence (alert_id, detected_at);

-- Per-patient detector state, committed in the same transaction as the
-- readings it covers. code_version changes when the detectors change: the
-- state is then rebuilt from the stored history.
CREATE TABLE detector_checkpoints (
    patient_id       uuid PRIMARY KEY REFERENCES patients (id),
    state            bytea NOT NULL,
    code_version     integer NOT NULL,
    readings_covered bigint NOT NULL,
    last_received_at timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
