-- 0015: the alert life cycle (open → acknowledged → resolved, snooze, notes),
-- escalation of unacknowledged critical alerts, and coordinators' quiet hours.

ALTER TABLE alerts
    ADD COLUMN acknowledged_at  timestamptz,
    ADD COLUMN acknowledged_by  uuid REFERENCES users (id),
    ADD COLUMN resolved_by      uuid REFERENCES users (id),
    ADD COLUMN snoozed_until    timestamptz,
    -- When the alert became critical; escalation counts from here.
    ADD COLUMN critical_since   timestamptz,
    ADD COLUMN escalation_level integer NOT NULL DEFAULT 0,
    ADD COLUMN escalated_at     timestamptz;
UPDATE alerts SET critical_since = opened_at WHERE severity = 'critical';
CREATE INDEX alerts_escalation ON alerts (critical_since)
    WHERE status = 'open' AND severity = 'critical';
CREATE INDEX alerts_patient_status ON alerts (patient_id, status);

-- Every transition of an alert, timestamped, with who made it (NULL: the
-- hub itself) and the coordinator's note. This is the alert's history, and
-- later the evidence of time spent for billing.
CREATE TABLE alert_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id    bigint NOT NULL REFERENCES alerts (id),
    at          timestamptz NOT NULL,
    actor_id    uuid REFERENCES users (id),
    event       text NOT NULL CHECK (event IN ('opened', 'severity_raised', 'acknowledged',
                    'snoozed', 'note', 'resolved', 'resolved_automatically', 'escalated')),
    from_status text,
    to_status   text,
    note        text,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, at);
INSERT INTO alert_events (alert_id, at, event, to_status)
SELECT id, opened_at, 'opened', 'open' FROM alerts;

-- Quiet hours in the coordinator's own time zone: pushes for alerts that
-- are not critical wait until they end.
ALTER TABLE users
    ADD COLUMN quiet_start time,
    ADD COLUMN quiet_end   time,
    ADD COLUMN timezone    text NOT NULL DEFAULT 'UTC';

-- The time a push for a non-critical alert may go out: ``t`` itself, or the
-- end of the quiet hours ``t`` falls in (a window may span midnight).
CREATE FUNCTION quiet_until(t timestamptz, qs time, qe time, tz text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN qs IS NULL OR qe IS NULL OR qs = qe THEN t
        WHEN qs < qe THEN CASE
            WHEN (t AT TIME ZONE tz)::time >= qs AND (t AT TIME ZONE tz)::time < qe
            THEN ((t AT TIME ZONE tz)::date + qe) AT TIME ZONE tz
            ELSE t END
        ELSE CASE
            WHEN (t AT TIME ZONE tz)::time >= qs
            THEN ((t AT TIME ZONE tz)::date + 1 + qe) AT TIME ZONE tz
            WHEN (t AT TIME ZONE tz)::time < qe
            THEN ((t AT TIME ZONE tz)::date + qe) AT TIME ZONE tz
            ELSE t END
    END
$$;

ALTER TABLE push_subscriptions
    ADD CONSTRAINT push_subscriptions_user FOREIGN KEY (user_id) REFERENCES users (id)
    ON DELETE CASCADE;
