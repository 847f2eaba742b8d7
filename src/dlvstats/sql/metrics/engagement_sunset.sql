-- engagement_sunset: what suppressing people inactive for at least T months would have removed
-- from the period, for each threshold T in $thresholds, and the net value of what was removed.
-- Grain: one row per threshold T (months).
-- Needs: __sunset_buckets (engagement_sunset_buckets.sql over __eng_msg of engagement_base.sql, for
-- the same period and account).
-- Parameters:
--   $thresholds        LIST of whole months, e.g. [3, 6, 9, 12, 18, 24];
--   $include_unknown   also suppress 'unknown' people (no human signal, machine opens only), whose
--                      reading we cannot see; default false;
--   $w_click, $w_order, $w_hidden_reader   value of one human clicker (message with a human content
--                      click), one attributed order, one estimated hidden reader;
--   $w_complaint, $w_hard_bounce           cost of one complaint, one hard bounce.
-- Rules: a message is "past T" when its person is engaged or has no signal yet (recency_order 1-6;
-- 'unknown', 7, only with $include_unknown) and inactivity_months >= T (see engagement_base.sql: months since
-- the last human signal, else since the later of collection and data start, a lower bound).
-- Columns (all counts of messages in the period that suppression at T would not have sent):
--   sends_removed, delivered_removed, complaints_removed, hard_bounces_removed,
--   human_clickers_removed (delivered messages with a human content click), orders_removed
--   (orders attributed to those messages, last touch), revenue_removed, human_openers_removed,
--   est_hidden_readers_removed = sum over removed messages without a machine open that have a human
--   open of (read_weight - 1): readers whose images were blocked, estimated with each provider's
--   pooled image_blocked_share (they show no open, so they look inactive);
--   machine_opened_removed (delivered messages with a machine open: reading unknown);
--   *_share  the removed count / the same count over all messages of the period;
--   net_value = w_click * human_clickers + w_order * orders + w_hidden_reader * est_hidden_readers
--               - w_complaint * complaints - w_hard_bounce * hard_bounces, over the removed messages:
--               negative means the removed mail did more harm than good.
WITH buckets AS (
    SELECT recency_order <= 6 OR ($include_unknown AND recency_order = 7) AS can_suppress, inactivity_months,
           CAST(sum(sends) AS BIGINT) AS sends,
           CAST(sum(delivered) AS BIGINT) AS delivered,
           CAST(sum(complaints) AS BIGINT) AS complaints,
           CAST(sum(hard_bounces) AS BIGINT) AS hard_bounces,
           CAST(sum(human_clickers) AS BIGINT) AS human_clickers,
           CAST(sum(human_openers) AS BIGINT) AS human_openers,
           CAST(sum(orders) AS BIGINT) AS orders,
           sum(revenue) AS revenue,
           sum(est_hidden_readers) AS est_hidden_readers,
           CAST(sum(machine_opened) AS BIGINT) AS machine_opened
    FROM __sunset_buckets
    GROUP BY ALL
),
totals AS (
    SELECT sum(sends) AS sends, sum(delivered) AS delivered, sum(complaints) AS complaints,
           sum(hard_bounces) AS hard_bounces, sum(human_clickers) AS human_clickers,
           sum(orders) AS orders, sum(revenue) AS revenue, sum(est_hidden_readers) AS est_hidden_readers
    FROM buckets
),
removed AS (
    SELECT t.threshold_months,
           CAST(coalesce(sum(b.sends), 0) AS BIGINT) AS sends_removed,
           CAST(coalesce(sum(b.delivered), 0) AS BIGINT) AS delivered_removed,
           CAST(coalesce(sum(b.complaints), 0) AS BIGINT) AS complaints_removed,
           CAST(coalesce(sum(b.hard_bounces), 0) AS BIGINT) AS hard_bounces_removed,
           CAST(coalesce(sum(b.human_clickers), 0) AS BIGINT) AS human_clickers_removed,
           CAST(coalesce(sum(b.orders), 0) AS BIGINT) AS orders_removed,
           coalesce(sum(b.revenue), 0) AS revenue_removed,
           CAST(coalesce(sum(b.human_openers), 0) AS BIGINT) AS human_openers_removed,
           coalesce(sum(b.est_hidden_readers), 0) AS est_hidden_readers_removed,
           coalesce(sum(b.machine_opened), 0) AS machine_opened_removed
    FROM (SELECT unnest($thresholds) AS threshold_months) AS t
    LEFT JOIN buckets AS b ON b.can_suppress AND b.inactivity_months >= t.threshold_months
    GROUP BY t.threshold_months
)
SELECT r.*,
       r.sends_removed / nullif(tt.sends, 0) AS sends_removed_share,
       r.complaints_removed / nullif(tt.complaints, 0) AS complaints_removed_share,
       r.hard_bounces_removed / nullif(tt.hard_bounces, 0) AS hard_bounces_removed_share,
       r.human_clickers_removed / nullif(tt.human_clickers, 0) AS human_clickers_removed_share,
       r.orders_removed / nullif(tt.orders, 0) AS orders_removed_share,
       r.complaints_removed / nullif(r.delivered_removed, 0) AS complaint_rate_removed,
       r.hard_bounces_removed / nullif(r.sends_removed, 0) AS hard_bounce_rate_removed,
       r.human_clickers_removed / nullif(r.delivered_removed, 0) AS human_click_rate_removed,
       $w_click * r.human_clickers_removed + $w_order * r.orders_removed
           + $w_hidden_reader * r.est_hidden_readers_removed
           - $w_complaint * r.complaints_removed - $w_hard_bounce * r.hard_bounces_removed AS net_value
FROM removed AS r CROSS JOIN totals AS tt
ORDER BY r.threshold_months;
