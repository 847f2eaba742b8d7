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
-- y, n, y², y·n, n² and the number of recipients, for metrics.common.cluster_rate
-- (macro dlv_cluster_sums, sql/macros/cluster.sql; every person here has n >= 1).
-- Parameters: $date_from, $date_to, $account_id (NULL = all accounts).
WITH per_person AS (
    SELECT count(*) AS n,
           count(*) FILTER (has_open) AS y_raw_open,
           count(*) FILTER (has_human_open) AS y_open,
           count(*) FILTER (has_human_click) AS y_click,
           count(*) FILTER (has_unsubscribe) AS y_unsub
    FROM message_facts
    WHERE dlv_in_scope(sent_at, account_id, $date_from, $date_to, $account_id)
      AND is_delivered
    GROUP BY account_id, recipient
),
pooled AS (
    SELECT CAST(sum(n) AS BIGINT) AS delivered,
           CAST(sum(y_raw_open) AS BIGINT) AS openers,
           CAST(sum(y_open) AS BIGINT) AS human_openers,
           CAST(sum(y_click) AS BIGINT) AS human_clickers,
           CAST(sum(y_unsub) AS BIGINT) AS unsubscribes,
           dlv_cluster_sums(y_raw_open, n) AS open_rate,
           dlv_cluster_sums(y_open, n) AS human_open_rate,
           dlv_cluster_sums(y_click, n) AS human_click_rate,
           dlv_cluster_sums(y_unsub, n) AS unsubscribe_rate
    FROM per_person
)
SELECT delivered, openers, human_openers, human_clickers, unsubscribes,
       COLUMNS(open_rate.*) AS 'open_rate__\0',
       COLUMNS(human_open_rate.*) AS 'human_open_rate__\0',
       COLUMNS(human_click_rate.*) AS 'human_click_rate__\0',
       COLUMNS(unsubscribe_rate.*) AS 'unsubscribe_rate__\0'
FROM pooled;
