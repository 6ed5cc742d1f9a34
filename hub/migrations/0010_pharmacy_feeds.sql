-- 0010: pharmacy feeds that publish dispenses over MQTT (contract section 2).
-- A feed is provisioned like a gateway: its id is its MQTT username and
-- client id, and the broker lets it publish only its own dispenses topic.
CREATE TABLE pharmacy_feeds (
    id           text PRIMARY KEY CHECK (id ~ '^ph-[a-z0-9]{8,40}$'),
    label        text,
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz
);

-- Which feed sent a dispense that came over MQTT.
ALTER TABLE dispenses ADD COLUMN feed_id text REFERENCES pharmacy_feeds (id);

-- A rejected dispense is told to its feed on the feed's errors topic, as a
-- rejected reading is told to its gateway.
ALTER TABLE dead_letters ADD COLUMN feed_id text;
DROP INDEX dead_letters_pending;
CREATE INDEX dead_letters_pending ON dead_letters (id)
    WHERE notified_at IS NULL AND (gateway_id IS NOT NULL OR feed_id IS NOT NULL);
