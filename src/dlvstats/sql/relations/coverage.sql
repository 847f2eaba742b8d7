-- Coverage: per canonical kind, row count and first/last timestamp.
-- Grain: one row per kind. Timestamps are UTC.
SELECT 'sends' AS kind, count(*) AS row_count, min(sent_at) AS first_at, max(sent_at) AS last_at FROM sends
UNION ALL SELECT 'opens', count(*), min(ts), max(ts) FROM opens
UNION ALL SELECT 'clicks', count(*), min(ts), max(ts) FROM clicks
UNION ALL SELECT 'complaints', count(*), min(ts), max(ts) FROM complaints
UNION ALL SELECT 'subscriptions', count(*), min(ts), max(ts) FROM subscriptions
UNION ALL SELECT 'campaigns', count(*), min(sent_at), max(sent_at) FROM campaigns
UNION ALL SELECT 'orders', count(*), min(ts), max(ts) FROM orders
UNION ALL SELECT 'blocklists', count(*), min(ts), max(ts) FROM blocklists
UNION ALL SELECT 'rejects', count(*), NULL, NULL FROM rejects;
