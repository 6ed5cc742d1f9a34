-- 0024: worklist notices, low items on the coordinator's worklist that are not
-- alerts: the daily billing forecast's "needs 6 more days in 8" (issue #17).
-- Not alerts on purpose (alerts/notices.py): a notice has no life cycle to
-- acknowledge, never enters the push outbox, and never escalates. The pass
-- that writes them also clears them: ``cleared_at`` with the reason, kept as
-- the history of when a patient's month was at risk.

CREATE TABLE worklist_notices (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id     uuid NOT NULL REFERENCES patients (id),
    -- What it is about: an RPM period's device days, or a programme's month of time.
    kind           text NOT NULL CHECK (kind IN ('device_days', 'rpm_time', 'ccm_time')),
    -- The programme episode, and the first day of the 30-day period or of the month.
    episode_id     bigint NOT NULL,
    period_start   date NOT NULL,
    text           text NOT NULL CHECK (length(text) BETWEEN 1 AND 300),
    -- The figures behind the text (days counted, needed, left; minutes; ...).
    detail         jsonb NOT NULL DEFAULT '{}',
    opened_at      timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    cleared_at     timestamptz,
    cleared_reason text,
    FOREIGN KEY (episode_id, patient_id) REFERENCES program_episodes (id, patient_id),
    CHECK ((cleared_at IS NULL) = (cleared_reason IS NULL))
);
-- One open notice per patient, kind, episode and period.
CREATE UNIQUE INDEX worklist_notices_one_open
    ON worklist_notices (patient_id, kind, episode_id, period_start) WHERE cleared_at IS NULL;
