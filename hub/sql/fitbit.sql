-- Vendor adapters (devices/adapters) and Fitbit connections (devices/fitbit).

-- name: ensure_vendor_gateway
INSERT INTO gateways (id, label) VALUES (%(id)s, %(label)s)
ON CONFLICT (id) DO NOTHING;

-- name: device_by_serial
SELECT id, patient_id, gateway_id FROM devices WHERE serial = %(serial)s;

-- name: insert_fitbit_state
INSERT INTO fitbit_auth_states (nonce, patient_id, expires_at)
VALUES (%(nonce)s, %(patient_id)s, %(expires_at)s);

-- name: take_fitbit_state
DELETE FROM fitbit_auth_states
WHERE nonce = %(nonce)s AND patient_id = %(patient_id)s AND expires_at > %(now)s
RETURNING nonce;

-- name: purge_fitbit_states
DELETE FROM fitbit_auth_states WHERE expires_at <= %(now)s;

-- name: upsert_fitbit_connection
INSERT INTO fitbit_connections AS c (
    patient_id, fitbit_user_id, device_id, status, tokens, expires_at, scope,
    pulled_through, next_pull_at, paused_until, connected_at, updated_at, last_error
) VALUES (
    %(patient_id)s, %(fitbit_user_id)s, %(device_id)s, 'connected', %(tokens)s,
    %(expires_at)s, %(scope)s, NULL, %(now)s, NULL, %(now)s, %(now)s, NULL
)
ON CONFLICT (patient_id) DO UPDATE SET
    fitbit_user_id = EXCLUDED.fitbit_user_id, device_id = EXCLUDED.device_id,
    status = 'connected', tokens = EXCLUDED.tokens, expires_at = EXCLUDED.expires_at,
    scope = EXCLUDED.scope,
    -- the same account again keeps its cursor; another one starts afresh
    pulled_through = CASE WHEN c.fitbit_user_id = EXCLUDED.fitbit_user_id
                          THEN c.pulled_through END,
    next_pull_at = EXCLUDED.next_pull_at, paused_until = NULL,
    connected_at = EXCLUDED.connected_at, updated_at = EXCLUDED.updated_at, last_error = NULL;

-- name: fitbit_connection
SELECT patient_id, fitbit_user_id, device_id, status, expires_at, scope, timezone,
       pulled_through, next_pull_at, paused_until, connected_at, updated_at, last_error
FROM fitbit_connections WHERE patient_id = %(patient_id)s;

-- The row lock serializes token refreshes (a refresh token is single-use)
-- and revocation: whoever holds it owns the tokens until commit.
-- name: lock_fitbit_connection
SELECT tokens, expires_at, status, fitbit_user_id, timezone, pulled_through, paused_until
FROM fitbit_connections WHERE patient_id = %(patient_id)s FOR UPDATE;

-- name: store_fitbit_tokens
UPDATE fitbit_connections
SET tokens = %(tokens)s, expires_at = %(expires_at)s, updated_at = %(now)s
WHERE patient_id = %(patient_id)s;

-- name: end_fitbit_connection
UPDATE fitbit_connections
SET status = %(status)s, tokens = NULL, expires_at = NULL, updated_at = %(now)s,
    last_error = %(reason)s
WHERE patient_id = %(patient_id)s AND status = 'connected';

-- name: pause_fitbit_connection
UPDATE fitbit_connections
SET paused_until = %(until)s, updated_at = %(now)s, last_error = 'rate_limited'
WHERE patient_id = %(patient_id)s;

-- name: fitbit_pull_done
UPDATE fitbit_connections
SET pulled_through = greatest(pulled_through, %(pulled_through)s),
    timezone = %(timezone)s, updated_at = %(now)s, last_error = NULL,
    next_pull_at = CASE WHEN %(periodic)s THEN %(next_pull_at)s ELSE next_pull_at END
WHERE patient_id = %(patient_id)s;

-- A failed pull (Fitbit or the broker unavailable) waits before the next try.
-- name: fitbit_pull_failed
UPDATE fitbit_connections
SET last_error = %(reason)s, updated_at = %(now)s, paused_until = %(until)s
WHERE patient_id = %(patient_id)s;

-- name: fitbit_due_connections
SELECT patient_id FROM fitbit_connections
WHERE status = 'connected' AND next_pull_at <= %(now)s
  AND (paused_until IS NULL OR paused_until <= %(now)s)
ORDER BY next_pull_at
LIMIT %(limit)s;

-- name: queue_fitbit_pull
INSERT INTO fitbit_pull_queue (fitbit_user_id, day, queued_at)
VALUES (%(fitbit_user_id)s, %(day)s, %(now)s)
ON CONFLICT (fitbit_user_id, day) DO NOTHING;

-- Queued days of connected accounts that are not paused, oldest first.
-- name: fitbit_queued_pulls
SELECT q.fitbit_user_id, q.day, c.patient_id
FROM fitbit_pull_queue q
JOIN fitbit_connections c ON c.fitbit_user_id = q.fitbit_user_id AND c.status = 'connected'
WHERE c.paused_until IS NULL OR c.paused_until <= %(now)s
ORDER BY q.queued_at, q.day
LIMIT %(limit)s;

-- name: unqueue_fitbit_pull
DELETE FROM fitbit_pull_queue WHERE fitbit_user_id = %(fitbit_user_id)s AND day = %(day)s;

-- Notifications for accounts no patient is connected to are dropped.
-- name: purge_fitbit_queue
DELETE FROM fitbit_pull_queue q
WHERE NOT EXISTS (
    SELECT 1 FROM fitbit_connections c
    WHERE c.fitbit_user_id = q.fitbit_user_id AND c.status = 'connected'
);

-- name: connected_fitbit_patient
SELECT patient_id FROM fitbit_connections
WHERE fitbit_user_id = %(fitbit_user_id)s AND status = 'connected';
