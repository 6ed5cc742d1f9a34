-- The measure spec (hub/measures.py) as rows: see migration 0020.

-- name: upsert_measures
INSERT INTO measures (name, unit, ucum, loinc)
SELECT * FROM unnest(%(names)s::text[], %(units)s::text[], %(ucums)s::text[], %(loincs)s::text[])
ON CONFLICT (name) DO UPDATE SET ucum = EXCLUDED.ucum, loinc = EXCLUDED.loinc
WHERE (measures.ucum, measures.loinc) IS DISTINCT FROM (EXCLUDED.ucum, EXCLUDED.loinc);

-- name: measure_units
SELECT name, unit FROM measures;

-- name: upsert_device_kinds
INSERT INTO device_kinds (name) SELECT unnest(%(names)s::text[])
ON CONFLICT (name) DO NOTHING;
