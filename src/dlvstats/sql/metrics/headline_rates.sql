-- headline_rates: the report's pooled engagement headlines for one period, with their intervals.
-- Grain: one row for the messages sent in [$date_from, $date_to) (UTC, sent_at), of $account_id
-- when given. Rates are per delivered message, as in engagement-by-age (whose age buckets partition
-- the same messages, so the pooled numerators and denominators are the sums of its columns):
--   open_rate         delivered messages with any open, machine opens included (the open rate an
--                     ESP's dashboard shows, for reconciling with it) / delivered;
--   human_open_rate   delivered messages with a human open / delivered;
--   human_click_rate        delivered messages with a human click on a content link / delivered;
--   unsubscribe_rate  delivered messages followed by the person leaving (source link/user/none,
--                     naming the campaign) / delivered.
-- Interval inputs R__num/den/y2/yn/n2/k: sums over recipients (clusters: account and recipient) of
-- y, n, y², y·n, n² and the number of recipients, for metrics.common.cluster_rate.
-- Parameters: $date_from, $date_to, $account_id (NULL = all accounts).
WITH per_person AS (
    SELECT count(*) AS n,
           count(*) FILTER (has_open) AS y_raw_open,
           count(*) FILTER (has_human_open) AS y_open,
           count(*) FILTER (has_human_click) AS y_click,
           count(*) FILTER (has_unsubscribe) AS y_unsub
    FROM message_facts
    WHERE sent_at >= $date_from AND sent_at < $date_to
      AND ($account_id IS NULL OR account_id = $account_id)
      AND is_delivered
    GROUP BY account_id, recipient
)
SELECT CAST(sum(n) AS BIGINT) AS delivered,
       CAST(sum(y_raw_open) AS BIGINT) AS openers,
       CAST(sum(y_open) AS BIGINT) AS human_openers,
       CAST(sum(y_click) AS BIGINT) AS human_clickers,
       CAST(sum(y_unsub) AS BIGINT) AS unsubscribes,
       sum(y_raw_open) AS open_rate__num, sum(n) AS open_rate__den,
       sum(y_raw_open * y_raw_open) AS open_rate__y2, sum(y_raw_open * n) AS open_rate__yn,
       sum(n * n) AS open_rate__n2, count(*) AS open_rate__k,
       sum(y_open) AS human_open_rate__num, sum(n) AS human_open_rate__den,
       sum(y_open * y_open) AS human_open_rate__y2, sum(y_open * n) AS human_open_rate__yn,
       sum(n * n) AS human_open_rate__n2, count(*) AS human_open_rate__k,
       sum(y_click) AS human_click_rate__num, sum(n) AS human_click_rate__den,
       sum(y_click * y_click) AS human_click_rate__y2, sum(y_click * n) AS human_click_rate__yn,
       sum(n * n) AS human_click_rate__n2, count(*) AS human_click_rate__k,
       sum(y_unsub) AS unsubscribe_rate__num, sum(n) AS unsubscribe_rate__den,
       sum(y_unsub * y_unsub) AS unsubscribe_rate__y2, sum(y_unsub * n) AS unsubscribe_rate__yn,
       sum(n * n) AS unsubscribe_rate__n2, count(*) AS unsubscribe_rate__k
FROM per_person;
