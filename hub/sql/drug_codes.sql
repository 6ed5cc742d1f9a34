-- name: upsert_drug_codes
-- One batch of codes; a code loaded before takes the new name and classes.
INSERT INTO drug_codes (system, code, name, drug, classes)
SELECT t.s, t.c, t.n, t.d, string_to_array(t.cl, ',')
FROM unnest(%(systems)s::text[], %(codes)s::text[], %(names)s::text[], %(drugs)s::text[],
            %(classes)s::text[]) AS t(s, c, n, d, cl)
ON CONFLICT (system, code) DO UPDATE
SET name = EXCLUDED.name, drug = EXCLUDED.drug, classes = EXCLUDED.classes;

-- name: drug_codes_of
-- The loaded codes among some (system, code) pairs.
SELECT system, code, drug, classes FROM drug_codes
WHERE (system, code) IN (SELECT s, c FROM unnest(%(systems)s::text[], %(codes)s::text[]) AS t(s, c));

-- name: reclassify_dispenses
-- Stored dispenses of no known drug whose code is now loaded: give them its
-- drug and classes. One row per dispense changed, with its patient (NULL: held).
UPDATE dispenses d SET drug = c.drug, classes = c.classes
FROM drug_codes c
WHERE d.drug = '' AND d.code_system = c.system AND d.code = c.code
RETURNING d.patient_id;
