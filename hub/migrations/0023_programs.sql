-- 0023: care programmes (RPM, CCM, TCM episodes) and the coordinator's time log,
-- the stored evidence US CMS billing is built from (issue #17; the rules
-- themselves are elsewhere). See programs/__init__.py.

-- One episode of a care programme for one patient, from its start to its end
-- (NULL while it goes on). At most one open episode per patient and kind.
CREATE TABLE program_episodes (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id          uuid NOT NULL REFERENCES patients (id),
    kind                text NOT NULL CHECK (kind IN ('RPM', 'CCM', 'TCM')),
    started_on          date NOT NULL,
    ended_on            date CHECK (ended_on >= started_on),
    -- The ordering (billing) practitioner. The NPI's check digit (Luhn with
    -- the 80840 prefix) is checked by programs.codes before it gets here.
    ordering_name       text NOT NULL CHECK (length(ordering_name) BETWEEN 1 AND 200),
    ordering_npi        text NOT NULL CHECK (ordering_npi ~ '^[0-9]{10}$'),
    -- ICD-10-CM codes, dotted and upper case (programs.codes); CCM needs two
    -- or more chronic conditions.
    conditions          text[] NOT NULL DEFAULT '{}',
    -- The patient's consent, recorded once.
    consent_on          date,
    consent_method      text CHECK (consent_method IN ('verbal', 'written', 'electronic')),
    consent_recorded_by uuid REFERENCES users (id),
    consent_recorded_at timestamptz,
    -- RPM only: the device set-up and the patient's education on it (99453,
    -- once per episode), by whom (a name: not necessarily a Lastmile user).
    setup_on            date,
    setup_by            text CHECK (length(setup_by) BETWEEN 1 AND 200),
    setup_recorded_by   uuid REFERENCES users (id),
    -- TCM only: the discharge the episode follows and its milestones.
    discharged_on       date,
    discharge_setting   text CHECK (discharge_setting IN
                            ('inpatient', 'observation', 'skilled_nursing',
                             'partial_hospitalization')),
    complexity          text CHECK (complexity IN ('moderate', 'high')),
    med_reconciled_on   date,
    face_to_face_on     date,
    first_contact_at    timestamptz,
    created_by          uuid NOT NULL REFERENCES users (id),
    created_at          timestamptz NOT NULL,
    ended_by            uuid REFERENCES users (id),
    UNIQUE (id, patient_id),
    CHECK (kind <> 'CCM' OR cardinality(conditions) >= 2),
    CHECK (num_nulls(consent_on, consent_method, consent_recorded_by, consent_recorded_at)
           IN (0, 4)),
    CHECK (num_nulls(setup_on, setup_by, setup_recorded_by) IN (0, 3)),
    CHECK (kind = 'RPM' OR setup_on IS NULL),
    CHECK ((kind = 'TCM') = (discharged_on IS NOT NULL AND discharge_setting IS NOT NULL)),
    CHECK (kind = 'TCM' OR num_nulls(complexity, med_reconciled_on, face_to_face_on,
                                     first_contact_at) = 4),
    CHECK (discharged_on IS NULL OR started_on >= discharged_on),
    CHECK ((ended_on IS NULL) = (ended_by IS NULL))
);
CREATE UNIQUE INDEX program_episodes_one_open ON program_episodes (patient_id, kind)
    WHERE ended_on IS NULL;

-- A time entry may name the alert it was spent on; that alert must be the
-- patient's (the pair is the foreign key below).
CREATE UNIQUE INDEX alerts_id_patient ON alerts (id, patient_id);

-- The coordinator's time and contacts, toward exactly one episode. Append-only:
-- a correction is a new row that supersedes an earlier one (each at most once)
-- with who, when and why; a correction to 0 seconds withdraws the entry.
-- ``started_at`` is when the work began (for an entry given as minutes, as
-- the coordinator said or the minutes before it was recorded); ``ended_at``
-- only for entries with both ends (a timer's, or given so).
CREATE TABLE time_entries (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    episode_id     bigint NOT NULL,
    patient_id     uuid NOT NULL,
    coordinator_id uuid NOT NULL REFERENCES users (id),
    started_at     timestamptz NOT NULL,
    ended_at       timestamptz CHECK (ended_at > started_at),
    seconds        integer NOT NULL CHECK (seconds BETWEEN 0 AND 86400),
    activity       text NOT NULL CHECK (activity IN ('data_review', 'call', 'care_plan_update',
                       'medication_reconciliation', 'education', 'other')),
    -- Real-time audio or video with the patient or caregiver.
    interactive    boolean NOT NULL,
    note           text,
    alert_id       bigint,
    source         text NOT NULL CHECK (source IN ('manual', 'timer', 'alert', 'correction')),
    supersedes     bigint UNIQUE,
    reason         text,
    recorded_by    uuid NOT NULL REFERENCES users (id),
    recorded_at    timestamptz NOT NULL,
    UNIQUE (id, patient_id),
    FOREIGN KEY (episode_id, patient_id) REFERENCES program_episodes (id, patient_id),
    FOREIGN KEY (alert_id, patient_id) REFERENCES alerts (id, patient_id),
    FOREIGN KEY (supersedes, patient_id) REFERENCES time_entries (id, patient_id),
    CHECK ((supersedes IS NULL) = (reason IS NULL)),
    CHECK ((supersedes IS NULL) = (source <> 'correction')),
    CHECK (seconds > 0 OR supersedes IS NOT NULL)
);
CREATE INDEX time_entries_patient ON time_entries (patient_id, started_at);
CREATE INDEX time_entries_episode ON time_entries (episode_id, started_at);

CREATE FUNCTION refuse_change_of_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused (add a correction)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER time_entries_no_update BEFORE UPDATE OR DELETE ON time_entries
    FOR EACH ROW EXECUTE FUNCTION refuse_change_of_append_only();
CREATE TRIGGER time_entries_no_truncate BEFORE TRUNCATE ON time_entries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_of_append_only();
-- The API's role (0016's default privileges gave it UPDATE and DELETE).
REVOKE UPDATE, DELETE, TRUNCATE ON time_entries FROM lastmile_app;

-- A coordinator's running timer on a patient, kept here so a reload or a
-- second tab finds it; stopping it writes the time entry and removes it.
CREATE TABLE running_timers (
    coordinator_id uuid NOT NULL REFERENCES users (id),
    patient_id     uuid NOT NULL,
    episode_id     bigint NOT NULL,
    alert_id       bigint,
    started_at     timestamptz NOT NULL,
    PRIMARY KEY (coordinator_id, patient_id),
    FOREIGN KEY (episode_id, patient_id) REFERENCES program_episodes (id, patient_id),
    FOREIGN KEY (alert_id, patient_id) REFERENCES alerts (id, patient_id)
);
