-- Drift alarm, unknown machines: per month, the machine events (opens and clicks labelled machine by
-- a rule of dlvstats, not the ESP's own flag) whose address lies in no listed network (temp
-- __networks; networks.ensure), as a share of those machine events. Grain: one row per month
-- (UTC calendar month of the event). A growing share means machines the networks snapshot does not
-- know: only behaviour catches them, and a new fleet that behaves differently would be missed.
-- is_small_cell: fewer than $drift_min_events machine events this month or the month before;
-- is_alarm: not small and the share grew by at least $drift_unlisted_points over the month before.
-- Needs the ip4_int macro (networks/macros.sql).
WITH machine_events AS (
    SELECT date_trunc('month', ts) AS month, ip4_int(ip) AS ip_int FROM opens
    WHERE actor = 'machine' AND actor_rule <> 'vendor_flag'
    UNION ALL
    SELECT date_trunc('month', ts), ip4_int(ip) FROM clicks
    WHERE actor = 'machine' AND actor_rule <> 'vendor_flag'
),
listed AS (
    SELECT e.month, e.ip_int,
           EXISTS (SELECT 1 FROM __networks AS n
                   WHERE n.bucket = (e.ip_int >> 24) AND e.ip_int BETWEEN n.start_int AND n.end_int) AS is_listed
    FROM machine_events AS e
),
monthly AS (
    SELECT month, count(*) AS machine_events,
           count(*) FILTER (NOT coalesce(is_listed, false)) AS unlisted_events
    FROM listed GROUP BY month
),
paired AS (
    SELECT *, unlisted_events / machine_events AS unlisted_share,
           lag(month) OVER (ORDER BY month) AS prev_month,
           lag(machine_events) OVER (ORDER BY month) AS prev_events,
           lag(unlisted_events / machine_events) OVER (ORDER BY month) AS prev_share
    FROM monthly
)
SELECT month::DATE AS month, machine_events, unlisted_events, unlisted_share,
       CASE WHEN prev_month = month - INTERVAL 1 MONTH THEN prev_share END AS prev_share,
       machine_events < $drift_min_events OR coalesce(prev_events, 0) < $drift_min_events AS is_small_cell,
       coalesce(prev_month = month - INTERVAL 1 MONTH
                AND machine_events >= $drift_min_events AND prev_events >= $drift_min_events
                AND unlisted_share - prev_share >= $drift_unlisted_points, false) AS is_alarm
FROM paired
ORDER BY month;
