-- 0028: what is recorded of a care programme's episode beside its time (the
-- patient's consent, the RPM set-up, the TCM complexity and milestones) is
-- kept as rows of an append-only record, each with who recorded it and when,
-- instead of columns of the episode set once (0023). And the programmes'
-- vocabulary is the rules engine's (hub/care_programs.py). See programs/.

-- The discharge settings are the rules engine's too: the ones CMS lists for
-- transitional care beside the four 0023 took, and the emergency department,
-- which the rules say does not qualify.
ALTER TABLE program_episodes DROP CONSTRAINT program_episodes_discharge_setting_check;
ALTER TABLE program_episodes ADD CONSTRAINT program_episodes_discharge_setting_check
    CHECK (discharge_setting IN ('inpatient', 'inpatient_psychiatric', 'long_term_care_hospital',
                                 'skilled_nursing', 'inpatient_rehabilitation', 'observation',
                                 'partial_hospitalization', 'emergency_department'));

-- One fact recorded of an episode (programs.models.Fact) and its value: the
-- columns the fact takes (programs.facts.FIELDS), the others NULL. Append-only,
-- like the time log: a correction is a new row that supersedes one of the same
-- fact of the same episode (each at most once), with who, when and why; a
-- withdrawal is a correction without a value. What holds now is the rows no
-- correction supersedes, less the withdrawals.
CREATE TABLE program_records (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    episode_id   bigint NOT NULL,
    patient_id   uuid NOT NULL,
    fact         text NOT NULL CHECK (fact IN ('consent', 'setup', 'complexity',
                     'med_reconciliation', 'face_to_face', 'contact', 'contact_attempt')),
    -- The day it happened (consent, set-up, medication reconciliation,
    -- face-to-face visit), or the instant (the interactive contact, an
    -- unsuccessful attempt at it).
    on_date      date,
    at_time      timestamptz,
    -- How consent was given, or how the contact was attempted.
    method       text,
    -- Who did the RPM set-up (a name: not necessarily a Lastmile user).
    performer    text CHECK (length(performer) BETWEEN 1 AND 200),
    complexity   text CHECK (complexity IN ('moderate', 'high')),
    -- Who attempted the contact (a coordinator), and what they noted.
    attempted_by uuid REFERENCES users (id),
    note         text CHECK (length(note) <= 2000),
    -- Who recorded it and when. Unknown only for what this migration carried
    -- over from 0023's columns, which kept neither for a TCM milestone (nor
    -- when for a set-up).
    recorded_by  uuid REFERENCES users (id),
    recorded_at  timestamptz,
    -- The row this one corrects, and why; a withdrawal carries no value.
    supersedes   bigint UNIQUE,
    reason       text CHECK (length(reason) BETWEEN 1 AND 2000),
    withdrawn    boolean NOT NULL DEFAULT false,
    UNIQUE (id, episode_id, fact),
    FOREIGN KEY (episode_id, patient_id) REFERENCES program_episodes (id, patient_id),
    FOREIGN KEY (supersedes, episode_id, fact) REFERENCES program_records (id, episode_id, fact),
    CHECK ((supersedes IS NULL) = (reason IS NULL)),
    CHECK (supersedes IS NULL OR num_nulls(recorded_by, recorded_at) = 0),
    CHECK (NOT withdrawn OR (supersedes IS NOT NULL AND num_nonnulls(on_date, at_time, method,
                                 performer, complexity, attempted_by, note) = 0)),
    CHECK (withdrawn OR CASE fact
        WHEN 'consent' THEN on_date IS NOT NULL AND method IN ('verbal', 'written', 'electronic')
                            AND num_nonnulls(at_time, performer, complexity) = 0
        WHEN 'setup' THEN num_nulls(on_date, performer) = 0
                          AND num_nonnulls(at_time, method, complexity) = 0
        WHEN 'complexity' THEN complexity IS NOT NULL
                               AND num_nonnulls(on_date, at_time, method, performer) = 0
        WHEN 'contact' THEN at_time IS NOT NULL
                            AND num_nonnulls(on_date, method, performer, complexity) = 0
        WHEN 'contact_attempt' THEN at_time IS NOT NULL
                                    AND method IN ('telephone', 'electronic', 'in_person')
                                    AND num_nonnulls(on_date, performer, complexity) = 0
        ELSE on_date IS NOT NULL AND num_nonnulls(at_time, method, performer, complexity) = 0
    END),
    CHECK ((fact = 'contact_attempt' AND NOT withdrawn) = (attempted_by IS NOT NULL)),
    CHECK (fact = 'contact_attempt' OR note IS NULL),
    CHECK (fact NOT IN ('consent', 'setup', 'contact_attempt') OR recorded_by IS NOT NULL),
    CHECK (fact <> 'consent' OR recorded_at IS NOT NULL)
);
CREATE INDEX program_records_episode ON program_records (episode_id, id);

CREATE TRIGGER program_records_no_update BEFORE UPDATE OR DELETE ON program_records
    FOR EACH ROW EXECUTE FUNCTION refuse_change_of_append_only();
CREATE TRIGGER program_records_no_truncate BEFORE TRUNCATE ON program_records
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_of_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON program_records FROM lastmile_app;

-- What 0023's columns held, carried over (in episode order).
INSERT INTO program_records (episode_id, patient_id, fact, on_date, at_time, method, performer,
                             complexity, recorded_by, recorded_at)
SELECT e.id, e.patient_id, r.*
FROM program_episodes e
CROSS JOIN LATERAL (VALUES
    ('consent', e.consent_on, NULL::timestamptz, e.consent_method, NULL, NULL,
     e.consent_recorded_by, e.consent_recorded_at),
    ('setup', e.setup_on, NULL, NULL, e.setup_by, NULL, e.setup_recorded_by, NULL),
    ('complexity', NULL, NULL, NULL, NULL, e.complexity, NULL, NULL),
    ('med_reconciliation', e.med_reconciled_on, NULL, NULL, NULL, NULL, NULL, NULL),
    ('face_to_face', e.face_to_face_on, NULL, NULL, NULL, NULL, NULL, NULL),
    ('contact', NULL, e.first_contact_at, NULL, NULL, NULL, NULL, NULL)
) r(fact, on_date, at_time, method, performer, complexity, recorded_by, recorded_at)
WHERE num_nonnulls(r.on_date, r.at_time, r.complexity) > 0
ORDER BY e.id;

-- The record is the one place these are kept (the checks naming the columns
-- go with them).
ALTER TABLE program_episodes
    DROP COLUMN consent_on, DROP COLUMN consent_method, DROP COLUMN consent_recorded_by,
    DROP COLUMN consent_recorded_at, DROP COLUMN setup_on, DROP COLUMN setup_by,
    DROP COLUMN setup_recorded_by, DROP COLUMN complexity, DROP COLUMN med_reconciled_on,
    DROP COLUMN face_to_face_on, DROP COLUMN first_contact_at;
