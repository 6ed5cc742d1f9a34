-- 0020: measures and device kinds are rows, not CHECK lists. The measure spec
-- (hub/measures.py) fills both tables each time the hub migrates
-- (hub.db.migrate), so a new measure or device kind needs no migration;
-- readings and devices refer to them by foreign key. The four measures and
-- kinds that existed are inserted here so that existing rows satisfy the keys.
CREATE TABLE measures (
    name  text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9-]{1,63}$'),
    -- the canonical unit every stored value is in; never changes for a name
    unit  text NOT NULL,
    ucum  text NOT NULL,
    loinc text NOT NULL
);
INSERT INTO measures (name, unit, ucum, loinc) VALUES
    ('body-weight', 'kg', 'kg', '29463-7'),
    ('blood-pressure', 'mmHg', 'mm[Hg]', '85354-9'),
    ('oxygen-saturation', '%', '%', '59408-5'),
    ('heart-rate', 'beats/min', '/min', '8867-4');

CREATE TABLE device_kinds (
    name text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{1,63}$')
);
INSERT INTO device_kinds (name) VALUES ('scale'), ('bp_cuff'), ('pulse_oximeter'), ('multi');

ALTER TABLE readings DROP CONSTRAINT readings_measure_check;
ALTER TABLE readings ADD CONSTRAINT readings_measure_fkey
    FOREIGN KEY (measure) REFERENCES measures (name);
ALTER TABLE devices DROP CONSTRAINT devices_kind_check;
ALTER TABLE devices ADD CONSTRAINT devices_kind_fkey
    FOREIGN KEY (kind) REFERENCES device_kinds (name);

-- Reference data belongs to the hub's owner: the API's role only reads it.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON measures, device_kinds FROM lastmile_app;
