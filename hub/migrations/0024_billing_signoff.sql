-- 0024: a supervisor's sign-off of a month's billing export, frozen as the bytes
-- signed; which patients' months it covers; and where time logged after a
-- sign-off counts (issue #17; flows/billing_export).

-- One sign-off of one month for one scope: a supervisor's panel
-- ('supervisor:<user id>') or every patient ('all', an admin's). The export
-- is kept as the exact bytes signed (canonical JSON), with their SHA-256;
-- the same SHA-256 is written into the hash-chained audit log.
CREATE TABLE billing_signoffs (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    month     date NOT NULL CHECK (extract(day FROM month) = 1),
    scope     text NOT NULL
              CHECK (scope = 'all' OR scope ~ '^supervisor:[0-9a-f-]{36}$'),
    signed_by uuid NOT NULL REFERENCES users (id),
    signed_at timestamptz NOT NULL,
    format    text NOT NULL CHECK (format = 'json'),
    document  bytea NOT NULL,
    sha256    bytea NOT NULL CHECK (length(sha256) = 32),
    patient_count integer NOT NULL CHECK (patient_count >= 0),
    row_count     integer NOT NULL CHECK (row_count >= 0),
    UNIQUE (month, scope)
);

-- Each patient's month is signed once: by the first sign-off whose scope
-- holds the patient (a later one of a wider scope leaves the patient out).
CREATE TABLE billing_signed_patients (
    month      date NOT NULL,
    patient_id uuid NOT NULL REFERENCES patients (id),
    signoff_id bigint NOT NULL REFERENCES billing_signoffs (id),
    PRIMARY KEY (patient_id, month)
);
CREATE INDEX billing_signed_patients_signoff ON billing_signed_patients (signoff_id);

-- Time logged after its patient's month was signed: it counts in the first
-- month after that the patient has not had signed (``month``), not in its
-- own (``own_month``, the patient-local month it started in). Written by the
-- trigger below, whoever inserts the entry.
CREATE TABLE billing_late_time (
    entry_id   bigint PRIMARY KEY REFERENCES time_entries (id),
    patient_id uuid NOT NULL REFERENCES patients (id),
    own_month  date NOT NULL,
    month      date NOT NULL CHECK (month > own_month)
);
CREATE INDEX billing_late_time_month ON billing_late_time (month, patient_id);

CREATE TRIGGER billing_signoffs_no_update BEFORE UPDATE OR DELETE ON billing_signoffs
    FOR EACH ROW EXECUTE FUNCTION refuse_change_of_append_only();
CREATE TRIGGER billing_signoffs_no_truncate BEFORE TRUNCATE ON billing_signoffs
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_of_append_only();
CREATE TRIGGER billing_signed_patients_no_update BEFORE UPDATE OR DELETE
    ON billing_signed_patients
    FOR EACH ROW EXECUTE FUNCTION refuse_change_of_append_only();
CREATE TRIGGER billing_signed_patients_no_truncate BEFORE TRUNCATE ON billing_signed_patients
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_of_append_only();
CREATE TRIGGER billing_late_time_no_update BEFORE UPDATE OR DELETE ON billing_late_time
    FOR EACH ROW EXECUTE FUNCTION refuse_change_of_append_only();
CREATE TRIGGER billing_late_time_no_truncate BEFORE TRUNCATE ON billing_late_time
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_of_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON billing_signoffs, billing_signed_patients,
    billing_late_time FROM lastmile_app;

-- A month's evidence is read a batch of patients at a time.
CREATE INDEX program_episodes_patient ON program_episodes (patient_id, started_on);

-- The patients of a billing scope: every patient (``everyone``, an admin's),
-- or a supervisor's panel as accounts' rule has it (their own patients and
-- their coordinators'). Inlined by the planner where it is used; written as
-- two branches so that a panel's few thousand patients are estimated as such
-- (and their readings looked up by patient, not scanned whole).
CREATE FUNCTION billing_scope(everyone boolean, viewer uuid)
RETURNS TABLE (id uuid, timezone text)
LANGUAGE sql STABLE AS $$
    SELECT p.id, p.timezone FROM patients p WHERE everyone
    UNION ALL
    SELECT p.id, p.timezone FROM patients p
    WHERE NOT everyone AND p.id IN (
        SELECT pc.patient_id FROM patient_coordinators pc
        WHERE pc.user_id IN (
            SELECT viewer UNION ALL SELECT u.id FROM users u WHERE u.supervisor_id = viewer))
$$;

-- The month a patient's time entry is billed in: the month it was moved to
-- if it came late, else its own.
CREATE FUNCTION billing_month_of_entry(entry bigint) RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT l.month FROM billing_late_time l WHERE l.entry_id = entry),
        (SELECT date_trunc('month', t.started_at AT TIME ZONE p.timezone)::date
         FROM time_entries t JOIN patients p ON p.id = t.patient_id WHERE t.id = entry))
$$;

-- On every new time entry. A sign-off holds the advisory lock exclusively
-- while it reads the month (flows/billing_export/signoff.py), each entry
-- shares it: an entry either is in the export signed, or sees the sign-off
-- here. (Each statement of a PL/pgSQL function sees what was committed
-- before it began, so the look-ups after the lock see the sign-off.)
--
-- * A correction of an entry billed in a signed month is refused: that
--   month's claim is sent; log the difference as new time instead.
-- * An entry that starts in a month signed for its patient is moved to the
--   first later month not signed for the patient ("time logged later goes
--   to the open month").
CREATE FUNCTION billing_place_time_entry() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    zone text;
    own date;
    target date;
    billed date;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtext('lastmile.billing_signoff'));
    IF NEW.supersedes IS NOT NULL THEN
        billed := billing_month_of_entry(NEW.supersedes);
        IF EXISTS (SELECT 1 FROM billing_signed_patients s
                   WHERE s.patient_id = NEW.patient_id AND s.month = billed) THEN
            RAISE EXCEPTION 'time entry % is billed in the signed month %', NEW.supersedes,
                to_char(billed, 'YYYY-MM')
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    SELECT p.timezone INTO zone FROM patients p WHERE p.id = NEW.patient_id;
    own := date_trunc('month', NEW.started_at AT TIME ZONE zone)::date;
    target := own;
    WHILE EXISTS (SELECT 1 FROM billing_signed_patients s
                  WHERE s.patient_id = NEW.patient_id AND s.month = target) LOOP
        target := (target + interval '1 month')::date;
    END LOOP;
    IF target <> own THEN
        INSERT INTO billing_late_time (entry_id, patient_id, own_month, month)
        VALUES (NEW.id, NEW.patient_id, own, target);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER time_entries_billing_month AFTER INSERT ON time_entries
    FOR EACH ROW EXECUTE FUNCTION billing_place_time_entry();
