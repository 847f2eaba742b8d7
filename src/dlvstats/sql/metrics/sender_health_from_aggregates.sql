-- sender_health_from_aggregates: metrics/sender_health.sql's table, read from the monthly aggregates
-- (agg_health_cells, agg_health_routes: sql/aggregates/) instead of a month of messages.
-- Grain, columns and order: those of metrics/sender_health.sql, for a period [$date_from, $date_to)
-- of whole months of the aggregates' time zone $tz. The metric (metrics.sender_health) calls it only
-- then, and only when $grain is 'day' or 'month', or 'week' / 'period' within one month (the
-- aggregates keep a person's sums within a month: a cell pooling several months is read from raw
-- messages), with the default bounce rules and feedback-loop providers the aggregates were built with.
-- Rules: 'account' rows are the 'all' cells of each account's scope; the other dimensions are the
--   cells of scope $account_id (NULL = every account); 'period' is the month's cell, dated $date_from.
--   Blocklist listings are joined at query time, as in sender_health.sql.
-- Needs: __blocklist_periods (relations/blocklist_periods.sql) on this connection.
-- Parameters: $date_from, $date_to, $account_id, $dimensions (VARCHAR[]), $grain, $tz.
WITH cells AS (
    SELECT d.dimension,
           CASE WHEN d.dimension = 'account' THEN a.scope_account ELSE a.dimension_value END AS dimension_value,
           CASE WHEN $grain = 'period' THEN CAST($date_from AS TIMESTAMP) ELSE a.period_start END AS period_start,
           CASE $grain
               WHEN 'day' THEN least((CASE WHEN $tz = 'UTC' THEN date_trunc('day', a.period_start) + INTERVAL 1 DAY ELSE timezone('UTC', timezone($tz, date_trunc('day', timezone($tz, timezone('UTC', a.period_start))) + INTERVAL 1 DAY)) END), $date_to)
               WHEN 'week' THEN least((CASE WHEN $tz = 'UTC' THEN date_trunc('week', a.period_start) + INTERVAL 7 DAY ELSE timezone('UTC', timezone($tz, date_trunc('week', timezone($tz, timezone('UTC', a.period_start))) + INTERVAL 7 DAY)) END), $date_to)
               WHEN 'month' THEN least((CASE WHEN $tz = 'UTC' THEN date_trunc('month', a.period_start) + INTERVAL 1 MONTH ELSE timezone('UTC', timezone($tz, date_trunc('month', timezone($tz, timezone('UTC', a.period_start))) + INTERVAL 1 MONTH)) END), $date_to)
               ELSE CAST($date_to AS TIMESTAMP)
           END AS period_end,
           a.recipients, a.sends, a.delivered, a.complaints, a.delivered_fbl, a.complaints_fbl, a.gmail_delivered,
           a.bounces, a.hard_bounces, a.soft_bounces, a.bounces_invalid_mailbox, a.bounces_bad_domain,
           a.bounces_mailbox_full, a.bounces_policy_block, a.bounces_content, a.bounces_other,
           dlv_cluster_stored(a.complaints, a.delivered, a.complaint_rate__y2, a.complaint_rate__yn,
                              a.delivered__n2, a.delivered__k) AS complaint_rate,
           dlv_cluster_stored(a.complaints_fbl, a.delivered_fbl, a.complaint_rate_fbl__y2, a.complaint_rate_fbl__yn,
                              a.delivered_fbl__n2, a.delivered_fbl__k) AS complaint_rate_fbl,
           dlv_cluster_stored(a.hard_bounces, a.sends, a.hard_bounce_rate__y2, a.hard_bounce_rate__yn,
                              a.sends__n2, a.recipients) AS hard_bounce_rate,
           dlv_cluster_stored(a.invalid_addresses, a.sends, a.invalid_address_rate__y2, a.invalid_address_rate__yn,
                              a.sends__n2, a.recipients) AS invalid_address_rate,
           dlv_cluster_stored(a.bounces_policy_block, a.sends, a.block_rate__y2, a.block_rate__yn,
                              a.sends__n2, a.recipients) AS block_rate
    FROM agg_health_cells AS a
    JOIN (SELECT unnest($dimensions) AS dimension) AS d
      ON (d.dimension = 'account' AND a.dimension = 'all' AND a.scope_account IS NOT NULL
          AND ($account_id IS NULL OR a.scope_account = $account_id))
      OR (d.dimension <> 'account' AND a.dimension = d.dimension
          AND a.scope_account IS NOT DISTINCT FROM $account_id)
    WHERE dlv_in_period(a.month_start, $date_from, $date_to)
      AND a.grain = CASE WHEN $grain = 'period' THEN 'month' ELSE $grain END
),
routes AS (
    SELECT account_id, provider, sending_ip, sending_domain, day
    FROM agg_health_routes
    WHERE dlv_in_scope(month_start, account_id, $date_from, $date_to, $account_id)
),
targets AS (
    SELECT DISTINCT d.dimension,
           CASE d.dimension
               WHEN 'account' THEN r.account_id
               WHEN 'provider' THEN coalesce(r.provider, 'other')
               WHEN 'sending_ip' THEN r.sending_ip
               WHEN 'sending_domain' THEN r.sending_domain
               ELSE 'all'
           END AS dimension_value,
           CASE $grain
               WHEN 'day' THEN greatest(r.day, $date_from)
               WHEN 'week' THEN greatest((CASE WHEN $tz = 'UTC' THEN date_trunc('week', r.day) ELSE timezone('UTC', timezone($tz, date_trunc('week', timezone($tz, timezone('UTC', r.day))))) END), $date_from)
               WHEN 'month' THEN greatest((CASE WHEN $tz = 'UTC' THEN date_trunc('month', r.day) ELSE timezone('UTC', timezone($tz, date_trunc('month', timezone($tz, timezone('UTC', r.day))))) END), $date_from)
               ELSE CAST($date_from AS TIMESTAMP)
           END AS period_start,
           unnest([r.sending_ip, r.sending_domain]) AS target
    FROM routes AS r
    CROSS JOIN (SELECT unnest($dimensions) AS dimension) AS d
),
listings AS (
    SELECT t.dimension, t.dimension_value, t.period_start,
           count(DISTINCT (p.target, p.blocklist, p.listed_at))
               FILTER (p.listed_at >= c.period_start AND p.listed_at < c.period_end) AS blocklist_listings,
           count(DISTINCT p.target) AS listed_targets
    FROM targets AS t
    JOIN cells AS c USING (dimension, dimension_value, period_start)
    JOIN __blocklist_periods AS p
      ON (p.target = t.target OR ends_with(t.target, '.' || p.target))
     AND p.listed_at < c.period_end
     AND (p.delisted_at IS NULL OR p.delisted_at > c.period_start)
    GROUP BY ALL
)
SELECT c.* EXCLUDE (complaint_rate, complaint_rate_fbl, hard_bounce_rate, invalid_address_rate, block_rate),
       coalesce(l.blocklist_listings, 0) AS blocklist_listings,
       coalesce(l.listed_targets, 0) AS listed_targets,
       COLUMNS(complaint_rate.*) AS 'complaint_rate__\0',
       COLUMNS(complaint_rate_fbl.*) AS 'complaint_rate_fbl__\0',
       COLUMNS(hard_bounce_rate.*) AS 'hard_bounce_rate__\0',
       COLUMNS(invalid_address_rate.*) AS 'invalid_address_rate__\0',
       COLUMNS(block_rate.*) AS 'block_rate__\0'
FROM cells AS c
LEFT JOIN listings AS l USING (dimension, dimension_value, period_start)
ORDER BY c.dimension, c.period_start, c.dimension_value;
