-- headline_rates_from_aggregates: metrics/headline_rates.sql's one row, read from the monthly
-- aggregate agg_headline_month (sql/aggregates/headline_month.sql).
-- Grain and columns: those of metrics/headline_rates.sql, for [$date_from, $date_to) = one whole
-- month of the aggregates' time zone (metrics.headlines checks it: over several months a person is
-- one cluster, which the monthly sums cannot give, so that case reads message_facts). An empty month
-- gives one row of NULLs, as headline_rates.sql does.
-- Parameters: $date_from, $date_to, $account_id (NULL = all accounts).
WITH months AS (
    SELECT * FROM agg_headline_month
    WHERE dlv_in_scope(month_start, account_id, $date_from, $date_to, $account_id)
      AND delivered_people > 0
)
SELECT CAST(sum(delivered) AS BIGINT) AS delivered,
       CAST(sum(openers) AS BIGINT) AS openers,
       CAST(sum(human_openers) AS BIGINT) AS human_openers,
       CAST(sum(human_clickers) AS BIGINT) AS human_clickers,
       CAST(sum(unsubscribes) AS BIGINT) AS unsubscribes,
       sum(openers) AS open_rate__num, sum(delivered) AS open_rate__den,
       sum(raw_open_y2) AS open_rate__y2, sum(raw_open_yn) AS open_rate__yn,
       sum(delivered_n2) AS open_rate__n2, sum(delivered_people) AS open_rate__k,
       sum(human_openers) AS human_open_rate__num, sum(delivered) AS human_open_rate__den,
       sum(open_y2) AS human_open_rate__y2, sum(open_yn) AS human_open_rate__yn,
       sum(delivered_n2) AS human_open_rate__n2, sum(delivered_people) AS human_open_rate__k,
       sum(human_clickers) AS human_click_rate__num, sum(delivered) AS human_click_rate__den,
       sum(click_y2) AS human_click_rate__y2, sum(click_yn) AS human_click_rate__yn,
       sum(delivered_n2) AS human_click_rate__n2, sum(delivered_people) AS human_click_rate__k,
       sum(unsubscribes) AS unsubscribe_rate__num, sum(delivered) AS unsubscribe_rate__den,
       sum(unsub_y2) AS unsubscribe_rate__y2, sum(unsub_yn) AS unsubscribe_rate__yn,
       sum(delivered_n2) AS unsubscribe_rate__n2, sum(delivered_people) AS unsubscribe_rate__k
FROM months;
