-- name: insert_gateway
INSERT INTO gateways (id, label) VALUES (%(id)s, %(label)s)
RETURNING id, label, status, created_at;

-- name: get_gateway
SELECT id, label, status, created_at, last_seen_at FROM gateways WHERE id = %(id)s;

-- name: insert_device
INSERT INTO devices (serial, kind, gateway_id, patient_id)
VALUES (%(serial)s, %(kind)s, %(gateway_id)s, %(patient_id)s)
RETURNING id, serial, kind, gateway_id, patient_id, status, registered_at;

-- name: devices_by_serials
SELECT d.serial, d.id, d.kind, d.gateway_id, d.patient_id, d.status, g.status AS gateway_status
FROM devices d JOIN gateways g ON g.id = d.gateway_id
WHERE d.serial = ANY(%(serials)s);

-- name: touch_gateways
UPDATE gateways SET last_seen_at = greatest(last_seen_at, %(seen_at)s)
WHERE id = ANY(%(ids)s);

-- name: activate_devices
UPDATE devices SET status = 'active', activated_at = %(at)s
WHERE id = ANY(%(ids)s) AND status = 'registered';

-- A status message older than the one recorded is ignored; a retained one
-- (sent again on every subscribe) only counts if it changes the presence.
-- name: set_gateway_presence
UPDATE gateways SET presence = %(presence)s, presence_at = %(at)s
WHERE id = %(id)s AND (presence_at IS NULL OR presence_at <= %(at)s)
  AND (NOT %(retained)s OR presence IS DISTINCT FROM %(presence)s)
RETURNING id;

-- name: gateway_presence
SELECT presence FROM gateways WHERE id = %(id)s;

-- name: insert_pharmacy_feed
INSERT INTO pharmacy_feeds (id, label) VALUES (%(id)s, %(label)s)
RETURNING id, label, status, created_at;

-- name: pharmacy_feed_statuses
SELECT id, status FROM pharmacy_feeds WHERE id = ANY(%(ids)s);

-- name: set_pharmacy_feed_status
UPDATE pharmacy_feeds SET status = %(status)s WHERE id = %(id)s
RETURNING id, label, status, created_at;

-- name: touch_pharmacy_feeds
UPDATE pharmacy_feeds SET last_seen_at = greatest(last_seen_at, %(seen_at)s)
WHERE id = ANY(%(ids)s);
