-- name: create_readings_staging
CREATE TEMP TABLE IF NOT EXISTS readings_staging
    (LIKE readings INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;

-- The columns of hub.reading_row.ReadingRow, in its order (as copy_readings).
-- name: copy_readings_staging
COPY readings_staging (patient_id, device_id, measure, measured_at, value, value2, received_at,
    activity, unit, original_value, original_value2, original_unit, modality, schema_version,
    header_id, descriptive_statistic, sequence) FROM STDIN (FORMAT BINARY);

-- name: insert_readings_from_staging
INSERT INTO readings
SELECT * FROM readings_staging
ON CONFLICT ON CONSTRAINT readings_natural_key DO NOTHING
-- The columns of hub.reading_row.ScoringRow, in its order.
RETURNING patient_id, device_id, measure, measured_at, value, value2, received_at, activity;

-- The latest measurement per patient and measure, brought up to date from the
-- readings measured since a time (the non-adherence pass runs it first; the
-- ingest path does not pay for it).
-- name: refresh_measure_latest
INSERT INTO measure_latest (patient_id, measure, last_measured_at, last_received_at)
SELECT patient_id, measure, max(measured_at), max(received_at)
FROM readings
WHERE measured_at >= %(since)s
GROUP BY patient_id, measure
ON CONFLICT (patient_id, measure) DO UPDATE
SET last_measured_at = greatest(measure_latest.last_measured_at, EXCLUDED.last_measured_at),
    last_received_at = greatest(measure_latest.last_received_at, EXCLUDED.last_received_at);

-- name: readings_raw
SELECT measured_at, value, value2, unit, original_value, original_value2, original_unit,
       modality, descriptive_statistic, device_id, header_id, received_at
FROM readings
WHERE patient_id = %(patient_id)s AND measure = %(measure)s
  AND measured_at >= %(start)s AND measured_at < %(end)s
ORDER BY measured_at
LIMIT %(limit)s;

-- name: readings_bucketed
SELECT time_bucket(%(bucket)s::interval, measured_at) AS bucket,
       avg(value) AS mean, min(value) AS min, max(value) AS max,
       avg(value2) AS mean2, min(value2) AS min2, max(value2) AS max2,
       count(*) AS count
FROM readings
WHERE patient_id = %(patient_id)s AND measure = %(measure)s
  AND measured_at >= %(start)s AND measured_at < %(end)s
GROUP BY 1
ORDER BY 1
LIMIT %(limit)s;

-- name: latest_readings
SELECT measured_at, measure, value, value2, unit, patient_id
FROM readings
WHERE measured_at > now() - interval '90 days'
ORDER BY measured_at DESC
LIMIT %(limit)s;

-- The benchmark's raw COPY straight into the hypertable (the columns of
-- hub.reading_row.ReadingRow, as the staging COPY the ingest worker uses).
-- name: copy_readings
COPY readings (patient_id, device_id, measure, measured_at, value, value2, received_at,
    activity, unit, original_value, original_value2, original_unit, modality, schema_version,
    header_id, descriptive_statistic, sequence) FROM STDIN (FORMAT BINARY);
