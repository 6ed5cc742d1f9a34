-- 0017: the device life cycle (registered → active → silent → retired, and
-- disabled by an administrator), with its history; per-device last-seen
-- times; replacement of a device by another; and the latest metadata a
-- device reported on its `meta` topic (battery, firmware, signal).

-- When the last accepted reading from the device was received, the time the
-- status last changed, and the device that replaced this one (retired).
ALTER TABLE devices
    ADD COLUMN last_reading_at   timestamptz,
    ADD COLUMN status_changed_at timestamptz,
    ADD COLUMN replaced_by       bigint REFERENCES devices (id);
UPDATE devices SET status_changed_at = coalesce(activated_at, registered_at);
UPDATE devices d SET last_reading_at = r.last_received
FROM (SELECT device_id, max(received_at) AS last_received FROM readings GROUP BY device_id) r
WHERE r.device_id = d.id;
ALTER TABLE devices ALTER COLUMN status_changed_at SET NOT NULL;
ALTER TABLE devices ALTER COLUMN status_changed_at SET DEFAULT now();
-- The periodic silence check looks at active devices only.
CREATE INDEX devices_active ON devices (id) WHERE status = 'active';
-- The ingest worker's cache of devices is dropped when either maximum moves
-- (a device or gateway disabled, retired, replaced or enabled).
CREATE INDEX devices_status_changed ON devices (status_changed_at);
ALTER TABLE gateways ADD COLUMN status_changed_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX gateways_status_changed ON gateways (status_changed_at);

-- Every status change of a device: when, from and to which status, who made
-- it (actor_id NULL: the hub itself, with actor naming the part of the hub)
-- and why.
CREATE TABLE device_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id   bigint NOT NULL REFERENCES devices (id),
    at          timestamptz NOT NULL,
    from_status text,
    to_status   text NOT NULL
                CHECK (to_status IN ('registered', 'active', 'silent', 'retired', 'disabled')),
    actor_id    uuid REFERENCES users (id),
    actor       text NOT NULL,
    reason      text NOT NULL
);
CREATE INDEX device_events_device ON device_events (device_id, at);
INSERT INTO device_events (device_id, at, from_status, to_status, actor, reason)
SELECT id, registered_at, NULL, 'registered', 'migration', 'registered' FROM devices;
INSERT INTO device_events (device_id, at, from_status, to_status, actor, reason)
SELECT id, activated_at, 'registered', 'active', 'migration', 'first accepted reading'
FROM devices WHERE activated_at IS NOT NULL;

-- The latest metadata each device reported (one row per device; an older
-- report than the stored one is ignored).
CREATE TABLE device_meta (
    device_id       bigint PRIMARY KEY REFERENCES devices (id),
    battery_percent smallint CHECK (battery_percent BETWEEN 0 AND 100),
    firmware        text CHECK (char_length(firmware) BETWEEN 1 AND 64),
    signal_dbm      smallint CHECK (signal_dbm BETWEEN -150 AND 0),
    reported_at     timestamptz NOT NULL,
    received_at     timestamptz NOT NULL
);

GRANT SELECT, INSERT, UPDATE, DELETE ON device_events, device_meta TO lastmile_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO lastmile_app;
