-- aggregates/headline_month: the headline rates' sufficient statistics per month and account, as
-- the temp table __agg_headline_month_rows over the months of __agg_months (aggregates/months.sql);
-- dlvstats.aggregates writes the table agg_headline_month from it.
-- Grain: one row per (month_start, account_id) with at least one message sent in the month
--        [month_start, month_end) of the aggregates' time zone (sent_at, UTC instants).
-- Rules: the definitions of metrics/headline_trend.sql (delivery, hard-bounce, open, human-open,
--   click, unsubscribe and complaint rates, from message_facts). Its intervals are clustered by
--   (account, recipient), so the per-person sums of one month add up across accounts: R__y2, R__yn,
--   R__n2 and R__k here are sums over the account's recipients of y², y·n, n² and their count,
--   and a whole month (or the month-by-month trend) of any set of accounts is their sum. A period
--   of several months pooled is not: a person mailed in two months is one cluster there, so
--   headline_rates over several months reads raw message_facts.
-- Parameters: none.
CREATE OR REPLACE TEMP TABLE __agg_headline_month_rows AS
WITH per_person AS (
    SELECT m.month_start, f.account_id,
           count(*) AS s,
           count(*) FILTER (WHERE f.is_delivered) AS n,
           count(*) FILTER (WHERE f.is_hard_bounce) AS y_hard,
           count(*) FILTER (WHERE f.is_delivered AND f.has_open) AS y_raw_open,
           count(*) FILTER (WHERE f.is_delivered AND f.has_human_open) AS y_open,
           count(*) FILTER (WHERE f.is_delivered AND f.has_human_click) AS y_click,
           count(*) FILTER (WHERE f.is_delivered AND f.has_unsubscribe) AS y_unsub,
           count(*) FILTER (WHERE f.is_delivered AND f.has_complaint) AS y_compl
    FROM message_facts AS f
    JOIN __agg_months AS m ON f.sent_at >= m.month_start AND f.sent_at < m.month_end
    GROUP BY m.month_start, f.account_id, f.recipient
),
-- per rate the sums of metrics/headline_trend.sql (macro dlv_cluster_sums, sql/macros/cluster.sql)
sums AS (
    SELECT month_start, account_id, count(*) AS sent_people,
           dlv_cluster_sums(n, s) AS delivery_rate,
           dlv_cluster_sums(y_hard, s) AS hard_bounce_rate,
           dlv_cluster_sums(y_raw_open, n) AS open_rate,
           dlv_cluster_sums(y_open, n) AS human_open_rate,
           dlv_cluster_sums(y_click, n) AS human_click_rate,
           dlv_cluster_sums(y_unsub, n) AS unsubscribe_rate,
           dlv_cluster_sums(y_compl, n) AS complaint_rate
    FROM per_person
    GROUP BY month_start, account_id
)
SELECT month_start, account_id,
       CAST(delivery_rate.den AS BIGINT) AS sends,
       CAST(delivery_rate.num AS BIGINT) AS delivered,
       CAST(hard_bounce_rate.num AS BIGINT) AS hard_bounces,
       CAST(open_rate.num AS BIGINT) AS openers,
       CAST(human_open_rate.num AS BIGINT) AS human_openers,
       CAST(human_click_rate.num AS BIGINT) AS human_clickers,
       CAST(unsubscribe_rate.num AS BIGINT) AS unsubscribes,
       CAST(complaint_rate.num AS BIGINT) AS complaints,
       CAST(sent_people AS BIGINT) AS sent_people,
       CAST(open_rate.k AS BIGINT) AS delivered_people,
       CAST(open_rate.n2 AS BIGINT) AS delivered_n2,
       CAST(delivery_rate.n2 AS BIGINT) AS sends_n2,
       CAST(delivery_rate.yn AS BIGINT) AS delivered_sends_yn,
       CAST(hard_bounce_rate.y2 AS BIGINT) AS hard_y2, CAST(hard_bounce_rate.yn AS BIGINT) AS hard_yn,
       CAST(open_rate.y2 AS BIGINT) AS raw_open_y2, CAST(open_rate.yn AS BIGINT) AS raw_open_yn,
       CAST(human_open_rate.y2 AS BIGINT) AS open_y2, CAST(human_open_rate.yn AS BIGINT) AS open_yn,
       CAST(human_click_rate.y2 AS BIGINT) AS click_y2, CAST(human_click_rate.yn AS BIGINT) AS click_yn,
       CAST(unsubscribe_rate.y2 AS BIGINT) AS unsub_y2, CAST(unsubscribe_rate.yn AS BIGINT) AS unsub_yn,
       CAST(complaint_rate.y2 AS BIGINT) AS compl_y2, CAST(complaint_rate.yn AS BIGINT) AS compl_yn
FROM sums;
