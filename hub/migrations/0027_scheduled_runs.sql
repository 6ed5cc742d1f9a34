-- 0027: several ingest workers run the scheduled passes once per interval
-- between them (flows/leader.py): each run is recorded, and a worker runs a
-- pass only when the newest run of that pass is an interval old.
CREATE TABLE scheduled_runs (
    pass text NOT NULL,
    ran_at timestamptz NOT NULL,
    ran_by text NOT NULL,
    PRIMARY KEY (pass, ran_at)
);
