-- Merge the staged, validated complaints (__new_complaints, deduplicated within the drop) into `complaints`.
-- Grain: one row per complaint; key: event_key (the spec's natural key: message_id, recipient, ts, source).
-- Rule: a row whose key is already stored is a duplicate. The key includes ts, so only stored rows
-- inside the new rows' time range can match: the range filter lets DuckDB skip old row groups
-- (zone maps), so the cost follows the new data rather than the history.
-- Parameters: $drop_id, $lo and $hi (min and max ts of the new rows).
INSERT INTO complaints
SELECT event_key, ts, message_id, recipient, account_id, source, $drop_id
FROM __new_complaints AS n
ANTI JOIN (SELECT event_key FROM complaints WHERE ts BETWEEN $lo AND $hi) AS existing
    ON existing.event_key = n.event_key;
