-- The high-risk cutoff over ALL enrolled patients: the k-th largest discharge
-- risk, k = ceil(top_fraction * n) (at least 1), n the patients with a risk;
-- ties at it are all flagged (streaming.discharge_risk.high_risk_cutoff).
-- Read down patients_discharge_risk; NULL when no patient has a risk.
-- name: high_risk_cutoff
SELECT (
    SELECT r.discharge_risk FROM patients r
    WHERE r.discharge_risk IS NOT NULL
    ORDER BY r.discharge_risk DESC
    OFFSET (SELECT greatest(ceil(%(top_fraction)s::numeric * count(*)), 1)::bigint - 1
            FROM patients WHERE discharge_risk IS NOT NULL)
    LIMIT 1
) AS risk;

-- The worklist's facts for every patient the caller sees, in one query: the
-- stored discharge scores, whether the risk is at or above the cutoff, the
-- identifiers, the unresolved alerts and the open notices of open programme
-- episodes (as JSON; the daily pass clears the others). The priority itself is
-- computed in alerts/priority.py.
--
-- Who is visible is the panel rule (migration 0027's visible_patients): an
-- admin all, a coordinator their panel, a supervisor also their coordinators'
-- panels. An alert's snoozed_until is read through to_jsonb so that the query
-- runs whether or not the alerts table has that column.
-- name: worklist_panel
SELECT p.id AS patient_id, p.pathway, p.conditions, p.discharge_date, p.timezone,
       p.discharge_risk, p.lace, p.hospital,
       coalesce(p.discharge_risk >= %(cutoff)s::float8, false) AS high_risk,
       coalesce(ids.identifiers, '[]'::jsonb) AS identifiers,
       coalesce(oa.alerts, '[]'::jsonb) AS alerts,
       coalesce(wn.notices, '[]'::jsonb) AS notices
FROM visible_patients(%(all)s, %(user_id)s::uuid) p
LEFT JOIN LATERAL (
    SELECT jsonb_agg(jsonb_build_object('system', i.system, 'value', i.value)
                     ORDER BY i.system, i.value) AS identifiers
    FROM patient_identifiers i WHERE i.patient_id = p.id
) ids ON true
LEFT JOIN LATERAL (
    SELECT jsonb_agg(jsonb_build_object(
               'kind', a.kind, 'severity', a.severity, 'status', a.status,
               'reason', a.reason, 'opened_at', a.opened_at,
               'snoozed_until', to_jsonb(a) -> 'snoozed_until')
           ORDER BY a.opened_at, a.id) AS alerts
    FROM alerts a WHERE a.patient_id = p.id AND a.status <> 'resolved'
) oa ON true
LEFT JOIN LATERAL (
    SELECT jsonb_agg(jsonb_build_object('kind', n.kind, 'text', n.text, 'since', n.opened_at)
           ORDER BY n.opened_at, n.id) AS notices
    FROM worklist_notices n
    JOIN program_episodes e ON e.id = n.episode_id AND e.ended_on IS NULL
    WHERE n.patient_id = p.id AND n.cleared_at IS NULL
) wn ON true;

