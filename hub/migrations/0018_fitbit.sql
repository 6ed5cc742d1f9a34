-- 0018: Fitbit connections (devices/fitbit). A patient's Fitbit account is
-- linked by the OAuth 2.0 authorization-code flow; its tokens are kept
-- encrypted (AES-GCM, key from the settings), never in clear. Readings enter
-- through the vendor gateway over MQTT like any gateway's (devices/adapters).

-- One connection per patient. status: connected (pulled), revoked (the user
-- withdrew access at Fitbit: no more pulls), disconnected (revoked from the hub).
CREATE TABLE fitbit_connections (
    patient_id       uuid PRIMARY KEY REFERENCES patients (id),
    fitbit_user_id   text NOT NULL,
    device_id        bigint NOT NULL REFERENCES devices (id),
    status           text NOT NULL CHECK (status IN ('connected', 'revoked', 'disconnected')),
    -- nonce || AES-GCM(access and refresh token as JSON); NULL once not connected
    tokens           bytea,
    expires_at       timestamptz,
    scope            text NOT NULL DEFAULT '',
    -- the Fitbit profile's IANA time zone: Fitbit dates and times are local to it
    timezone         text NOT NULL DEFAULT 'UTC',
    -- the last local day whose daily summaries were all sent (and acknowledged)
    pulled_through   date,
    next_pull_at     timestamptz NOT NULL DEFAULT now(),
    -- Fitbit answered 429: nothing is requested for this account before then
    paused_until     timestamptz,
    connected_at     timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    -- a short machine-readable reason of the last failed pull (no patient values)
    last_error       text
);
-- A Fitbit account feeds at most one connected patient.
CREATE UNIQUE INDEX fitbit_connections_user ON fitbit_connections (fitbit_user_id)
    WHERE status = 'connected';
CREATE INDEX fitbit_connections_due ON fitbit_connections (next_pull_at)
    WHERE status = 'connected';

-- Pending authorizations: the nonce of each signed OAuth state handed out,
-- deleted when its callback uses it (single use) or once it expired.
CREATE TABLE fitbit_auth_states (
    nonce       text PRIMARY KEY,
    patient_id  uuid NOT NULL REFERENCES patients (id),
    expires_at  timestamptz NOT NULL
);

-- Pulls asked for by Fitbit's subscription notifications (the webhook),
-- one per account and local day, done before the periodic ones.
CREATE TABLE fitbit_pull_queue (
    fitbit_user_id  text NOT NULL,
    day             date NOT NULL,
    queued_at       timestamptz NOT NULL,
    PRIMARY KEY (fitbit_user_id, day)
);

GRANT SELECT, INSERT, UPDATE, DELETE
    ON fitbit_connections, fitbit_auth_states, fitbit_pull_queue TO lastmile_app;
