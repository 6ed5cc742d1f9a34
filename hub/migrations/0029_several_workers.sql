-- 0029: several ingest workers (docs/scaling.md).
--
-- They run the scheduled passes once per interval between them
-- (flows/scheduler.py): each run is recorded, and a worker runs a pass only
-- when the newest run of that pass is an interval old.
CREATE TABLE scheduled_runs (
    pass text NOT NULL,
    ran_at timestamptz NOT NULL,
    ran_by text NOT NULL,
    PRIMARY KEY (pass, ran_at)
);

-- Where each patient's stored readings end in arrival order, kept by the
-- workers of several in each batch's transaction under the patient's lock
-- (flows/patient_order.py): a batch orders its readings after it, and a
-- monitor that stands there has nothing to catch up. A patient without a
-- row (none stored by workers of several yet) is looked up in readings.
CREATE TABLE patient_streams (
    patient_id uuid PRIMARY KEY REFERENCES patients (id),
    last_received_at timestamptz NOT NULL,
    last_measured_at timestamptz NOT NULL,
    last_device_id bigint NOT NULL,
    last_measure text NOT NULL
);
