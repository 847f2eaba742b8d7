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
-- recipient) of y, n, y², y·n, n² and the number of recipients, for metrics.common.cluster_rate
-- (macro dlv_cluster_sums, sql/macros/cluster.sql).
-- Parameters: $date_from, $date_to, $account_id (NULL = all accounts), $tz (IANA name).
WITH facts AS (
    SELECT CASE WHEN $tz = 'UTC' THEN date_trunc('month', sent_at)
                ELSE timezone('UTC', timezone($tz, date_trunc('month', timezone($tz, timezone('UTC', sent_at)))))
           END AS month_start,
           account_id, recipient, is_delivered, is_hard_bounce, has_open, has_human_open, has_human_click,
           has_unsubscribe, has_complaint
    FROM message_facts
    WHERE dlv_in_scope(sent_at, account_id, $date_from, $date_to, $account_id)
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
),
monthly AS (
    SELECT month_start,
           CAST(sum(s) AS BIGINT) AS sends,
           CAST(sum(n) AS BIGINT) AS delivered,
           CAST(sum(y_hard) AS BIGINT) AS hard_bounces,
           CAST(sum(y_raw_open) AS BIGINT) AS openers,
           CAST(sum(y_open) AS BIGINT) AS human_openers,
           CAST(sum(y_click) AS BIGINT) AS human_clickers,
           CAST(sum(y_unsub) AS BIGINT) AS unsubscribes,
           CAST(sum(y_compl) AS BIGINT) AS complaints,
           dlv_cluster_sums(n, s) AS delivery_rate,
           dlv_cluster_sums(y_hard, s) AS hard_bounce_rate,
           dlv_cluster_sums(y_raw_open, n) AS open_rate,
           dlv_cluster_sums(y_open, n) AS human_open_rate,
           dlv_cluster_sums(y_click, n) AS human_click_rate,
           dlv_cluster_sums(y_unsub, n) AS unsubscribe_rate,
           dlv_cluster_sums(y_compl, n) AS complaint_rate
    FROM per_person
    GROUP BY month_start
)
SELECT month_start, sends, delivered, hard_bounces, openers, human_openers, human_clickers, unsubscribes,
       complaints,
       COLUMNS(delivery_rate.*) AS 'delivery_rate__\0',
       COLUMNS(hard_bounce_rate.*) AS 'hard_bounce_rate__\0',
       COLUMNS(open_rate.*) AS 'open_rate__\0',
       COLUMNS(human_open_rate.*) AS 'human_open_rate__\0',
       COLUMNS(human_click_rate.*) AS 'human_click_rate__\0',
       COLUMNS(unsubscribe_rate.*) AS 'unsubscribe_rate__\0',
       COLUMNS(complaint_rate.*) AS 'complaint_rate__\0'
FROM monthly
ORDER BY month_start;
