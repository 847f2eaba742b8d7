-- Daily coverage: rows per UTC day for each event kind, to spot missing days in the logs.
-- Grain: one row per (day, kind). Parameters: none.
SELECT CAST(sent_at AS DATE) AS day, 'sends' AS kind, count(*) AS row_count FROM sends GROUP BY ALL
UNION ALL SELECT CAST(ts AS DATE), 'opens', count(*) FROM opens GROUP BY ALL
UNION ALL SELECT CAST(ts AS DATE), 'clicks', count(*) FROM clicks GROUP BY ALL
UNION ALL SELECT CAST(ts AS DATE), 'complaints', count(*) FROM complaints GROUP BY ALL
UNION ALL SELECT CAST(ts AS DATE), 'subscriptions', count(*) FROM subscriptions GROUP BY ALL
ORDER BY day, kind;
