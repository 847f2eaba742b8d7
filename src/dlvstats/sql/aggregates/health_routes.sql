-- aggregates/health_routes: which sending IPs and domains each account and provider used, per day
-- of the aggregates' time zone, as the temp table __agg_health_routes_rows over the months of
-- __agg_months (aggregates/months.sql); dlvstats.aggregates writes the table agg_health_routes.
-- Sender health joins them to the blocklist listings at query time (listings change without an
-- ingest of messages, so they are never aggregated).
-- Grain: one row per distinct (month_start, account_id, provider, sending_ip, sending_domain, day)
--        of the messages sent in the month (the routes of metrics/sender_health.sql).
-- Rules: provider as stored (NULL kept: sender health maps it to 'other'); sending_ip and
--   sending_domain coalesced to '(unknown)'; day = the day's start in $tz, as a UTC instant.
-- Parameters: $tz.
CREATE OR REPLACE TEMP TABLE __agg_health_routes_rows AS
SELECT DISTINCT m.month_start, f.account_id, f.provider,
       coalesce(f.sending_ip, '(unknown)') AS sending_ip,
       coalesce(f.sending_domain, '(unknown)') AS sending_domain,
       CASE WHEN $tz = 'UTC' THEN date_trunc('day', f.sent_at)
            ELSE timezone('UTC', timezone($tz, date_trunc('day', timezone($tz, timezone('UTC', f.sent_at))))) END AS day
FROM message_facts AS f
JOIN __agg_months AS m ON f.sent_at >= m.month_start AND f.sent_at < m.month_end;
