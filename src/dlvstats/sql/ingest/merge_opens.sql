-- Merge the staged, validated opens (__new_opens, deduplicated within the drop) into `opens`.
-- Grain: one row per tracking-pixel fetch; key: event_key (the spec's natural key, or event_id when given).
-- Rule: a row whose key is already stored is a duplicate. The key includes ts, so only stored rows
-- inside the new rows' time range can match: the range filter lets DuckDB skip old row groups
-- (zone maps), so the cost follows the new data rather than the history.
-- Parameters: $drop_id, $lo and $hi (min and max ts of the new rows).
INSERT INTO opens
SELECT event_key, message_id, ts, user_agent, ip, event_id, is_machine, NULL, NULL, $drop_id
FROM __new_opens AS n
ANTI JOIN (SELECT event_key FROM opens WHERE ts BETWEEN $lo AND $hi) AS existing
    ON existing.event_key = n.event_key;
