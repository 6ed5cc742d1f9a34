-- 0019: the optional per-device sequence number of a reading
-- (`header.lastmile_sequence`, docs/integration.md section 4), so that the hub
-- can see readings a device produced that never arrived. Nullable: most
-- devices do not send one. Adding a nullable column without a default to the
-- hypertable rewrites nothing.
ALTER TABLE readings ADD COLUMN sequence bigint;
-- The gap check reads only numbered readings; readings without a number
-- (most of them) are not in this index and cost nothing more to insert.
CREATE INDEX readings_sequenced ON readings (measured_at) WHERE sequence IS NOT NULL;

-- Holes already reported, so that the periodic gap check raises each hole
-- once (streaming/reading_gaps.py), even after its alert is resolved.
CREATE TABLE reading_gaps (
    device_id   bigint NOT NULL REFERENCES devices (id),
    first_missing bigint NOT NULL,
    last_missing  bigint NOT NULL,
    reported_at timestamptz NOT NULL,
    PRIMARY KEY (device_id, first_missing, last_missing),
    CHECK (first_missing <= last_missing)
);
