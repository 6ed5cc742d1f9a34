-- Queries of the evaluation through the real pipeline (simulators/eval_pipeline.py).

-- name: eval_evidence
SELECT i.value, a.kind, e.severity, e.source, e.measure, e.observed, e.baseline,
       e.window_start, e.window_end, e.reason
FROM alert_evidence e
JOIN alerts a ON a.id = e.alert_id
JOIN patient_identifiers i ON i.patient_id = a.patient_id AND i.system = %(system)s
ORDER BY e.id;

-- name: eval_accounted
SELECT (SELECT count(*) FROM readings), (SELECT count(*) FROM dead_letters);

-- name: eval_dead_letters_by_code
SELECT code, count(*) FROM dead_letters GROUP BY code;
