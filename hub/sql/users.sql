-- name: insert_user
INSERT INTO users (id, username, display_name, role, supervisor_id, password_hash,
                   password_changed_at, created_at)
VALUES (%(id)s, %(username)s, %(display_name)s, %(role)s, %(supervisor_id)s, %(password_hash)s,
        %(now)s, %(now)s)
RETURNING id, username, display_name, role, supervisor_id, disabled;

-- name: user_by_username
SELECT id, username, display_name, role, supervisor_id, disabled, password_hash
FROM users WHERE username = %(username)s;

-- name: user_by_id
SELECT id, username, display_name, role, supervisor_id, disabled, password_hash
FROM users WHERE id = %(id)s;

-- name: list_users
SELECT id, username, display_name, role, supervisor_id, disabled
FROM users ORDER BY username;

-- name: set_password
UPDATE users SET password_hash = %(password_hash)s, password_changed_at = %(now)s
WHERE id = %(id)s;

-- name: insert_token
INSERT INTO api_tokens (token_sha256, user_id, issued_at, expires_at, last_used_at)
VALUES (%(sha)s, %(user_id)s, %(now)s, %(expires_at)s, %(now)s);

-- A token in use: valid (not revoked, not expired, not idle too long) and
-- its user enabled. Its last use moves to now.
-- name: use_token
UPDATE api_tokens t SET last_used_at = %(now)s
FROM users u
WHERE t.token_sha256 = %(sha)s AND u.id = t.user_id AND NOT u.disabled
  AND t.revoked_at IS NULL AND t.expires_at > %(now)s AND t.last_used_at > %(idle_since)s
RETURNING u.id, u.username, u.display_name, u.role, u.supervisor_id, u.disabled, t.expires_at;

-- name: revoke_token
UPDATE api_tokens SET revoked_at = %(now)s
WHERE token_sha256 = %(sha)s AND revoked_at IS NULL;

-- name: revoke_user_tokens
UPDATE api_tokens SET revoked_at = %(now)s
WHERE user_id = %(user_id)s AND revoked_at IS NULL;

-- name: assign_coordinators
INSERT INTO patient_coordinators (patient_id, user_id, assigned_at)
SELECT %(patient_id)s, u.id, %(now)s FROM users u
WHERE u.id = ANY(%(user_ids)s) AND u.role IN ('coordinator', 'supervisor')
ON CONFLICT DO NOTHING
RETURNING user_id;

-- name: unassign_coordinators
DELETE FROM patient_coordinators
WHERE patient_id = %(patient_id)s AND NOT (user_id = ANY(%(keep)s));

-- name: patient_coordinators
SELECT user_id FROM patient_coordinators WHERE patient_id = %(patient_id)s ORDER BY user_id;

-- Whether the patient exists and the user may see them (migration 0027's
-- visible_patients: the panel rule).
-- name: patient_visible
SELECT EXISTS (
    SELECT 1 FROM visible_patients(%(all)s, %(user_id)s::uuid) v WHERE v.id = %(patient_id)s
);

-- name: visible_patient_ids
SELECT v.id FROM visible_patients(%(all)s, %(user_id)s::uuid) v
ORDER BY v.enrolled_at, v.id
LIMIT %(limit)s;
