-- headline_trend: the monthly report's headline rates month by month, for its 12-month trend and
-- its year-before column.
-- Grain: one row per month of the reporting time zone $tz that has messages sent in
-- [$date_from, $date_to) (UTC instants, sent_at), of $account_id when given. month_start is the
-- month's first instant in UTC (Paris's November 2026 starts at 2026-10-31 23:00).
-- Rules (the same definitions as headline_rates and sender health, from message_facts):
--   delivery_rate     delivered / sent;
--   hard_bounce_rate  hard bounces / sent;
--   open_rate         delivered messages with any open, machine opens included (what an ESP's
--                     dashboard calls the open rate) / delivered;
--   human_open_rate   delivered messages with a human open / delivered;
--   human_click_rate        delivered messages with a human click on a content link / delivered;
--   unsubscribe_rate  delivered messages followed by the person leaving / delivered;
--   complaint_rate    delivered messages with a complaint / delivered (every provider: the rate
--                     against the 0.1%/0.3% lines is complaint_rate_fbl, in sender health).
-- Interval inputs R__num/den/y2/yn/n2/k: per month, sums over recipients (clusters: account and
-- recipient) of y, n, y², y·n, n² and the number of recipients, for metrics.common.cluster_rate.
-- Parameters: $date_from, $date_to, $account_id (NULL = all accounts), $tz (IANA name).
WITH facts AS (
    SELECT CASE WHEN $tz = 'UTC' THEN date_trunc('month', sent_at)
                ELSE timezone('UTC', timezone($tz, date_trunc('month', timezone($tz, timezone('UTC', sent_at)))))
           END AS month_start,
           account_id, recipient, is_delivered, is_hard_bounce, has_open, has_human_open, has_human_click,
           has_unsubscribe, has_complaint
    FROM message_facts
    WHERE sent_at >= $date_from AND sent_at < $date_to
      AND ($account_id IS NULL OR account_id = $account_id)
),
per_person AS (
    SELECT month_start,
           count(*) AS s,
           count(*) FILTER (is_delivered) AS n,
           count(*) FILTER (is_hard_bounce) AS y_hard,
           count(*) FILTER (is_delivered AND has_open) AS y_raw_open,
           count(*) FILTER (is_delivered AND has_human_open) AS y_open,
           count(*) FILTER (is_delivered AND has_human_click) AS y_click,
           count(*) FILTER (is_delivered AND has_unsubscribe) AS y_unsub,
           count(*) FILTER (is_delivered AND has_complaint) AS y_compl
    FROM facts
    GROUP BY month_start, account_id, recipient
)
SELECT month_start,
       CAST(sum(s) AS BIGINT) AS sends,
       CAST(sum(n) AS BIGINT) AS delivered,
       CAST(sum(y_hard) AS BIGINT) AS hard_bounces,
       CAST(sum(y_raw_open) AS BIGINT) AS openers,
       CAST(sum(y_open) AS BIGINT) AS human_openers,
       CAST(sum(y_click) AS BIGINT) AS human_clickers,
       CAST(sum(y_unsub) AS BIGINT) AS unsubscribes,
       CAST(sum(y_compl) AS BIGINT) AS complaints,
       sum(n) AS delivery_rate__num, sum(s) AS delivery_rate__den, sum(n * n) AS delivery_rate__y2,
       sum(n * s) AS delivery_rate__yn, sum(s * s) AS delivery_rate__n2, count(*) FILTER (s > 0) AS delivery_rate__k,
       sum(y_hard) AS hard_bounce_rate__num, sum(s) AS hard_bounce_rate__den, sum(y_hard * y_hard) AS hard_bounce_rate__y2,
       sum(y_hard * s) AS hard_bounce_rate__yn, sum(s * s) AS hard_bounce_rate__n2, count(*) FILTER (s > 0) AS hard_bounce_rate__k,
       sum(y_raw_open) AS open_rate__num, sum(n) AS open_rate__den, sum(y_raw_open * y_raw_open) AS open_rate__y2,
       sum(y_raw_open * n) AS open_rate__yn, sum(n * n) AS open_rate__n2, count(*) FILTER (n > 0) AS open_rate__k,
       sum(y_open) AS human_open_rate__num, sum(n) AS human_open_rate__den, sum(y_open * y_open) AS human_open_rate__y2,
       sum(y_open * n) AS human_open_rate__yn, sum(n * n) AS human_open_rate__n2, count(*) FILTER (n > 0) AS human_open_rate__k,
       sum(y_click) AS human_click_rate__num, sum(n) AS human_click_rate__den, sum(y_click * y_click) AS human_click_rate__y2,
       sum(y_click * n) AS human_click_rate__yn, sum(n * n) AS human_click_rate__n2, count(*) FILTER (n > 0) AS human_click_rate__k,
       sum(y_unsub) AS unsubscribe_rate__num, sum(n) AS unsubscribe_rate__den, sum(y_unsub * y_unsub) AS unsubscribe_rate__y2,
       sum(y_unsub * n) AS unsubscribe_rate__yn, sum(n * n) AS unsubscribe_rate__n2, count(*) FILTER (n > 0) AS unsubscribe_rate__k,
       sum(y_compl) AS complaint_rate__num, sum(n) AS complaint_rate__den, sum(y_compl * y_compl) AS complaint_rate__y2,
       sum(y_compl * n) AS complaint_rate__yn, sum(n * n) AS complaint_rate__n2, count(*) FILTER (n > 0) AS complaint_rate__k
FROM per_person
GROUP BY month_start
ORDER BY month_start;
