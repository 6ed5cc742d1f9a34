-- Worklist notices: low worklist items that are not alerts (alerts/notices.py, migration 0024).

-- The open notices of the given kinds.
-- name: open_worklist_notices
SELECT id, patient_id, kind, episode_id, period_start, text FROM worklist_notices
WHERE cleared_at IS NULL AND kind = ANY(%(kinds)s)
ORDER BY id;

-- Open each notice, or give the open one of its key today's text and figures:
-- the notices are one JSON array of objects (their keys differ).
-- name: post_worklist_notices
INSERT INTO worklist_notices (patient_id, kind, episode_id, period_start, text, detail,
                              opened_at, updated_at)
SELECT n.patient_id, n.kind, n.episode_id, n.period_start, n.text, n.detail,
       %(now)s, %(now)s
FROM jsonb_to_recordset(%(notices)s::jsonb)
    AS n(patient_id uuid, kind text, episode_id bigint, period_start date, text text,
         detail jsonb)
ON CONFLICT (patient_id, kind, episode_id, period_start) WHERE cleared_at IS NULL
DO UPDATE SET text = EXCLUDED.text, detail = EXCLUDED.detail, updated_at = EXCLUDED.updated_at
RETURNING (xmax = 0)::int AS opened;

-- Clear the open notices of ``ids``, each with its reason.
-- name: clear_worklist_notices
UPDATE worklist_notices n SET cleared_at = %(now)s, cleared_reason = c.reason
FROM unnest(%(ids)s::bigint[], %(reasons)s::text[]) AS c(id, reason)
WHERE n.id = c.id AND n.cleared_at IS NULL
RETURNING n.id;
