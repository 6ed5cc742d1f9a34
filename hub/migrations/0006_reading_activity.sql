-- 0006: the reading's temporal relationship to physical activity, as the
-- gateway sent it (Open mHealth temporal_relationship_to_physical_activity:
-- 'at rest', 'active', 'before exercise', 'after exercise', 'during
-- exercise'); NULL when not given. Heart-rate safety limits apply at rest.
ALTER TABLE readings ADD COLUMN activity text;
