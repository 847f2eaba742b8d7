-- watch/record_run: one row per `dlvstats watch` run (the next run starts where this one ended).
-- Parameters: $ran_at, $from_ts, $through_ts, $alerts.
INSERT INTO watch_runs VALUES ($ran_at, $from_ts, $through_ts, $alerts);
