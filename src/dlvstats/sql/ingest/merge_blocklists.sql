-- Merge the staged, validated blocklists (__new_blocklists, deduplicated within the drop) into `blocklists`.
-- Grain: one row per listing/delisting; key: event_key (the spec's natural key, or event_id when given).
-- Rule: a row whose key is already stored is a duplicate. The key includes ts, so only stored rows
-- inside the new rows' time range can match: the range filter lets DuckDB skip old row groups
-- (zone maps), so the cost follows the new data rather than the history.
-- Parameters: $drop_id, $lo and $hi (min and max ts of the new rows).
INSERT INTO blocklists (event_key, ts, target, blocklist, action, drop_id)
SELECT event_key, ts, target, blocklist, action, $drop_id
FROM __new_blocklists AS n
ANTI JOIN (SELECT event_key FROM blocklists WHERE ts BETWEEN $lo AND $hi) AS existing
    ON existing.event_key = n.event_key;
