-- Merge the staged, validated complaints (__new_complaints, deduplicated within the drop) into `complaints`.
-- Grain: one row per complaint; key: event_key (the spec's natural key: message_id, recipient, ts, source).
-- Rules: a row whose key is already stored is a duplicate. So is a row with a message_id whose
-- stored twin (same message_id, ts and source) has no recipient where it has one, or the reverse:
-- a report with a redacted recipient gets its recipient from its send once the send is known, so
-- the same report dropped before and after its send must still be one complaint. (Two recipients
-- of one report, both known, are two complaints.)
-- The keys include ts, so only stored rows inside the new rows' time range can match: the range
-- filter lets DuckDB skip old row groups (zone maps), so the cost follows the new data rather than
-- the history.
-- Parameters: $drop_id, $lo and $hi (min and max ts of the new rows).
INSERT INTO complaints
SELECT event_key, ts, message_id, recipient, account_id, source, $drop_id
FROM __new_complaints AS n
ANTI JOIN (SELECT event_key FROM complaints WHERE ts BETWEEN $lo AND $hi) AS existing
    ON existing.event_key = n.event_key
ANTI JOIN (SELECT message_id, recipient, ts, source FROM complaints
           WHERE ts BETWEEN $lo AND $hi AND message_id IS NOT NULL) AS twin
    ON twin.message_id = n.message_id AND twin.ts = n.ts AND twin.source IS NOT DISTINCT FROM n.source
   AND (twin.recipient IS NULL OR n.recipient IS NULL);
