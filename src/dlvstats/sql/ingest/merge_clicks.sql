-- Merge the staged, validated clicks (__new_clicks, deduplicated within the drop) into `clicks`.
-- Grain: one row per tracked-link redirect; key: event_key (the spec's natural key, or event_id when given).
-- Rule: a row whose key is already stored is a duplicate. The key includes ts, so only stored rows
-- inside the new rows' time range can match: the range filter lets DuckDB skip old row groups
-- (zone maps), so the cost follows the new data rather than the history.
-- Parameters: $drop_id, $lo and $hi (min and max ts of the new rows).
INSERT INTO clicks
SELECT event_key, message_id, ts, url, user_agent, ip, event_id, is_machine, NULL, NULL, NULL, $drop_id
FROM __new_clicks AS n
ANTI JOIN (SELECT event_key FROM clicks WHERE ts BETWEEN $lo AND $hi) AS existing
    ON existing.event_key = n.event_key;
