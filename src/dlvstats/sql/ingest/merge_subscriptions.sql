-- Merge the staged, validated subscriptions (__new_subscriptions, deduplicated within the drop) into `subscriptions`.
-- Grain: one row per subscribe/unsubscribe event; key: event_key (the spec's natural key, or event_id when given).
-- Rule: a row whose key is already stored is a duplicate. The key includes ts, so only stored rows
-- inside the new rows' time range can match: the range filter lets DuckDB skip old row groups
-- (zone maps), so the cost follows the new data rather than the history.
-- Parameters: $drop_id, $lo and $hi (min and max ts of the new rows).
INSERT INTO subscriptions
SELECT event_key, ts, account_id, list_id, recipient, action, source, campaign_id, collected_at, $drop_id
FROM __new_subscriptions AS n
ANTI JOIN (SELECT event_key FROM subscriptions WHERE ts BETWEEN $lo AND $hi) AS existing
    ON existing.event_key = n.event_key;
