-- Drift alarm, by provider: the machine-open share of each mailbox provider per month, beside the
-- month before. Grain: one row per (provider, month); month = the UTC calendar month in which the
-- opened messages were sent (a message's opens count in its send month, so a month is compared with
-- a month of the same messages' life).
-- machine_open_share = machine opens / opens (labelled by classify), with a 95% Wilson interval;
-- change = share - the previous month's share (NULL when the previous calendar month has no opens);
-- is_small_cell: fewer than $drift_min_opens opens (this month or the one before): no alarm, too noisy;
-- is_alarm: not small, |change| >= $drift_share_points and the two months' intervals do not
-- overlap: a silent change of user agent or proxy behaviour at that provider moves this share, and
-- every engagement figure for the provider with it.
WITH monthly AS (
    SELECT coalesce(s.provider, 'unknown') AS provider, date_trunc('month', s.sent_at) AS month,
           count(*) AS opens, count(*) FILTER (o.actor = 'machine') AS machine_opens
    FROM opens AS o JOIN sends AS s USING (message_id)
    WHERE s.sent_at IS NOT NULL
    GROUP BY ALL
),
shares AS (
    SELECT *, machine_opens / opens AS machine_open_share,
           (machine_opens / opens + 1.92 / opens
            - 1.96 * sqrt(machine_opens / opens * (1 - machine_opens / opens) / opens + 0.9604 / opens ^ 2))
           / (1 + 3.8416 / opens) AS share_low,
           (machine_opens / opens + 1.92 / opens
            + 1.96 * sqrt(machine_opens / opens * (1 - machine_opens / opens) / opens + 0.9604 / opens ^ 2))
           / (1 + 3.8416 / opens) AS share_high
    FROM monthly
),
paired AS (
    SELECT *,
           lag(month) OVER w AS prev_month, lag(opens) OVER w AS prev_opens,
           lag(machine_open_share) OVER w AS prev_share,
           lag(share_low) OVER w AS prev_low, lag(share_high) OVER w AS prev_high
    FROM shares
    WINDOW w AS (PARTITION BY provider ORDER BY month)
)
SELECT provider, month::DATE AS month, opens, machine_opens, machine_open_share, share_low, share_high,
       CASE WHEN prev_month = month - INTERVAL 1 MONTH THEN prev_share END AS prev_share,
       CASE WHEN prev_month = month - INTERVAL 1 MONTH THEN machine_open_share - prev_share END AS change,
       opens < $drift_min_opens OR coalesce(prev_opens, 0) < $drift_min_opens AS is_small_cell,
       coalesce(prev_month = month - INTERVAL 1 MONTH
                AND opens >= $drift_min_opens AND prev_opens >= $drift_min_opens
                AND abs(machine_open_share - prev_share) >= $drift_share_points
                AND (share_low > prev_high OR share_high < prev_low), false) AS is_alarm
FROM paired
ORDER BY provider, month;
