-- watch/window: the period `dlvstats watch` looks at: from the end of the last run's period
-- (or $first_days days before the latest send on a first run) to the latest send in the database.
-- Parameters: $first_days. Columns: from_ts, through_ts (NULL when the database has no send).
SELECT coalesce((SELECT max(through_ts) FROM watch_runs),
                (SELECT max(sent_at) FROM sends) - to_days(CAST($first_days AS INTEGER))) AS from_ts,
       (SELECT max(sent_at) FROM sends) AS through_ts;
