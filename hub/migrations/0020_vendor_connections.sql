-- 0020: vendor clouds as plugins (devices/cloud). The Fitbit-named tables of
-- 0018 become vendor-keyed ones, every Fitbit row moving over with vendor
-- 'fitbit' (its sealed tokens still open: the sealer derives Fitbit's keys
-- as before). A second vendor (Withings) adds rows, not tables.

-- One connection per patient and vendor. status: connected (pulled), revoked
-- (the user withdrew access at the vendor: no more pulls), disconnected
-- (revoked from the hub).
CREATE TABLE vendor_connections (
    vendor           text NOT NULL,
    patient_id       uuid NOT NULL REFERENCES patients (id),
    -- the account's id at the vendor (Fitbit's user id, Withings' userid)
    account_id       text NOT NULL,
    device_id        bigint NOT NULL REFERENCES devices (id),
    status           text NOT NULL CHECK (status IN ('connected', 'revoked', 'disconnected')),
    -- nonce || AES-GCM(access and refresh token as JSON); NULL once not connected
    tokens           bytea,
    expires_at       timestamptz,
    scope            text NOT NULL DEFAULT '',
    -- the account's IANA time zone: the vendor's local dates and times are in it
    timezone         text NOT NULL DEFAULT 'UTC',
    -- the last local day whose data was all sent (and acknowledged)
    pulled_through   date,
    next_pull_at     timestamptz NOT NULL DEFAULT now(),
    -- the vendor's rate limit: nothing is requested for this account before then
    paused_until     timestamptz,
    connected_at     timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    -- a short machine-readable reason of the last failed pull (no patient values)
    last_error       text,
    PRIMARY KEY (vendor, patient_id),
    CHECK (vendor ~ '^[a-z][a-z0-9]{1,31}$')
);
-- An account at a vendor feeds at most one connected patient.
CREATE UNIQUE INDEX vendor_connections_account ON vendor_connections (vendor, account_id)
    WHERE status = 'connected';
CREATE INDEX vendor_connections_due ON vendor_connections (vendor, next_pull_at)
    WHERE status = 'connected';

-- Pending authorizations: the nonce of each signed OAuth state handed out,
-- deleted when its callback uses it (single use) or once it expired.
CREATE TABLE vendor_auth_states (
    nonce       text PRIMARY KEY,
    vendor      text NOT NULL,
    patient_id  uuid NOT NULL REFERENCES patients (id),
    expires_at  timestamptz NOT NULL
);

-- Pulls asked for by the vendors' notifications (the webhooks), one per
-- account and local day, done before the periodic ones.
CREATE TABLE vendor_pull_queue (
    vendor      text NOT NULL,
    account_id  text NOT NULL,
    day         date NOT NULL,
    queued_at   timestamptz NOT NULL,
    PRIMARY KEY (vendor, account_id, day)
);

INSERT INTO vendor_connections (
    vendor, patient_id, account_id, device_id, status, tokens, expires_at, scope, timezone,
    pulled_through, next_pull_at, paused_until, connected_at, updated_at, last_error
)
SELECT 'fitbit', patient_id, fitbit_user_id, device_id, status, tokens, expires_at, scope,
       timezone, pulled_through, next_pull_at, paused_until, connected_at, updated_at,
       last_error
FROM fitbit_connections;

INSERT INTO vendor_auth_states (nonce, vendor, patient_id, expires_at)
SELECT nonce, 'fitbit', patient_id, expires_at FROM fitbit_auth_states;

INSERT INTO vendor_pull_queue (vendor, account_id, day, queued_at)
SELECT 'fitbit', fitbit_user_id, day, queued_at FROM fitbit_pull_queue;

DROP TABLE fitbit_pull_queue, fitbit_auth_states, fitbit_connections;

GRANT SELECT, INSERT, UPDATE, DELETE
    ON vendor_connections, vendor_auth_states, vendor_pull_queue TO lastmile_app;
