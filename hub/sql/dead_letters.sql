-- name: insert_dead_letter
INSERT INTO dead_letters (received_at, topic, gateway_id, device_serial, feed_id, header_id,
                          item_index, code, detail, payload, payload_sha256)
VALUES (%(received_at)s, %(topic)s, %(gateway_id)s, %(device_serial)s, %(feed_id)s,
        %(header_id)s, %(item_index)s, %(code)s, %(detail)s, %(payload)s, %(payload_sha256)s);

-- A redelivered message (MQTT DUP flag) whose rejection was already recorded
-- is not recorded twice.
-- name: dead_letter_exists
SELECT EXISTS (
    SELECT 1 FROM dead_letters
    WHERE payload_sha256 = %(payload_sha256)s AND topic = %(topic)s
      AND item_index IS NOT DISTINCT FROM %(item_index)s
      AND received_at > %(since)s
);

-- name: pending_rejections
SELECT id, gateway_id, device_serial, feed_id, header_id, item_index, code, detail
FROM dead_letters
WHERE notified_at IS NULL AND (gateway_id IS NOT NULL OR feed_id IS NOT NULL)
ORDER BY id
LIMIT %(limit)s;

-- name: mark_rejections_notified
UPDATE dead_letters SET notified_at = %(notified_at)s WHERE id = ANY(%(ids)s);
