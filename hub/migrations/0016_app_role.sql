-- 0016: the API's own database role. It reads and writes the application's
-- tables but may not change or remove audit rows (nor empty any table); the
-- owner keeps running migrations. The role's login and password are set by
-- hub.db.ensure_app_role at start-up.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lastmile_app') THEN
        CREATE ROLE lastmile_app NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO lastmile_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO lastmile_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO lastmile_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO lastmile_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO lastmile_app;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM lastmile_app;
REVOKE ALL ON schema_migrations FROM lastmile_app;
GRANT SELECT ON schema_migrations TO lastmile_app;
