-- The primary's WAL flushed to disk. Every transaction committed (and so
-- acknowledged) before this call ends at or before it: a replica that has
-- replayed up to here shows all of them.
-- name: primary_flush_lsn
SELECT pg_current_wal_flush_lsn()::text;

-- Where a read server stands against a fence taken on the primary: whether it
-- is a standby at all, whether it has replayed up to the fence, and how long
-- ago the newest transaction it replayed committed (NULL: none yet). Nothing
-- it lacks committed before that moment, so that age bounds its staleness.
-- name: replica_position
SELECT pg_is_in_recovery(),
       coalesce(pg_last_wal_replay_lsn() >= %(fence)s::pg_lsn, false),
       extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8;
