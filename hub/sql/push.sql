-- Web Push: coordinators' browser subscriptions and the alert push outbox
-- (alerts/push.py writes it, alerts/pusher.py drains it).

-- name: upsert_push_subscription
-- A browser that subscribes again keeps its row: the endpoint is the key.
INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at)
VALUES (%(user_id)s, %(endpoint)s, %(p256dh)s, %(auth)s, %(now)s)
ON CONFLICT (endpoint) DO UPDATE
SET user_id = EXCLUDED.user_id, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth, failures = 0
RETURNING id;

-- name: lock_push_subscription
SELECT user_id FROM push_subscriptions WHERE id = %(id)s FOR UPDATE;

-- name: delete_pending_push_for_subscription
DELETE FROM push_outbox
WHERE subscription_id = %(subscription_id)s AND sent_at IS NULL AND failed_at IS NULL;

-- name: delete_push_subscription
DELETE FROM push_subscriptions WHERE id = %(id)s;

-- name: enqueue_alert_push
-- One pending push per subscription of the recipients: due at once when
-- urgent, else when the recipient's quiet hours end (quiet_until, 0015).
-- Its TTL counts from then.
INSERT INTO push_outbox (alert_id, subscription_id, urgency, payload, created_at,
                         next_attempt_at)
SELECT %(alert_id)s, s.id, %(urgency)s, %(payload)s, d.due, d.due
FROM push_subscriptions s
JOIN users u ON u.id = s.user_id
CROSS JOIN LATERAL (
    SELECT CASE WHEN %(urgency)s = 'high' THEN %(now)s
                ELSE quiet_until(%(now)s, u.quiet_start, u.quiet_end, u.timezone) END AS due
) d
WHERE s.user_id = ANY(%(user_ids)s)
ORDER BY s.id
RETURNING id;

-- name: claim_due_push
-- Claim the due pushes no other pusher holds: each counts as an attempt and
-- is due again at lease_until unless its outcome is recorded before then
-- (a pusher that dies mid-send is retried, within the attempt bound).
WITH due AS (
    SELECT id FROM push_outbox
    WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= %(now)s
    ORDER BY next_attempt_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE push_outbox o
SET attempts = o.attempts + 1, next_attempt_at = %(lease_until)s
FROM due, push_subscriptions s
WHERE o.id = due.id AND s.id = o.subscription_id
RETURNING o.id, o.alert_id, o.urgency, o.payload, o.attempts, o.created_at,
          s.id AS subscription_id, s.endpoint, s.p256dh, s.auth;

-- name: mark_push_sent
UPDATE push_outbox SET sent_at = %(now)s, last_status = %(status)s, last_error = NULL
WHERE id = %(id)s AND sent_at IS NULL AND failed_at IS NULL;

-- name: retry_push_later
UPDATE push_outbox
SET next_attempt_at = %(next_attempt_at)s, last_status = %(status)s, last_error = %(error)s
WHERE id = %(id)s AND sent_at IS NULL AND failed_at IS NULL;

-- name: give_up_push
UPDATE push_outbox SET failed_at = %(now)s, last_status = %(status)s, last_error = %(error)s
WHERE id = %(id)s AND sent_at IS NULL AND failed_at IS NULL;

-- name: push_subscription_succeeded
UPDATE push_subscriptions SET last_success_at = %(now)s, failures = 0 WHERE id = %(id)s;

-- name: push_subscription_failed
UPDATE push_subscriptions SET failures = failures + 1 WHERE id = %(id)s;
