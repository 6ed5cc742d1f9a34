-- Worklist notices: low worklist items that are not alerts (alerts/notices.py, migration 0024).

-- The open notices of the given kinds.
-- name: open_worklist_notices
SELECT id, patient_id, kind, episode_id, period_start, text FROM worklist_notices
WHERE cleared_at IS NULL AND kind = ANY(%(kinds)s)
ORDER BY id;

-- Open the notice, or give the open one of its key today's text and figures.
-- name: post_worklist_notice
INSERT INTO worklist_notices (patient_id, kind, episode_id, period_start, text, detail,
                              opened_at, updated_at)
VALUES (%(patient_id)s, %(kind)s, %(episode_id)s, %(period_start)s, %(text)s, %(detail)s,
        %(now)s, %(now)s)
ON CONFLICT (patient_id, kind, episode_id, period_start) WHERE cleared_at IS NULL
DO UPDATE SET text = EXCLUDED.text, detail = EXCLUDED.detail, updated_at = EXCLUDED.updated_at
RETURNING id, (xmax = 0) AS opened;

-- name: clear_worklist_notice
UPDATE worklist_notices SET cleared_at = %(now)s, cleared_reason = %(reason)s
WHERE id = %(id)s AND cleared_at IS NULL
RETURNING id;
