-- 0013: Web Push to coordinators. A browser's push subscription belongs to
-- one user; an alert's push goes out through an outbox written in the same
-- transaction as the alert, and alerts/pusher.py drains it.

-- user_id has no foreign key yet: it will reference users (id) once the
-- coordinator accounts are settled.
CREATE TABLE push_subscriptions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         uuid NOT NULL,
    endpoint        text NOT NULL UNIQUE,
    -- The browser's ECDH public key (uncompressed P-256 point) and auth
    -- secret, base64url without padding, as PushSubscription.toJSON() gives them.
    p256dh          text NOT NULL,
    auth            text NOT NULL,
    created_at      timestamptz NOT NULL,
    last_success_at timestamptz,
    -- Failed sends since the last success.
    failures        integer NOT NULL DEFAULT 0 CHECK (failures >= 0)
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);

-- One row per alert and subscription. A row is pending until it is sent
-- (sent_at) or given up (failed_at); next_attempt_at is when it is next due,
-- or, while a pusher holds it, when its claim lapses. Rows of a deleted
-- subscription that were already sent or given up stay, without it.
CREATE TABLE push_outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id        bigint NOT NULL REFERENCES alerts (id),
    subscription_id bigint REFERENCES push_subscriptions (id) ON DELETE SET NULL,
    urgency         text NOT NULL CHECK (urgency IN ('very-low', 'low', 'normal', 'high')),
    -- What the browser receives: ids and generic text only, never PHI.
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL,
    sent_at         timestamptz,
    failed_at       timestamptz,
    last_status     integer,
    last_error      text,
    CHECK (sent_at IS NULL OR failed_at IS NULL),
    CHECK (sent_at IS NOT NULL OR failed_at IS NOT NULL OR subscription_id IS NOT NULL)
);
-- "Due and unsent": the pusher's claim query walks this index only.
CREATE INDEX push_outbox_due ON push_outbox (next_attempt_at, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;
-- Also serves the ON DELETE SET NULL of a deleted subscription.
CREATE INDEX push_outbox_subscription ON push_outbox (subscription_id);
CREATE INDEX push_outbox_alert ON push_outbox (alert_id);
