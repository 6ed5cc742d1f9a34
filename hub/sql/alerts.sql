-- name: unresolved_alert_for_update
SELECT id, severity FROM alerts
WHERE patient_id = %(patient_id)s AND kind = %(kind)s AND status <> 'resolved'
FOR UPDATE;

-- name: insert_alert
INSERT INTO alerts (patient_id, kind, severity, source, reason, opened_at, updated_at)
VALUES (%(patient_id)s, %(kind)s, %(severity)s, %(source)s, %(reason)s, %(now)s, %(now)s)
RETURNING id;

-- name: escalate_alert
UPDATE alerts SET severity = %(severity)s, source = %(source)s, reason = %(reason)s,
                  updated_at = %(now)s
WHERE id = %(id)s;

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
UPDATE alerts SET status = 'resolved', resolved_at = %(now)s, updated_at = %(now)s
WHERE patient_id = %(patient_id)s AND kind = %(kind)s AND status <> 'resolved'
RETURNING id;

-- name: unresolved_alerts_with_reasons
SELECT patient_id, kind, severity, reason FROM alerts
WHERE status <> 'resolved' AND patient_id = ANY(%(patient_ids)s);
