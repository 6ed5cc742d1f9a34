-- 0027: the panel rule, defined once. Who may see a patient: the patient's
-- own coordinators, and the supervisors of those coordinators; an admin
-- (``everyone``) sees every patient. Every query that asks who sees what
-- reads the rule here: accounts' patient_visible and visible_patient_ids
-- (hub/sql/users.sql), the alerts list (alerts.sql), the worklist
-- (worklist.sql) and a billing export's scope (billing.sql), which 0025-0026
-- had as billing_scope, a copy of the rule.
--
-- The patients' rows, so that a query that wants their columns reads them
-- here, without joining patients a second time. LANGUAGE sql, STABLE, a
-- single query, not STRICT: the planner inlines it where it is called in
-- FROM (EXPLAIN shows the tables, no Function Scan), and pushes a caller's
-- condition (``v.id = $1``) into it. Two branches, as 0026 found, so that a
-- panel is estimated as the few hundred or thousand patients it is (its
-- coordinators' assignments looked up by user) rather than as a share of all
-- patients; with ``everyone`` known the planner keeps one branch.
CREATE FUNCTION visible_patients(everyone boolean, viewer uuid)
RETURNS SETOF patients
LANGUAGE sql STABLE AS $$
    SELECT p.* FROM patients p WHERE everyone
    UNION ALL
    SELECT p.* FROM patients p
    WHERE NOT everyone AND p.id IN (
        SELECT pc.patient_id FROM patient_coordinators pc
        WHERE pc.user_id IN (
            SELECT viewer UNION ALL SELECT u.id FROM users u WHERE u.supervisor_id = viewer))
$$;

DROP FUNCTION billing_scope(boolean, uuid);
