-- sender_health_bounces: bounced messages by category (why the remote server refused them), so a
-- blocklisting or a content block is told apart from dead addresses.
-- Grain: one row per (dimension, dimension_value, period_start, category) with at least one
--        bounce; dimensions, grain and scope as in sender_health.sql (messages sent in
--        [$date_from, $date_to), sent_at UTC, of $account_id when given).
-- Needs: __bounce_category (relations/bounce_category.sql) built for the same scope.
-- Parameters: $date_from, $date_to, $account_id, $dimensions (VARCHAR[]), $grain.
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
--   top_enhanced_status the most frequent enhanced status code of the category (never the
--                       reply text, which may quote the recipient's address)
WITH msg AS (
    SELECT f.message_id, f.recipient, f.sent_at, f.account_id, f.provider,
           coalesce(f.sending_ip, '(unknown)') AS sending_ip,
           coalesce(f.sending_domain, '(unknown)') AS sending_domain,
           b.category, b.bounce_class, b.matched_by, b.enhanced_status
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
cells AS (
    SELECT dimension, dimension_value, period_start,
           count(*) AS sends, count(category) AS all_bounces
    FROM bucketed GROUP BY ALL
),
categories AS (
    SELECT DISTINCT dimension, dimension_value, period_start, category
    FROM bucketed WHERE category IS NOT NULL
),
per_person AS (
    SELECT c.dimension, c.dimension_value, c.period_start, c.category, b.recipient,
           count(*) FILTER (b.category = c.category) AS y,
           count(*) AS n
    FROM categories AS c
    JOIN bucketed AS b USING (dimension, dimension_value, period_start)
    GROUP BY ALL
),
rate_sums AS (
    SELECT dimension, dimension_value, period_start, category,
           sum(y) AS bounce_rate__num, sum(n) AS bounce_rate__den, sum(y * y) AS bounce_rate__y2,
           sum(y * n) AS bounce_rate__yn, sum(n * n) AS bounce_rate__n2, count(*) AS bounce_rate__k
    FROM per_person GROUP BY ALL
),
category_counts AS (
    SELECT dimension, dimension_value, period_start, category,
           count(*) AS bounces,
           count(*) FILTER (bounce_class = 'hard') AS hard_bounces,
           count(*) FILTER (bounce_class = 'soft') AS soft_bounces,
           count(*) FILTER (matched_by IN ('enhanced_status', 'smtp_code')) AS matched_by_code,
           mode(enhanced_status) AS top_enhanced_status
    FROM bucketed WHERE category IS NOT NULL
    GROUP BY ALL
)
SELECT k.dimension, k.dimension_value, k.period_start, k.category,
       k.bounces, k.hard_bounces, k.soft_bounces, c.sends, c.all_bounces,
       k.bounces / c.all_bounces AS share_of_bounces,
       k.matched_by_code, k.top_enhanced_status,
       r.* EXCLUDE (dimension, dimension_value, period_start, category)
FROM category_counts AS k
JOIN cells AS c USING (dimension, dimension_value, period_start)
JOIN rate_sums AS r USING (dimension, dimension_value, period_start, category)
ORDER BY k.dimension, k.period_start, k.dimension_value, k.bounces DESC;
