-- Vendor adapters (devices/adapters) and vendor cloud connections (devices/cloud).
-- Every row is keyed by its vendor ('fitbit', 'withings', ...).

-- name: ensure_vendor_gateway
INSERT INTO gateways (id, label) VALUES (%(id)s, %(label)s)
ON CONFLICT (id) DO NOTHING;

-- name: device_by_serial
SELECT id, patient_id, gateway_id FROM devices WHERE serial = %(serial)s;

-- name: insert_vendor_state
INSERT INTO vendor_auth_states (nonce, vendor, patient_id, expires_at)
VALUES (%(nonce)s, %(vendor)s, %(patient_id)s, %(expires_at)s);

-- name: take_vendor_state
DELETE FROM vendor_auth_states
WHERE nonce = %(nonce)s AND vendor = %(vendor)s AND patient_id = %(patient_id)s
  AND expires_at > %(now)s
RETURNING nonce;

-- name: purge_vendor_states
DELETE FROM vendor_auth_states WHERE expires_at <= %(now)s;

-- name: upsert_vendor_connection
INSERT INTO vendor_connections AS c (
    vendor, patient_id, account_id, device_id, status, tokens, expires_at, scope,
    pulled_through, next_pull_at, paused_until, connected_at, updated_at, last_error
) VALUES (
    %(vendor)s, %(patient_id)s, %(account_id)s, %(device_id)s, 'connected', %(tokens)s,
    %(expires_at)s, %(scope)s, NULL, %(now)s, NULL, %(now)s, %(now)s, NULL
)
ON CONFLICT (vendor, patient_id) DO UPDATE SET
    account_id = EXCLUDED.account_id, device_id = EXCLUDED.device_id,
    status = 'connected', tokens = EXCLUDED.tokens, expires_at = EXCLUDED.expires_at,
    scope = EXCLUDED.scope,
    -- the same account again keeps its cursor; another one starts afresh
    pulled_through = CASE WHEN c.account_id = EXCLUDED.account_id
                          THEN c.pulled_through END,
    next_pull_at = EXCLUDED.next_pull_at, paused_until = NULL,
    connected_at = EXCLUDED.connected_at, updated_at = EXCLUDED.updated_at, last_error = NULL;

-- A connection, with its patient's own time zone (the days the hub asks for are in it).
-- name: vendor_connection
SELECT c.vendor, c.patient_id, c.account_id, c.device_id, c.status, c.expires_at, c.scope,
       c.timezone, p.timezone AS patient_timezone, c.pulled_through, c.next_pull_at,
       c.paused_until, c.connected_at, c.updated_at, c.last_error
FROM vendor_connections c JOIN patients p ON p.id = c.patient_id
WHERE c.vendor = %(vendor)s AND c.patient_id = %(patient_id)s;

-- The row lock serializes token refreshes (a refresh token may be single-use)
-- and revocation: whoever holds it owns the tokens until commit.
-- name: lock_vendor_connection
SELECT tokens, expires_at, status, account_id, timezone, pulled_through, paused_until
FROM vendor_connections WHERE vendor = %(vendor)s AND patient_id = %(patient_id)s
FOR UPDATE;

-- name: store_vendor_tokens
UPDATE vendor_connections
SET tokens = %(tokens)s, expires_at = %(expires_at)s, updated_at = %(now)s
WHERE vendor = %(vendor)s AND patient_id = %(patient_id)s;

-- name: end_vendor_connection
UPDATE vendor_connections
SET status = %(status)s, tokens = NULL, expires_at = NULL, updated_at = %(now)s,
    last_error = %(reason)s
WHERE vendor = %(vendor)s AND patient_id = %(patient_id)s AND status = 'connected';

-- name: pause_vendor_connection
UPDATE vendor_connections
SET paused_until = %(until)s, updated_at = %(now)s, last_error = 'rate_limited'
WHERE vendor = %(vendor)s AND patient_id = %(patient_id)s;

-- name: vendor_pull_done
UPDATE vendor_connections
SET pulled_through = greatest(pulled_through, %(pulled_through)s),
    timezone = %(timezone)s, updated_at = %(now)s, last_error = NULL,
    next_pull_at = CASE WHEN %(periodic)s THEN %(next_pull_at)s ELSE next_pull_at END
WHERE vendor = %(vendor)s AND patient_id = %(patient_id)s;

-- A failed pull (the vendor or the broker unavailable) waits before the next try.
-- name: vendor_pull_failed
UPDATE vendor_connections
SET last_error = %(reason)s, updated_at = %(now)s, paused_until = %(until)s
WHERE vendor = %(vendor)s AND patient_id = %(patient_id)s;

-- name: vendor_due_connections
SELECT patient_id FROM vendor_connections
WHERE vendor = %(vendor)s AND status = 'connected' AND next_pull_at <= %(now)s
  AND (paused_until IS NULL OR paused_until <= %(now)s)
ORDER BY next_pull_at
LIMIT %(limit)s;

-- name: queue_vendor_pull
INSERT INTO vendor_pull_queue (vendor, account_id, day, queued_at)
VALUES (%(vendor)s, %(account_id)s, %(day)s, %(now)s)
ON CONFLICT (vendor, account_id, day) DO NOTHING;

-- Queued days of connected accounts that are not paused, oldest first.
-- name: vendor_queued_pulls
SELECT q.account_id, q.day, c.patient_id
FROM vendor_pull_queue q
JOIN vendor_connections c
  ON c.vendor = q.vendor AND c.account_id = q.account_id AND c.status = 'connected'
WHERE q.vendor = %(vendor)s AND (c.paused_until IS NULL OR c.paused_until <= %(now)s)
ORDER BY q.queued_at, q.day
LIMIT %(limit)s;

-- name: unqueue_vendor_pull
DELETE FROM vendor_pull_queue
WHERE vendor = %(vendor)s AND account_id = %(account_id)s AND day = %(day)s;

-- Notifications for accounts no patient is connected to are dropped.
-- name: purge_vendor_queue
DELETE FROM vendor_pull_queue q
WHERE q.vendor = %(vendor)s AND NOT EXISTS (
    SELECT 1 FROM vendor_connections c
    WHERE c.vendor = q.vendor AND c.account_id = q.account_id AND c.status = 'connected'
);

-- name: connected_vendor_patient
SELECT c.patient_id, p.timezone FROM vendor_connections c JOIN patients p ON p.id = c.patient_id
WHERE c.vendor = %(vendor)s AND c.account_id = %(account_id)s AND c.status = 'connected';
