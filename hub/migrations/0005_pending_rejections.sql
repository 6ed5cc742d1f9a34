-- 0005: a rejection without a gateway (an unparseable topic) cannot be sent
-- to anyone; keep it out of the pending index the worker scans every batch.
DROP INDEX dead_letters_pending;
CREATE INDEX dead_letters_pending ON dead_letters (id)
    WHERE notified_at IS NULL AND gateway_id IS NOT NULL;
