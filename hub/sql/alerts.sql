-- name: unresolved_alert_for_update
SELECT id, severity FROM alerts
WHERE patient_id = %(patient_id)s AND kind = %(kind)s AND status <> 'resolved'
FOR UPDATE;

-- name: insert_alert
INSERT INTO alerts (patient_id, kind, severity, source, reason, opened_at, updated_at,
                    critical_since)
VALUES (%(patient_id)s, %(kind)s, %(severity)s, %(source)s, %(reason)s, %(now)s, %(now)s,
        CASE WHEN %(severity)s = 'critical' THEN %(now)s::timestamptz END)
RETURNING id;

-- New evidence at the alert's severity or above: its headline. A rise in
-- severity reopens an acknowledged alert (someone must look again).
-- name: escalate_alert
UPDATE alerts SET severity = %(severity)s, source = %(source)s, reason = %(reason)s,
                  updated_at = %(now)s,
                  status = CASE WHEN %(raised)s THEN 'open' ELSE status END,
                  critical_since = CASE WHEN %(severity)s = 'critical'
                                        THEN coalesce(critical_since, %(now)s) END
WHERE id = %(id)s
RETURNING status;

-- name: touch_alert
UPDATE alerts SET updated_at = %(now)s WHERE id = %(id)s;

-- name: insert_alert_evidence
INSERT INTO alert_evidence (alert_id, detected_at, source, measure, severity, observed,
                            baseline, window_start, window_end, reason)
VALUES (%(alert_id)s, %(now)s, %(source)s, %(measure)s, %(severity)s, %(observed)s,
        %(baseline)s, %(window_start)s, %(window_end)s, %(reason)s);

-- name: recent_alerts
SELECT a.id, a.patient_id, a.kind, a.severity, a.status, a.source, a.reason, a.opened_at,
       a.updated_at, count(e.id) AS evidence
FROM alerts a LEFT JOIN alert_evidence e ON e.alert_id = a.id
WHERE a.status <> 'resolved' OR a.updated_at > now() - interval '7 days'
GROUP BY a.id
ORDER BY CASE a.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END,
         a.updated_at DESC
LIMIT %(limit)s;

-- name: resolve_alert_automatically
-- The condition behind an unresolved alert is gone (e.g. the refill came).
UPDATE alerts SET status = 'resolved', resolved_at = %(now)s, updated_at = %(now)s,
                  snoozed_until = NULL
WHERE patient_id = %(patient_id)s AND kind = %(kind)s AND status <> 'resolved'
RETURNING id;

-- The unresolved alert goes on about something else (streaming/clearing.py):
-- a new headline, its severity unchanged.
-- name: reheadline_alert
UPDATE alerts SET source = %(source)s, reason = %(reason)s, updated_at = %(now)s
WHERE patient_id = %(patient_id)s AND kind = %(kind)s AND status <> 'resolved'
RETURNING id;

-- name: unresolved_alerts_with_reasons
SELECT patient_id, kind, severity, reason FROM alerts
WHERE status <> 'resolved' AND patient_id = ANY(%(patient_ids)s);

-- name: alert_for_update
SELECT id, patient_id, status, severity, snoozed_until FROM alerts WHERE id = %(id)s FOR UPDATE;

-- name: acknowledge_alert
UPDATE alerts SET status = 'acknowledged', acknowledged_at = %(now)s, acknowledged_by = %(actor)s,
                  updated_at = %(now)s
WHERE id = %(id)s;

-- name: resolve_alert
UPDATE alerts SET status = 'resolved', resolved_at = %(now)s, resolved_by = %(actor)s,
                  snoozed_until = NULL, updated_at = %(now)s
WHERE id = %(id)s;

-- name: snooze_alert
UPDATE alerts SET snoozed_until = %(until)s, updated_at = %(now)s WHERE id = %(id)s;

-- name: insert_alert_event
INSERT INTO alert_events (alert_id, at, actor_id, event, from_status, to_status, note, detail)
VALUES (%(alert_id)s, %(now)s, %(actor)s, %(event)s, %(from_status)s, %(to_status)s, %(note)s,
        %(detail)s);

-- The alerts of the patients a caller sees (migration 0027's visible_patients).
-- An admin's (``all``) skips the look-up, a measured exception: as a semi-join
-- over every patient the planner estimates 200 patients and walks the alerts
-- patient by patient (360-770 ms instead of 30 ms for 100,000 simulated
-- patients and 20,000 open alerts). A panel's is a hashed look-up (1-20 ms).
-- name: visible_alerts
SELECT a.id, a.patient_id, a.kind, a.severity, a.status, a.source, a.reason, a.opened_at,
       a.updated_at, a.acknowledged_at, a.resolved_at, a.snoozed_until, a.escalation_level,
       (SELECT count(*) FROM alert_evidence e WHERE e.alert_id = a.id) AS evidence_count
FROM alerts a
WHERE (%(patient_id)s::uuid IS NULL OR a.patient_id = %(patient_id)s)
  AND (CASE %(status)s WHEN 'unresolved' THEN a.status <> 'resolved'
                       WHEN 'all' THEN true
                       ELSE a.status = %(status)s END)
  AND (%(all)s OR a.patient_id IN (SELECT v.id FROM visible_patients(false, %(user_id)s::uuid) v))
ORDER BY CASE a.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END,
         (a.snoozed_until IS NOT NULL AND a.snoozed_until > %(now)s),
         a.opened_at
LIMIT %(limit)s;

-- name: alert_by_id
SELECT a.id, a.patient_id, a.kind, a.severity, a.status, a.source, a.reason, a.opened_at,
       a.updated_at, a.acknowledged_at, a.resolved_at, a.snoozed_until, a.escalation_level,
       (SELECT count(*) FROM alert_evidence e WHERE e.alert_id = a.id) AS evidence_count
FROM alerts a WHERE a.id = %(id)s;

-- name: alert_evidence
SELECT detected_at, source, measure, severity, observed, baseline, window_start, window_end,
       reason
FROM alert_evidence WHERE alert_id = %(id)s ORDER BY detected_at, id;

-- name: alert_history
SELECT e.at, e.event, e.from_status, e.to_status, e.note, e.detail, u.username AS actor
FROM alert_events e LEFT JOIN users u ON u.id = e.actor_id
WHERE e.alert_id = %(id)s ORDER BY e.at, e.id;

-- The patient's coordinators: who hears about its alerts.
-- name: alert_panel
SELECT pc.user_id FROM patient_coordinators pc WHERE pc.patient_id = %(patient_id)s;

-- Critical alerts nobody acknowledged for `after` since they became critical
-- or were last escalated; locked so that one notifier escalates each.
-- name: due_escalations
SELECT a.id, a.patient_id, a.escalation_level FROM alerts a
WHERE a.status = 'open' AND a.severity = 'critical'
  AND coalesce(a.escalated_at, a.critical_since) <= %(due_before)s
ORDER BY a.critical_since
FOR UPDATE SKIP LOCKED;

-- Whom an escalation reaches: the supervisors of the patient's coordinators,
-- or, where there are none, every admin. (The panel rule read from the
-- patient's side, a tier at a time: the coordinators hear of an alert first,
-- alert_panel; their supervisors when it escalates. Who may see a patient is
-- migration 0027's visible_patients.)
-- name: escalation_recipients
WITH sup AS (
    SELECT DISTINCT u.supervisor_id AS id
    FROM patient_coordinators pc JOIN users u ON u.id = pc.user_id
    WHERE pc.patient_id = %(patient_id)s AND u.supervisor_id IS NOT NULL
)
SELECT id FROM sup
UNION
SELECT u.id FROM users u WHERE u.role = 'admin' AND NOT u.disabled AND NOT EXISTS (SELECT 1 FROM sup);

-- name: mark_escalated
UPDATE alerts SET escalation_level = escalation_level + 1, escalated_at = %(now)s
WHERE id = %(id)s
RETURNING escalation_level;

-- The alerts of the kinds, per patient and kind: whether one is unresolved and
-- when the last one opened (flows/tcm_clocks.py: a missed deadline opens once).
-- name: alert_kind_state
SELECT patient_id, kind, bool_or(status <> 'resolved') AS unresolved,
       max(opened_at) AS last_opened_at
FROM alerts
WHERE kind = ANY(%(kinds)s) AND (%(all)s OR patient_id = ANY(%(patient_ids)s))
GROUP BY patient_id, kind;
