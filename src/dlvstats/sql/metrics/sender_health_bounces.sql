-- sender_health_bounces: bounced messages by category (why the remote server refused them), so a
-- blocklisting or a content block is told apart from dead addresses.
-- Grain: one row per (dimension, dimension_value, period_start, category) with at least one
--        bounce; dimensions, grain and scope as in sender_health.sql (messages sent in
--        [$date_from, $date_to), sent_at UTC, of $account_id when given; cuts in $tz).
-- Needs: __bounce_category (relations/bounce_category.sql) built for the same scope.
-- Parameters: $date_from, $date_to, $account_id, $dimensions (VARCHAR[]), $grain, $tz (the
--             reporting time zone of the day/week/month cuts, e.g. 'Europe/Paris'; 'UTC' by default).
-- Public columns:
--   category            invalid_mailbox | bad_domain | mailbox_full | policy_block | content | other
--   bounces             bounced messages of the category (hard and soft)
--   hard_bounces, soft_bounces   the same by bounce_class
--   sends               every message of the row's dimension value and period (all categories)
--   all_bounces         bounced messages of the dimension value and period (all categories)
--   bounce_rate         num = bounces, den = sends (cluster sums over recipients)
--   share_of_bounces    bounces / all_bounces (no interval: a composition, not a rate per send)
--   matched_by_code     bounces whose category came from a status code (enhanced or basic), not
--                       from the wording
--   top_enhanced_status the most frequent enhanced status code of the category (approximately:
--                       the mode of each recipient's mode; never the reply text, which may quote
--                       the recipient's address)
WITH msg AS (
    SELECT hash(f.recipient) AS person, f.sent_at, f.account_id, f.provider,
           coalesce(f.sending_ip, '(unknown)') AS sending_ip,
           coalesce(f.sending_domain, '(unknown)') AS sending_domain,
           b.category, b.bounce_class, b.matched_by, b.enhanced_status
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
person_cell AS (
    -- every recipient of the cell, with their messages (the denominator side of the sums)
    SELECT dimension, dimension_value, period_start, person, count(*) AS n, count(category) AS bounced
    FROM bucketed GROUP BY ALL
),
cells AS (
    SELECT dimension, dimension_value, period_start,
           sum(n) AS sends, sum(bounced) AS all_bounces,
           sum(n) AS bounce_rate__den, sum(n * n) AS bounce_rate__n2, count(*) AS bounce_rate__k
    FROM person_cell GROUP BY ALL
),
person_category AS (
    -- the bounced side: per recipient and category, y = bounces of the category
    SELECT dimension, dimension_value, period_start, person, category,
           count(*) AS y,
           count(*) FILTER (bounce_class = 'hard') AS y_hard,
           count(*) FILTER (bounce_class = 'soft') AS y_soft,
           count(*) FILTER (matched_by IN ('enhanced_status', 'smtp_code')) AS y_code,
           mode(enhanced_status) AS top_status
    FROM bucketed WHERE category IS NOT NULL
    GROUP BY ALL
),
categories AS (
    SELECT k.dimension, k.dimension_value, k.period_start, k.category,
           CAST(sum(k.y) AS BIGINT) AS bounces,
           CAST(sum(k.y_hard) AS BIGINT) AS hard_bounces,
           CAST(sum(k.y_soft) AS BIGINT) AS soft_bounces,
           CAST(sum(k.y_code) AS BIGINT) AS matched_by_code,
           mode(k.top_status) AS top_enhanced_status,
           sum(k.y) AS bounce_rate__num, sum(k.y * k.y) AS bounce_rate__y2, sum(k.y * p.n) AS bounce_rate__yn
    FROM person_category AS k
    JOIN person_cell AS p USING (dimension, dimension_value, period_start, person)
    GROUP BY ALL
)
SELECT k.dimension, k.dimension_value, k.period_start, k.category,
       k.bounces, k.hard_bounces, k.soft_bounces,
       CAST(c.sends AS BIGINT) AS sends, CAST(c.all_bounces AS BIGINT) AS all_bounces,
       k.bounces / c.all_bounces AS share_of_bounces,
       k.matched_by_code, k.top_enhanced_status,
       k.bounce_rate__num, c.bounce_rate__den, k.bounce_rate__y2, k.bounce_rate__yn,
       c.bounce_rate__n2, c.bounce_rate__k
FROM categories AS k
JOIN cells AS c USING (dimension, dimension_value, period_start)
ORDER BY k.dimension, k.period_start, k.dimension_value, k.bounces DESC;
