-- sender_health: complaint and bounce rates against the mailbox providers' lines, bounces by
-- category, and blocklist listings, per dimension value and per day, week or month.
-- Grain: one row per (dimension, dimension_value, period_start) with at least one send, for each
--        dimension in $dimensions: 'account' (account_id), 'provider' (recipient's mailbox
--        provider), 'sending_ip', 'sending_domain', 'all' (everything in scope, value 'all').
--        Messages sent in [$date_from, $date_to) (sent_at, UTC), of $account_id when given.
--        period_start is the start of the day / ISO week (Monday) / month of sent_at in the
--        reporting time zone $tz (as a UTC timestamp)
--        ($grain = 'day' | 'week' | 'month'), clipped to the period; 'period' pools everything.
-- Needs: __bounce_category (relations/bounce_category.sql) and __blocklist_periods
--        (relations/blocklist_periods.sql) built for the same scope on this connection.
-- Parameters: $date_from, $date_to, $account_id, $dimensions (VARCHAR[]), $grain, $tz (the
--             reporting time zone of the day/week/month cuts, e.g. 'Europe/Paris'; 'UTC' by default),
--             $fbl_providers (VARCHAR[]: providers that report complaints per message, from
--             dlvstats/data/complaint_feedback_providers.csv).
-- Public columns (counts are messages unless said):
--   sends                every message handed to the MTA
--   delivered            status = delivered
--   recipients           distinct recipients
--   complaints           delivered messages with a spam complaint (feedback loop, Signal Spam,
--                        abuse desk; see relations/message_facts.sql)
--   complaint_rate       num = complaints, den = delivered (all providers)
--   delivered_fbl        delivered to a provider in $fbl_providers
--   complaints_fbl       complaints among delivered_fbl
--   complaint_rate_fbl   num = complaints_fbl, den = delivered_fbl: the rate to hold against the
--                        0.1% / 0.3% lines (Gmail's own rate is only in Postmaster Tools)
--   gmail_delivered      delivered to Gmail: in complaint_rate's denominator, never in
--                        complaint_rate_fbl's (Gmail reports no complaint per message)
--   bounces, hard_bounces, soft_bounces   status = bounced (by bounce_class)
--   hard_bounce_rate     num = hard_bounces, den = sends
--   bounces_<category>   bounced messages (hard or soft) per category: invalid_mailbox,
--                        bad_domain, mailbox_full, policy_block, content, other
--   invalid_address_rate num = hard bounces in invalid_mailbox or bad_domain, den = sends: the
--                        dead-address rate, which a blocklisting does not inflate
--   block_rate           num = bounces in policy_block, den = sends
--   blocklist_listings   'listed' events (blocklists) in the row's period of a sending IP or
--                        domain used by the row's messages in that period
--   listed_targets       those targets with a listing active at any time in the row's period
-- Rates come as cluster sums R__num, R__den, R__y2, R__yn, R__n2, R__k (clusters = recipients;
-- see dlvstats/metrics/common.py), which the Python side turns into R, R_low, R_high.
WITH msg AS (
    -- person: a 64-bit hash of the address, a cheaper grouping key (collisions are negligible)
    SELECT hash(f.recipient) AS person, f.sent_at, f.account_id, f.provider,
           coalesce(f.sending_ip, '(unknown)') AS sending_ip,
           coalesce(f.sending_domain, '(unknown)') AS sending_domain,
           f.is_delivered, f.is_hard_bounce, f.is_soft_bounce,
           f.status = 'bounced' AS is_bounce,
           f.is_delivered AND f.has_complaint AS is_complaint,
           f.is_delivered AND list_contains($fbl_providers, f.provider) AS is_delivered_fbl,
           f.is_delivered AND f.provider = 'gmail' AS is_delivered_gmail,
           b.category
    FROM message_facts AS f
    LEFT JOIN __bounce_category AS b USING (message_id)
    WHERE dlv_in_scope(f.sent_at, f.account_id, $date_from, $date_to, $account_id)
),
bucketed AS NOT MATERIALIZED (
    SELECT d.dimension,
           CASE d.dimension
               WHEN 'account' THEN m.account_id
               WHEN 'provider' THEN coalesce(m.provider, 'other')
               WHEN 'sending_ip' THEN m.sending_ip
               WHEN 'sending_domain' THEN m.sending_domain
               ELSE 'all'
           END AS dimension_value,
           CASE $grain
               WHEN 'day' THEN greatest((CASE WHEN $tz = 'UTC' THEN date_trunc('day', m.sent_at) ELSE timezone('UTC', timezone($tz, date_trunc('day', timezone($tz, timezone('UTC', m.sent_at))))) END), $date_from)
               WHEN 'week' THEN greatest((CASE WHEN $tz = 'UTC' THEN date_trunc('week', m.sent_at) ELSE timezone('UTC', timezone($tz, date_trunc('week', timezone($tz, timezone('UTC', m.sent_at))))) END), $date_from)
               WHEN 'month' THEN greatest((CASE WHEN $tz = 'UTC' THEN date_trunc('month', m.sent_at) ELSE timezone('UTC', timezone($tz, date_trunc('month', timezone($tz, timezone('UTC', m.sent_at))))) END), $date_from)
               ELSE CAST($date_from AS TIMESTAMP)
           END AS period_start,
           m.*
    FROM msg AS m
    CROSS JOIN (SELECT unnest($dimensions) AS dimension) AS d
),
per_person AS (
    -- per recipient and cell: the counts, and for each rate (y, n) = (events, messages)
    SELECT dimension, dimension_value, period_start, person,
           count(*) AS n_sends,
           count(*) FILTER (is_delivered) AS n_delivered,
           count(*) FILTER (is_delivered_fbl) AS n_delivered_fbl,
           count(*) FILTER (is_delivered_gmail) AS n_delivered_gmail,
           count(*) FILTER (is_complaint) AS y_complaints,
           count(*) FILTER (is_complaint AND is_delivered_fbl) AS y_complaints_fbl,
           count(*) FILTER (is_hard_bounce) AS y_hard,
           count(*) FILTER (is_soft_bounce) AS y_soft,
           count(*) FILTER (category IS NOT NULL) AS y_bounces,
           count(*) FILTER (is_hard_bounce AND category IN ('invalid_mailbox', 'bad_domain')) AS y_invalid,
           count(*) FILTER (category = 'policy_block') AS y_block,
           count(*) FILTER (category = 'invalid_mailbox') AS b_invalid_mailbox,
           count(*) FILTER (category = 'bad_domain') AS b_bad_domain,
           count(*) FILTER (category = 'mailbox_full') AS b_mailbox_full,
           count(*) FILTER (category = 'content') AS b_content,
           count(*) FILTER (category = 'other') AS b_other
    FROM bucketed
    GROUP BY ALL
),
cell_sums AS (
    -- counts (macro dlv_health_counts, sql/macros/health.sql), and per rate Σy, Σn, Σy², Σyn, Σn², k
    -- (dlv_cluster_sums, sql/macros/cluster.sql; every person has n_sends >= 1, so k = persons)
    SELECT dimension, dimension_value, period_start,
           CASE $grain
               WHEN 'day' THEN least((CASE WHEN $tz = 'UTC' THEN date_trunc('day', period_start) + INTERVAL 1 DAY ELSE timezone('UTC', timezone($tz, date_trunc('day', timezone($tz, timezone('UTC', period_start))) + INTERVAL 1 DAY)) END), $date_to)
               WHEN 'week' THEN least((CASE WHEN $tz = 'UTC' THEN date_trunc('week', period_start) + INTERVAL 7 DAY ELSE timezone('UTC', timezone($tz, date_trunc('week', timezone($tz, timezone('UTC', period_start))) + INTERVAL 7 DAY)) END), $date_to)
               WHEN 'month' THEN least((CASE WHEN $tz = 'UTC' THEN date_trunc('month', period_start) + INTERVAL 1 MONTH ELSE timezone('UTC', timezone($tz, date_trunc('month', timezone($tz, timezone('UTC', period_start))) + INTERVAL 1 MONTH)) END), $date_to)
               ELSE CAST($date_to AS TIMESTAMP)
           END AS period_end,
           dlv_health_counts(n_sends, n_delivered, n_delivered_fbl, n_delivered_gmail, y_complaints,
                             y_complaints_fbl, y_bounces, y_hard, y_soft, b_invalid_mailbox, b_bad_domain,
                             b_mailbox_full, y_block, b_content, b_other) AS counts,
           dlv_cluster_sums(y_complaints, n_delivered) AS complaint_rate,
           dlv_cluster_sums(y_complaints_fbl, n_delivered_fbl) AS complaint_rate_fbl,
           dlv_cluster_sums(y_hard, n_sends) AS hard_bounce_rate,
           dlv_cluster_sums(y_invalid, n_sends) AS invalid_address_rate,
           dlv_cluster_sums(y_block, n_sends) AS block_rate
    FROM per_person
    GROUP BY dimension, dimension_value, period_start
),
cells AS (
    -- the counts as columns, the rates' sums as one struct each (spread last, after the listings)
    SELECT dimension, dimension_value, period_start, period_end, COLUMNS(counts.*) AS '\0',
           complaint_rate, complaint_rate_fbl, hard_bounce_rate, invalid_address_rate, block_rate
    FROM cell_sums
),
routes AS (
    -- which IPs and domains each cell sent from: one cheap pass over the messages (few groups)
    SELECT account_id, provider, sending_ip, sending_domain, (CASE WHEN $tz = 'UTC' THEN date_trunc('day', sent_at) ELSE timezone('UTC', timezone($tz, date_trunc('day', timezone($tz, timezone('UTC', sent_at))))) END) AS day
    FROM msg GROUP BY ALL
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
