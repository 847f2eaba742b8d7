-- engagement_sunset_buckets: the period's messages of __eng_msg (engagement_base.sql) counted by
-- recency_order and inactivity_months: everything engagement_sunset.sql needs, small enough to keep
-- (a notebook computes the engagement base once and reuses these buckets for the sunset table).
-- Grain: one row per (recency_order, inactivity_months).
-- Columns: the counts of engagement_sunset.sql's buckets (see there), per bucket.
SELECT recency_order, inactivity_months,
       count(*) AS sends,
       count(*) FILTER (is_delivered) AS delivered,
       count(*) FILTER (has_complaint) AS complaints,
       count(*) FILTER (is_hard_bounce) AS hard_bounces,
       count(*) FILTER (has_human_click) AS human_clickers,
       count(*) FILTER (has_human_open) AS human_openers,
       CAST(sum(orders) AS BIGINT) AS orders,
       sum(revenue) AS revenue,
       coalesce(sum(read_weight - 1) FILTER (measurable_human_open), 0) AS est_hidden_readers,
       count(*) FILTER (has_machine_open) AS machine_opened
FROM __eng_msg
GROUP BY ALL;
