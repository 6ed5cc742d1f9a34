-- name: insert_audit
-- prev_hash and hash are set by the chain trigger (migration 0012).
INSERT INTO audit_log (at, actor_id, actor, actor_role, action, patient_id, route, outcome,
                       request_id, client, prev_hash, hash)
VALUES (%(at)s, %(actor_id)s, %(actor)s, %(actor_role)s, %(action)s, %(patient_id)s,
        %(route)s, %(outcome)s, %(request_id)s, %(client)s, '\x'::bytea, '\x'::bytea);

-- Rows whose hash is not their content's, or whose prev_hash is not the
-- previous row's hash: the first few, and how many rows were checked.
-- name: audit_breaks
WITH chain AS (
    SELECT a.id, a.hash, a.prev_hash, audit_row_hash(a.prev_hash, a) AS recomputed,
           lag(a.hash, 1, '\x'::bytea) OVER (ORDER BY a.id) AS previous
    FROM audit_log a
)
SELECT id, CASE WHEN hash <> recomputed THEN 'content' ELSE 'link' END AS broken
FROM chain
WHERE hash <> recomputed OR prev_hash <> previous
ORDER BY id
LIMIT %(limit)s;

-- name: audit_head
SELECT count(*), max(id), (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1) FROM audit_log;

-- Failed logins since a time, for one user name or one client address.
-- name: failed_logins
SELECT count(*) FILTER (WHERE actor = %(username)s),
       count(*) FILTER (WHERE client = %(client)s)
FROM audit_log
WHERE action = 'auth.login' AND outcome <> 200 AND at > %(since)s;
