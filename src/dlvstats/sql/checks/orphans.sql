-- Orphans: opens, clicks and complaints whose message_id has no send (kept, never dropped: the
-- send may arrive in a later drop, or came from another system).
-- Grain: one row per kind. Returns the failing rows' counts (zero = no orphans).
SELECT 'opens' AS kind, count(*) AS orphan_count, count(DISTINCT message_id) AS orphan_messages
FROM opens ANTI JOIN sends USING (message_id)
UNION ALL
SELECT 'clicks', count(*), count(DISTINCT message_id) FROM clicks ANTI JOIN sends USING (message_id)
UNION ALL
SELECT 'complaints', count(*), count(DISTINCT message_id)
FROM complaints ANTI JOIN sends USING (message_id) WHERE complaints.message_id IS NOT NULL;
