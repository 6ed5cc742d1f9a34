-- The device life cycle (devices/lifecycle.py), device metadata
-- (devices/meta.py) and what the admin API shows of gateways and devices.

-- Accepted readings from these devices were received: their last
-- reading moves on, and a registered or silent device becomes active, with an
-- event saying why. (In SET, d.status is the value before the update.) The
-- last reading is kept to the minute: a device sending many readings a minute
-- does not rewrite its row in every batch.
-- name: touch_devices
WITH changed AS (
    UPDATE devices d
    SET last_reading_at = greatest(d.last_reading_at, %(at)s),
        activated_at = coalesce(d.activated_at, %(at)s),
        status = CASE WHEN d.status IN ('registered', 'silent') THEN 'active' ELSE d.status END,
        status_changed_at = CASE WHEN d.status IN ('registered', 'silent')
                                 THEN %(at)s ELSE d.status_changed_at END
    FROM devices old
    WHERE d.id = ANY(%(ids)s) AND old.id = d.id
      AND (d.status IN ('registered', 'silent') OR d.last_reading_at IS NULL
           OR d.last_reading_at < %(at)s::timestamptz - interval '1 minute')
    RETURNING d.id, old.status AS from_status, d.status AS to_status
)
INSERT INTO device_events (device_id, at, from_status, to_status, actor, reason)
SELECT id, %(at)s, from_status, 'active', 'ingest',
       CASE from_status WHEN 'registered' THEN 'first accepted reading'
                        ELSE 'accepted reading after silence' END
FROM changed WHERE from_status IN ('registered', 'silent') AND to_status = 'active';

-- Active devices, their patient's pathway and when they were last heard of.
-- name: active_devices_for_silence
SELECT d.id, d.kind, p.pathway,
       coalesce(d.last_reading_at, d.activated_at, d.registered_at) AS last_heard_at
FROM devices d JOIN patients p ON p.id = d.patient_id
WHERE d.status = 'active';

-- Mark devices silent whose last reading is still older than their cutoff
-- (a reading that arrived since the check looked keeps its device active).
-- name: mark_devices_silent
WITH changed AS (
    UPDATE devices d SET status = 'silent', status_changed_at = %(at)s
    FROM unnest(%(ids)s::bigint[], %(cutoffs)s::timestamptz[], %(reasons)s::text[])
         AS r (id, cutoff, reason)
    WHERE d.id = r.id AND d.status = 'active'
      AND coalesce(d.last_reading_at, d.activated_at, d.registered_at) < r.cutoff
    RETURNING d.id, r.reason
)
INSERT INTO device_events (device_id, at, from_status, to_status, actor, reason)
SELECT id, %(at)s, 'active', 'silent', 'silence-check', reason FROM changed
RETURNING device_id;

-- One device's status changes from one of the given statuses to another,
-- with its event; no row when the device was in another status.
-- name: set_device_status
WITH old AS (SELECT id, status FROM devices WHERE id = %(id)s FOR UPDATE),
changed AS (
    UPDATE devices d SET status = %(to_status)s, status_changed_at = %(at)s,
                         replaced_by = coalesce(%(replaced_by)s, d.replaced_by)
    FROM old WHERE d.id = old.id AND old.status = ANY(%(from_statuses)s)
    RETURNING d.id, old.status AS from_status
)
INSERT INTO device_events (device_id, at, from_status, to_status, actor_id, actor, reason)
SELECT id, %(at)s, from_status, %(to_status)s, %(actor_id)s, %(actor)s, %(reason)s FROM changed
RETURNING from_status;

-- name: insert_device_event
INSERT INTO device_events (device_id, at, from_status, to_status, actor_id, actor, reason)
VALUES (%(device_id)s, %(at)s, %(from_status)s, %(to_status)s, %(actor_id)s, %(actor)s,
        %(reason)s);

-- name: lifecycle_device_by_serial
SELECT id, kind, status, gateway_id, patient_id, activated_at FROM devices
WHERE serial = %(serial)s;

-- name: device_events_of
SELECT at, from_status, to_status, actor, reason FROM device_events
WHERE device_id = %(device_id)s ORDER BY at, id;

-- The ingest worker drops its cache of routes when this moves.
-- name: registry_changed_at
SELECT greatest((SELECT max(status_changed_at) FROM devices),
                (SELECT max(status_changed_at) FROM gateways));

-- name: set_gateway_status
UPDATE gateways SET status = %(status)s, status_changed_at = %(at)s
WHERE id = %(id)s
RETURNING status;

-- name: gateway_detail
SELECT id, label, status, created_at, last_seen_at, presence, presence_at, status_changed_at
FROM gateways WHERE id = %(id)s;

-- Every device of a patient (or of a gateway), with its latest metadata and
-- its gateway's presence, newest registration first.
-- name: devices_overview
SELECT d.serial, d.kind, d.status, d.status_changed_at, d.registered_at, d.activated_at,
       d.last_reading_at, r.serial AS replaced_by, d.gateway_id, g.status AS gateway_status,
       g.presence, g.presence_at, g.last_seen_at AS gateway_last_seen_at,
       m.battery_percent, m.firmware, m.signal_dbm, m.reported_at AS meta_reported_at,
       m.received_at AS meta_received_at, d.patient_id
FROM devices d
JOIN gateways g ON g.id = d.gateway_id
LEFT JOIN devices r ON r.id = d.replaced_by
LEFT JOIN device_meta m ON m.device_id = d.id
WHERE (%(patient_id)s::uuid IS NULL OR d.patient_id = %(patient_id)s::uuid)
  AND (%(gateway_id)s::text IS NULL OR d.gateway_id = %(gateway_id)s::text)
ORDER BY d.registered_at DESC, d.id DESC;

-- The latest report wins; an older one (store and forward) changes nothing.
-- name: upsert_device_meta
INSERT INTO device_meta AS m (device_id, battery_percent, firmware, signal_dbm, reported_at,
                              received_at)
SELECT * FROM unnest(%(ids)s::bigint[], %(battery)s::smallint[], %(firmware)s::text[],
                     %(signal)s::smallint[], %(reported)s::timestamptz[],
                     %(received)s::timestamptz[])
ON CONFLICT (device_id) DO UPDATE
SET battery_percent = EXCLUDED.battery_percent, firmware = EXCLUDED.firmware,
    signal_dbm = EXCLUDED.signal_dbm, reported_at = EXCLUDED.reported_at,
    received_at = EXCLUDED.received_at
WHERE m.reported_at <= EXCLUDED.reported_at;

-- What the non-adherence checks need to tell a device problem from a patient
-- who does not measure: each usable device's battery and its gateway's presence.
-- name: device_health
SELECT d.patient_id, d.serial, d.kind, d.gateway_id, m.battery_percent, m.reported_at,
       g.presence, g.presence_at
FROM devices d
JOIN gateways g ON g.id = d.gateway_id
LEFT JOIN device_meta m ON m.device_id = d.id
WHERE d.status NOT IN ('retired', 'disabled')
  AND (cardinality(%(patient_ids)s::uuid[]) = 0 OR d.patient_id = ANY(%(patient_ids)s));
