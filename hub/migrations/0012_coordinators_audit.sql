-- 0012: coordinators (users with roles), their bearer tokens, panels, and the
-- append-only, hash-chained audit log (contract section 3).

CREATE TABLE users (
    id                  uuid PRIMARY KEY,
    username            text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._@-]{2,63}$'),
    display_name        text,
    role                text NOT NULL CHECK (role IN ('coordinator', 'supervisor', 'admin')),
    -- A coordinator's supervisor sees the coordinator's patients too.
    supervisor_id       uuid REFERENCES users (id),
    password_hash       text NOT NULL,
    password_changed_at timestamptz NOT NULL,
    disabled            boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL
);
CREATE INDEX users_supervisor ON users (supervisor_id) WHERE supervisor_id IS NOT NULL;

-- Opaque bearer tokens: only their SHA-256 is kept. A token ends at
-- expires_at, after idle time without use, or when revoked (logout,
-- password change).
CREATE TABLE api_tokens (
    token_sha256 bytea PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issued_at    timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    last_used_at timestamptz NOT NULL,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id) WHERE revoked_at IS NULL;

-- Panels: the coordinators a patient is assigned to.
CREATE TABLE patient_coordinators (
    patient_id  uuid NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    assigned_at timestamptz NOT NULL,
    PRIMARY KEY (patient_id, user_id)
);
CREATE INDEX patient_coordinators_user ON patient_coordinators (user_id);

-- One row per API request and auth event. Each row's hash covers its content
-- and the previous row's hash, so a changed or removed row breaks the chain
-- (`lastmile audit verify`). Rows are never updated or deleted.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor_id    uuid,
    actor       text NOT NULL,
    actor_role  text,
    action      text NOT NULL,
    patient_id  uuid,
    route       text,
    outcome     integer NOT NULL,
    request_id  text NOT NULL,
    client      text,
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL
);
CREATE INDEX audit_log_patient ON audit_log (patient_id, at) WHERE patient_id IS NOT NULL;
-- Failed logins by user name and by client, for the login rate limit.
CREATE INDEX audit_log_failed_logins ON audit_log (at)
    WHERE action = 'auth.login' AND outcome <> 200;

CREATE FUNCTION audit_row_hash(prev bytea, r audit_log) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(prev || convert_to(concat_ws(
        '|', r.id::text,
        to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
        coalesce(r.actor_id::text, ''), r.actor, coalesce(r.actor_role, ''), r.action,
        coalesce(r.patient_id::text, ''), coalesce(r.route, ''), r.outcome::text,
        r.request_id, coalesce(r.client, '')), 'UTF8'))
$$;

CREATE FUNCTION audit_log_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    last bytea;
BEGIN
    -- One writer at a time, until its transaction ends: the chain follows
    -- the order rows become visible.
    PERFORM pg_advisory_xact_lock(hashtext('lastmile.audit_log'));
    SELECT a.hash INTO last FROM audit_log a ORDER BY a.id DESC LIMIT 1;
    NEW.prev_hash := coalesce(last, '\x'::bytea);
    NEW.hash := audit_row_hash(NEW.prev_hash, NEW);
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
