-- 0022: the safety limits are keyed by measure (issue #16). A patient's
-- overrides (0008) of the limits that were flat thresholds and severities are
-- renamed to their keys in the measure's limits table, as hub/limits.py's
-- LEGACY_KEYS lists them ("spo2_low" -> "limits.oxygen-saturation.low",
-- "severity.bp_high" -> "limits.blood-pressure.high_severity"); body
-- temperature's one "severity" now sets each side's. Other keys stay as they
-- are. Where a value was named twice, a key already new wins; among old
-- names of one value the one the hub applied last wins (jsonb's key order:
-- shorter first). The old names are still accepted on input and stored new.
WITH legacy (old, new) AS (
    VALUES
    ('systolic_high', 'limits.blood-pressure.systolic.high'),
    ('thresholds.systolic_high', 'limits.blood-pressure.systolic.high'),
    ('systolic_high_at_once', 'limits.blood-pressure.systolic.high_at_once'),
    ('thresholds.systolic_high_at_once', 'limits.blood-pressure.systolic.high_at_once'),
    ('diastolic_high', 'limits.blood-pressure.diastolic.high'),
    ('thresholds.diastolic_high', 'limits.blood-pressure.diastolic.high'),
    ('diastolic_high_at_once', 'limits.blood-pressure.diastolic.high_at_once'),
    ('thresholds.diastolic_high_at_once', 'limits.blood-pressure.diastolic.high_at_once'),
    ('systolic_low', 'limits.blood-pressure.systolic.low'),
    ('thresholds.systolic_low', 'limits.blood-pressure.systolic.low'),
    ('systolic_low_at_once', 'limits.blood-pressure.systolic.low_at_once'),
    ('thresholds.systolic_low_at_once', 'limits.blood-pressure.systolic.low_at_once'),
    ('spo2_low', 'limits.oxygen-saturation.low'),
    ('thresholds.spo2_low', 'limits.oxygen-saturation.low'),
    ('spo2_low_at_once', 'limits.oxygen-saturation.low_at_once'),
    ('thresholds.spo2_low_at_once', 'limits.oxygen-saturation.low_at_once'),
    ('hr_high', 'limits.heart-rate.high'),
    ('thresholds.hr_high', 'limits.heart-rate.high'),
    ('hr_high_at_once', 'limits.heart-rate.high_at_once'),
    ('thresholds.hr_high_at_once', 'limits.heart-rate.high_at_once'),
    ('hr_low', 'limits.heart-rate.low'),
    ('thresholds.hr_low', 'limits.heart-rate.low'),
    ('hr_low_at_once', 'limits.heart-rate.low_at_once'),
    ('thresholds.hr_low_at_once', 'limits.heart-rate.low_at_once'),
    ('severity.bp_high', 'limits.blood-pressure.high_severity'),
    ('severity.bp_low', 'limits.blood-pressure.low_severity'),
    ('severity.spo2_low', 'limits.oxygen-saturation.low_severity'),
    ('severity.hr_high', 'limits.heart-rate.high_severity'),
    ('severity.hr_low', 'limits.heart-rate.low_severity'),
    ('limits.body-temperature.severity', 'limits.body-temperature.high_severity'),
    ('limits.body-temperature.severity', 'limits.body-temperature.low_severity')
),
affected AS (
    SELECT DISTINCT p.id
    FROM patients p
    CROSS JOIN LATERAL jsonb_object_keys(p.threshold_overrides) AS k (key)
    JOIN legacy l ON l.old = k.key
    WHERE jsonb_typeof(p.threshold_overrides) = 'object'
),
renamed AS (
    SELECT p.id,
           jsonb_object_agg(
               coalesce(l.new, e.key), e.value
               ORDER BY l.new IS NULL, length(e.key), e.key
           ) AS overrides
    FROM patients p
    JOIN affected a ON a.id = p.id
    CROSS JOIN LATERAL jsonb_each(p.threshold_overrides) AS e (key, value)
    LEFT JOIN legacy l ON l.old = e.key
    GROUP BY p.id
)
UPDATE patients p
SET threshold_overrides = r.overrides
FROM renamed r
WHERE p.id = r.id;
