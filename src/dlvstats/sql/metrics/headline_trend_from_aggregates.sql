-- headline_trend_from_aggregates: metrics/headline_trend.sql's table, read from the monthly
-- aggregate agg_headline_month (sql/aggregates/headline_month.sql) instead of the messages.
-- Grain, columns and order: those of metrics/headline_trend.sql, for [$date_from, $date_to) made of
-- whole months of the aggregates' time zone (metrics.headlines checks it). Clusters are (account,
-- recipient), so each month's sums over accounts are that month's cluster sums.
-- Parameters: $date_from, $date_to, $account_id (NULL = all accounts).
SELECT month_start,
       CAST(sum(sends) AS BIGINT) AS sends,
       CAST(sum(delivered) AS BIGINT) AS delivered,
       CAST(sum(hard_bounces) AS BIGINT) AS hard_bounces,
       CAST(sum(openers) AS BIGINT) AS openers,
       CAST(sum(human_openers) AS BIGINT) AS human_openers,
       CAST(sum(human_clickers) AS BIGINT) AS human_clickers,
       CAST(sum(unsubscribes) AS BIGINT) AS unsubscribes,
       CAST(sum(complaints) AS BIGINT) AS complaints,
       sum(delivered) AS delivery_rate__num, sum(sends) AS delivery_rate__den, sum(delivered_n2) AS delivery_rate__y2,
       sum(delivered_sends_yn) AS delivery_rate__yn, sum(sends_n2) AS delivery_rate__n2, sum(sent_people) AS delivery_rate__k,
       sum(hard_bounces) AS hard_bounce_rate__num, sum(sends) AS hard_bounce_rate__den, sum(hard_y2) AS hard_bounce_rate__y2,
       sum(hard_yn) AS hard_bounce_rate__yn, sum(sends_n2) AS hard_bounce_rate__n2, sum(sent_people) AS hard_bounce_rate__k,
       sum(openers) AS open_rate__num, sum(delivered) AS open_rate__den, sum(raw_open_y2) AS open_rate__y2,
       sum(raw_open_yn) AS open_rate__yn, sum(delivered_n2) AS open_rate__n2, sum(delivered_people) AS open_rate__k,
       sum(human_openers) AS human_open_rate__num, sum(delivered) AS human_open_rate__den, sum(open_y2) AS human_open_rate__y2,
       sum(open_yn) AS human_open_rate__yn, sum(delivered_n2) AS human_open_rate__n2, sum(delivered_people) AS human_open_rate__k,
       sum(human_clickers) AS human_click_rate__num, sum(delivered) AS human_click_rate__den, sum(click_y2) AS human_click_rate__y2,
       sum(click_yn) AS human_click_rate__yn, sum(delivered_n2) AS human_click_rate__n2, sum(delivered_people) AS human_click_rate__k,
       sum(unsubscribes) AS unsubscribe_rate__num, sum(delivered) AS unsubscribe_rate__den, sum(unsub_y2) AS unsubscribe_rate__y2,
       sum(unsub_yn) AS unsubscribe_rate__yn, sum(delivered_n2) AS unsubscribe_rate__n2, sum(delivered_people) AS unsubscribe_rate__k,
       sum(complaints) AS complaint_rate__num, sum(delivered) AS complaint_rate__den, sum(compl_y2) AS complaint_rate__y2,
       sum(compl_yn) AS complaint_rate__yn, sum(delivered_n2) AS complaint_rate__n2, sum(delivered_people) AS complaint_rate__k
FROM agg_headline_month
WHERE dlv_in_scope(month_start, account_id, $date_from, $date_to, $account_id)
GROUP BY month_start
ORDER BY month_start;
