-- sender_health: complaint and bounce rates against the mailbox providers' lines, bounces by
-- category, and blocklist listings, per dimension value and per day, week or month.
-- Grain: one row per (dimension, dimension_value, period_start) with at least one send, for each
--        dimension in $dimensions: 'account' (account_id), 'provider' (recipient's mailbox
--        provider), 'sending_ip', 'sending_domain', 'all' (everything in scope, value 'all').
--        Messages sent in [$date_from, $date_to) (sent_at, UTC), of $account_id when given.
--        period_start is the start of the UTC day / ISO week (Monday) / month of sent_at
--        ($grain = 'day' | 'week' | 'month'), clipped to the period; 'period' pools everything.
-- Needs: __bounce_category (relations/bounce_category.sql) and __blocklist_periods
--        (relations/blocklist_periods.sql) built for the same scope on this connection.
-- Parameters: $date_from, $date_to, $account_id, $dimensions (VARCHAR[]), $grain,
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
--   gmail_delivered      delivered to Gmail: outside both rates' per-message feedback
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
    SELECT f.message_id, f.recipient, f.sent_at, f.account_id, f.provider,
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
    WHERE f.sent_at >= $date_from AND f.sent_at < $date_to
      AND ($account_id IS NULL OR f.account_id = $account_id)
),
bucketed AS (
    SELECT d.dimension,
           CASE d.dimension
               WHEN 'account' THEN m.account_id
               WHEN 'provider' THEN coalesce(m.provider, 'other')
               WHEN 'sending_ip' THEN m.sending_ip
               WHEN 'sending_domain' THEN m.sending_domain
               ELSE 'all'
           END AS dimension_value,
           CASE $grain
               WHEN 'day' THEN greatest(date_trunc('day', m.sent_at), $date_from)
               WHEN 'week' THEN greatest(date_trunc('week', m.sent_at), $date_from)
               WHEN 'month' THEN greatest(date_trunc('month', m.sent_at), $date_from)
               ELSE CAST($date_from AS TIMESTAMP)
           END AS period_start,
           m.*
    FROM msg AS m
    CROSS JOIN (SELECT unnest($dimensions) AS dimension) AS d
),
per_person AS (
    SELECT dimension, dimension_value, period_start, recipient,
           count(*) AS n_sends,
           count(*) FILTER (is_delivered) AS n_delivered,
           count(*) FILTER (is_delivered_fbl) AS n_delivered_fbl,
           count(*) FILTER (is_complaint) AS y_complaints,
           count(*) FILTER (is_complaint AND is_delivered_fbl) AS y_complaints_fbl,
           count(*) FILTER (is_hard_bounce) AS y_hard,
           count(*) FILTER (is_hard_bounce AND category IN ('invalid_mailbox', 'bad_domain')) AS y_invalid,
           count(*) FILTER (is_bounce AND category = 'policy_block') AS y_block
    FROM bucketed
    GROUP BY ALL
),
long AS (
    UNPIVOT per_person
    ON (y_complaints, n_delivered) AS complaint_rate,
       (y_complaints_fbl, n_delivered_fbl) AS complaint_rate_fbl,
       (y_hard, n_sends) AS hard_bounce_rate,
       (y_invalid, n_sends) AS invalid_address_rate,
       (y_block, n_sends) AS block_rate
    INTO NAME rate VALUE y, n
),
rate_sums AS (
    SELECT dimension, dimension_value, period_start, rate,
           sum(y) AS num, sum(n) AS den, sum(y * y) AS y2, sum(y * n) AS yn, sum(n * n) AS n2,
           count(*) AS k
    FROM long
    WHERE n > 0
    GROUP BY ALL
),
rates AS (
    PIVOT rate_sums
    ON rate IN ('complaint_rate', 'complaint_rate_fbl', 'hard_bounce_rate', 'invalid_address_rate', 'block_rate')
    USING first(num) AS _num, first(den) AS _den, first(y2) AS _y2, first(yn) AS _yn,
          first(n2) AS _n2, first(k) AS _k
    GROUP BY dimension, dimension_value, period_start
),
counts AS (
    SELECT dimension, dimension_value, period_start,
           CASE $grain
               WHEN 'day' THEN least(date_trunc('day', period_start) + INTERVAL 1 DAY, $date_to)
               WHEN 'week' THEN least(date_trunc('week', period_start) + INTERVAL 7 DAY, $date_to)
               WHEN 'month' THEN least(date_trunc('month', period_start) + INTERVAL 1 MONTH, $date_to)
               ELSE CAST($date_to AS TIMESTAMP)
           END AS period_end,
           count(*) AS sends,
           count(*) FILTER (is_delivered) AS delivered,
           count(DISTINCT recipient) AS recipients,
           count(*) FILTER (is_complaint) AS complaints,
           count(*) FILTER (is_delivered_fbl) AS delivered_fbl,
           count(*) FILTER (is_complaint AND is_delivered_fbl) AS complaints_fbl,
           count(*) FILTER (is_delivered_gmail) AS gmail_delivered,
           count(*) FILTER (is_bounce) AS bounces,
           count(*) FILTER (is_hard_bounce) AS hard_bounces,
           count(*) FILTER (is_soft_bounce) AS soft_bounces,
           count(*) FILTER (is_bounce AND category = 'invalid_mailbox') AS bounces_invalid_mailbox,
           count(*) FILTER (is_bounce AND category = 'bad_domain') AS bounces_bad_domain,
           count(*) FILTER (is_bounce AND category = 'mailbox_full') AS bounces_mailbox_full,
           count(*) FILTER (is_bounce AND category = 'policy_block') AS bounces_policy_block,
           count(*) FILTER (is_bounce AND category = 'content') AS bounces_content,
           count(*) FILTER (is_bounce AND coalesce(category, 'other') = 'other') AS bounces_other
    FROM bucketed
    GROUP BY ALL
),
targets AS (
    SELECT DISTINCT dimension, dimension_value, period_start, sending_ip AS target FROM bucketed
    UNION
    SELECT DISTINCT dimension, dimension_value, period_start, sending_domain FROM bucketed
),
listings AS (
    SELECT t.dimension, t.dimension_value, t.period_start,
           count(DISTINCT (p.target, p.blocklist, p.listed_at))
               FILTER (p.listed_at >= c.period_start AND p.listed_at < c.period_end) AS blocklist_listings,
           count(DISTINCT p.target) AS listed_targets
    FROM targets AS t
    JOIN counts AS c USING (dimension, dimension_value, period_start)
    JOIN __blocklist_periods AS p
      ON (p.target = t.target OR t.target LIKE '%.' || p.target)
     AND p.listed_at < c.period_end
     AND (p.delisted_at IS NULL OR p.delisted_at > c.period_start)
    GROUP BY ALL
)
SELECT c.*,
       coalesce(l.blocklist_listings, 0) AS blocklist_listings,
       coalesce(l.listed_targets, 0) AS listed_targets,
       r.* EXCLUDE (dimension, dimension_value, period_start)
FROM counts AS c
LEFT JOIN rates AS r USING (dimension, dimension_value, period_start)
LEFT JOIN listings AS l USING (dimension, dimension_value, period_start)
ORDER BY c.dimension, c.period_start, c.dimension_value;
