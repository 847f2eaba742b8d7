-- engagement_aggregate: the engagement table of __eng_msg (engagement_base.sql), grouped by the
-- dimensions switched on ($by_age -> age_years; $by_age_band -> age_band, age_band_start: bands of
-- age_years starting at each of $age_band_edges, e.g. [0, 1, 2, 3, 5, 10] -> '0', '1', '2', '3-4',
-- '5-9', '10+'; $by_lower_bound -> age_is_lower_bound; $by_source ->
-- acquisition_source; $by_recency -> recency, recency_order; $by_cohort -> signup_cohort,
-- months_since_signup). A dimension switched off is NULL in every row (dropped by the caller).
-- Grain: one row per combination of the dimensions switched on.
-- Parameters: the $by_* switches; $age_band_edges; $weight_providers, $weight_variances: aligned
-- lists stratum (weight_key of __eng_msg: provider|device; below 'provider' names that key) -> variance of its read weight (provider '*' for the default), used for the
-- interval of est_read_rate; $band_low_weights, $band_high_weights: aligned with $weight_providers, the
-- read weights if blocked readers clicked 1.5x (low) / 0.6x (high) as often as others.
-- Also: est_read_rate_band_low/high (those weights' est_read_rate), borrowed_opener_share (measurable
-- human openers whose provider has no share of its own and takes the overall share / all of them).
-- Public columns (numerator / denominator), all counted in messages:
--   sends                  messages sent in the period;
--   delivered              messages with status delivered;
--   hard_bounce_rate       hard-bounced messages / sends;
--   open_rate              delivered messages with any recorded open (human or machine) / delivered;
--   human_open_rate        delivered messages with a human open / delivered;
--   human_click_rate             delivered messages with a human click on a link other than unsubscribe or
--                          preferences ("human clickers") / delivered;
--   complaint_rate         delivered messages that drew a spam complaint / delivered;
--   unsubscribe_rate       delivered messages whose campaign the person left by themselves (source
--                          link, user or none; never moved, complaint or bounce) / delivered;
--   measured_open_rate     delivered messages without a machine open that have a human open /
--                          delivered messages without a machine open (measurable_delivered);
--   est_read_rate          estimated readers / measurable_delivered, where estimated readers =
--                          sum over providers p of human openers of p (among messages without a
--                          machine open) / (1 - image_blocked_share of p pooled over the period,
--                          from hidden-images): readers whose images were blocked included;
--   image_blocked_share    (this cell's own share, for display only; est_read_rate never uses it)
--                          human clickers without a human open / human clickers, among messages
--                          without a machine open;
--   age_is_lower_bound_share  sends whose age rests only on an import / re-registration / first-send
--                          date (the address may be older) / sends;
--   lower_bound_measurable_delivered, lower_bound_est_readers  the measurable_delivered and est_readers
--                          of the sends whose age is a lower bound (as above; age unknown included):
--                          the addresses that may truly belong to an older age (read_estimator.
--                          hidden_age_bound; dropped from the public tables);
--   age_unknown_share      sends to addresses whose age is unknown (age_years NULL: nothing dates their
--                          collection, see engagement_base.sql) / sends. By age they form the row
--                          age_years NULL ('unknown'), never age 0.
-- Intervals: every rate also gets R__num, R__den, R__y2, R__yn, R__n2, R__k sums over recipients
-- (clusters) for metrics.common.finish_rates; est_read_rate_wvar_term = sum over providers of
-- (human openers of p)^2 * variance(read_weight of p), the part of its variance due to the pooled shares.

WITH bands AS (
    -- one row per possible age: the band of $age_band_edges it falls in
    SELECT a.age AS age_years,
           list_max(list_filter($age_band_edges, lambda e: e <= a.age)) AS band_start,
           list_min(list_filter($age_band_edges, lambda e: e > a.age)) AS band_next,
           CASE WHEN band_next IS NULL THEN CAST(band_start AS VARCHAR) || '+'
                WHEN band_next = band_start + 1 THEN CAST(band_start AS VARCHAR)
                ELSE CAST(band_start AS VARCHAR) || '-' || CAST(band_next - 1 AS VARCHAR) END AS band
    FROM (SELECT CAST(range AS INTEGER) AS age FROM range(0, 200)) AS a
    WHERE $by_age_band
),
keyed AS (
    SELECT CASE WHEN $by_age THEN m.age_years END AS age_years,
           b.band_start AS age_band_start,
           b.band AS age_band,
           CASE WHEN $by_lower_bound THEN age_is_lower_bound END AS age_is_lower_bound,
           CASE WHEN $by_source THEN acquisition_source END AS acquisition_source,
           CASE WHEN $by_recency THEN recency_order END AS recency_order,
           CASE WHEN $by_cohort THEN signup_cohort END AS signup_cohort,
           CASE WHEN $by_cohort THEN months_since_signup END AS months_since_signup,
           weight_key AS provider, person, age_is_lower_bound AS lower_bound, age_unknown, is_delivered, is_hard_bounce, has_open,
           has_human_open, has_human_click, has_complaint, has_unsubscribe, is_measurable,
           measurable_human_open, measurable_human_click, measurable_click_without_open, read_weight
    FROM __eng_msg AS m
    LEFT JOIN bands AS b ON b.age_years = m.age_years
),
per_person AS (
    SELECT age_years, age_band_start, age_band, age_is_lower_bound, acquisition_source, recency_order, signup_cohort, months_since_signup, provider, person,
           count(*) AS n_sent,
           count(*) FILTER (is_delivered) AS n_delivered,
           count(*) FILTER (is_measurable) AS n_measurable,
           count(*) FILTER (lower_bound) AS n_lower_bound,
           count(*) FILTER (is_measurable AND lower_bound) AS n_measurable_lower_bound,
           count(*) FILTER (age_unknown) AS n_age_unknown,
           count(*) FILTER (is_hard_bounce) AS y_hard_bounce,
           count(*) FILTER (has_open) AS y_open,
           count(*) FILTER (has_human_open) AS y_human_open,
           count(*) FILTER (has_human_click) AS y_human_click,
           count(*) FILTER (has_complaint) AS y_complaint,
           count(*) FILTER (has_unsubscribe) AS y_unsubscribe,
           count(*) FILTER (measurable_human_open) AS y_measurable_human_open,
           count(*) FILTER (measurable_human_click) AS y_measurable_human_click,
           count(*) FILTER (measurable_click_without_open) AS y_measurable_click_without_open,
           coalesce(sum(read_weight) FILTER (measurable_human_open), 0) AS y_read,
           coalesce(sum(read_weight) FILTER (measurable_human_open AND lower_bound), 0) AS y_read_lower_bound
    FROM keyed
    GROUP BY ALL
),
per_provider AS (
    SELECT age_years, age_band_start, age_band, age_is_lower_bound, acquisition_source, recency_order, signup_cohort, months_since_signup, provider,
           sum(n_sent) AS n_sent, sum(n_delivered) AS n_delivered, sum(n_measurable) AS n_measurable,
           sum(n_lower_bound) AS n_lower_bound, sum(n_age_unknown) AS n_age_unknown,
           sum(n_measurable_lower_bound) AS n_measurable_lower_bound, sum(y_read_lower_bound) AS y_read_lower_bound,
           sum(n_sent * n_sent) AS n_sent_sq, sum(n_delivered * n_delivered) AS n_delivered_sq,
           sum(n_measurable * n_measurable) AS n_measurable_sq,
           count(*) FILTER (n_sent > 0) AS k_n_sent, count(*) FILTER (n_delivered > 0) AS k_n_delivered,
           count(*) FILTER (n_measurable > 0) AS k_n_measurable,
           sum(y_measurable_human_click) AS measurable_human_clickers,
           sum(y_measurable_click_without_open) AS measurable_clickers_without_open,
           sum(y_hard_bounce) AS hard_bounce_rate__num, sum(y_hard_bounce * y_hard_bounce) AS hard_bounce_rate__y2, sum(y_hard_bounce * n_sent) AS hard_bounce_rate__yn,
           sum(y_open) AS open_rate__num, sum(y_open * y_open) AS open_rate__y2, sum(y_open * n_delivered) AS open_rate__yn,
           sum(y_human_open) AS human_open_rate__num, sum(y_human_open * y_human_open) AS human_open_rate__y2, sum(y_human_open * n_delivered) AS human_open_rate__yn,
           sum(y_human_click) AS human_click_rate__num, sum(y_human_click * y_human_click) AS human_click_rate__y2, sum(y_human_click * n_delivered) AS human_click_rate__yn,
           sum(y_complaint) AS complaint_rate__num, sum(y_complaint * y_complaint) AS complaint_rate__y2, sum(y_complaint * n_delivered) AS complaint_rate__yn,
           sum(y_unsubscribe) AS unsubscribe_rate__num, sum(y_unsubscribe * y_unsubscribe) AS unsubscribe_rate__y2, sum(y_unsubscribe * n_delivered) AS unsubscribe_rate__yn,
           sum(y_measurable_human_open) AS measured_open_rate__num, sum(y_measurable_human_open * y_measurable_human_open) AS measured_open_rate__y2, sum(y_measurable_human_open * n_measurable) AS measured_open_rate__yn,
           sum(y_read) AS est_read_rate__num, sum(y_read * y_read) AS est_read_rate__y2, sum(y_read * n_measurable) AS est_read_rate__yn,
           sum(y_measurable_click_without_open) AS image_blocked_share__num,
           sum(y_measurable_click_without_open * y_measurable_click_without_open) AS image_blocked_share__y2,
           sum(y_measurable_click_without_open * y_measurable_human_click) AS image_blocked_share__yn,
           sum(y_measurable_human_click * y_measurable_human_click) AS n_clickers_sq,
           count(*) FILTER (y_measurable_human_click > 0) AS k_n_clickers,
           coalesce(sum(y_measurable_human_open), 0)::DOUBLE ^ 2
               * coalesce(map($weight_providers, $weight_variances)[provider],
                         map($weight_providers, $weight_variances)['*']) AS wvar_term,
           -- readers if blocked readers clicked 1.5x / 0.6x as often (sensitivity band weights)
           coalesce(sum(y_measurable_human_open), 0)
               * coalesce(map($weight_providers, $band_low_weights)[provider],
                          map($weight_providers, $band_low_weights)['*']) AS readers_band_low,
           coalesce(sum(y_measurable_human_open), 0)
               * coalesce(map($weight_providers, $band_high_weights)[provider],
                          map($weight_providers, $band_high_weights)['*']) AS readers_band_high,
           -- openers of providers without a share of their own (they take the overall share)
           CASE WHEN coalesce(list_contains($weight_providers, provider), false) THEN 0
                ELSE coalesce(sum(y_measurable_human_open), 0) END AS borrowed_openers
    FROM per_person
    GROUP BY age_years, age_band_start, age_band, age_is_lower_bound, acquisition_source,
             recency_order, signup_cohort, months_since_signup, provider
)
SELECT age_years, age_band_start, age_band, age_is_lower_bound, acquisition_source,
       CASE recency_order WHEN 1 THEN '0-2 months' WHEN 2 THEN '3-5 months' WHEN 3 THEN '6-11 months'
            WHEN 4 THEN '12-23 months' WHEN 5 THEN '24+ months' WHEN 6 THEN 'no signal yet'
            WHEN 7 THEN 'unknown (machine opens only)' END AS recency,
       recency_order, strftime(signup_cohort, '%Y-%m') AS signup_cohort, months_since_signup,
       CAST(sum(n_sent) AS BIGINT) AS sends,
       CAST(sum(n_delivered) AS BIGINT) AS delivered,
       CAST(sum(hard_bounce_rate__num) AS BIGINT) AS hard_bounces,
       CAST(sum(open_rate__num) AS BIGINT) AS openers,
       CAST(sum(human_open_rate__num) AS BIGINT) AS human_openers,
       CAST(sum(human_click_rate__num) AS BIGINT) AS human_clickers,
       CAST(sum(complaint_rate__num) AS BIGINT) AS complaints,
       CAST(sum(unsubscribe_rate__num) AS BIGINT) AS unsubscribes,
       CAST(sum(n_measurable) AS BIGINT) AS measurable_delivered,
       CAST(sum(measured_open_rate__num) AS BIGINT) AS measurable_human_openers,
       CAST(sum(measurable_human_clickers) AS BIGINT) AS measurable_human_clickers,
       CAST(sum(measurable_clickers_without_open) AS BIGINT) AS measurable_clickers_without_open,
       sum(est_read_rate__num) AS est_readers,
       sum(n_lower_bound) / sum(n_sent) AS age_is_lower_bound_share,
       CAST(sum(n_measurable_lower_bound) AS BIGINT) AS lower_bound_measurable_delivered,
       sum(y_read_lower_bound) AS lower_bound_est_readers,
       sum(n_age_unknown) / sum(n_sent) AS age_unknown_share,
       sum(readers_band_low) / nullif(sum(n_measurable), 0) AS est_read_rate_band_low,
       sum(readers_band_high) / nullif(sum(n_measurable), 0) AS est_read_rate_band_high,
       sum(borrowed_openers) / nullif(sum(measured_open_rate__num), 0) AS borrowed_opener_share,
       sum(hard_bounce_rate__num) AS hard_bounce_rate__num, sum(n_sent) AS hard_bounce_rate__den, sum(hard_bounce_rate__y2) AS hard_bounce_rate__y2, sum(hard_bounce_rate__yn) AS hard_bounce_rate__yn,
       sum(n_sent_sq) AS hard_bounce_rate__n2, sum(k_n_sent) AS hard_bounce_rate__k,
       sum(open_rate__num) AS open_rate__num, sum(n_delivered) AS open_rate__den, sum(open_rate__y2) AS open_rate__y2, sum(open_rate__yn) AS open_rate__yn,
       sum(n_delivered_sq) AS open_rate__n2, sum(k_n_delivered) AS open_rate__k,
       sum(human_open_rate__num) AS human_open_rate__num, sum(n_delivered) AS human_open_rate__den, sum(human_open_rate__y2) AS human_open_rate__y2, sum(human_open_rate__yn) AS human_open_rate__yn,
       sum(n_delivered_sq) AS human_open_rate__n2, sum(k_n_delivered) AS human_open_rate__k,
       sum(human_click_rate__num) AS human_click_rate__num, sum(n_delivered) AS human_click_rate__den, sum(human_click_rate__y2) AS human_click_rate__y2, sum(human_click_rate__yn) AS human_click_rate__yn,
       sum(n_delivered_sq) AS human_click_rate__n2, sum(k_n_delivered) AS human_click_rate__k,
       sum(complaint_rate__num) AS complaint_rate__num, sum(n_delivered) AS complaint_rate__den, sum(complaint_rate__y2) AS complaint_rate__y2, sum(complaint_rate__yn) AS complaint_rate__yn,
       sum(n_delivered_sq) AS complaint_rate__n2, sum(k_n_delivered) AS complaint_rate__k,
       sum(unsubscribe_rate__num) AS unsubscribe_rate__num, sum(n_delivered) AS unsubscribe_rate__den, sum(unsubscribe_rate__y2) AS unsubscribe_rate__y2, sum(unsubscribe_rate__yn) AS unsubscribe_rate__yn,
       sum(n_delivered_sq) AS unsubscribe_rate__n2, sum(k_n_delivered) AS unsubscribe_rate__k,
       sum(measured_open_rate__num) AS measured_open_rate__num, sum(n_measurable) AS measured_open_rate__den, sum(measured_open_rate__y2) AS measured_open_rate__y2, sum(measured_open_rate__yn) AS measured_open_rate__yn,
       sum(n_measurable_sq) AS measured_open_rate__n2, sum(k_n_measurable) AS measured_open_rate__k,
       sum(est_read_rate__num) AS est_read_rate__num, sum(n_measurable) AS est_read_rate__den, sum(est_read_rate__y2) AS est_read_rate__y2, sum(est_read_rate__yn) AS est_read_rate__yn,
       sum(n_measurable_sq) AS est_read_rate__n2, sum(k_n_measurable) AS est_read_rate__k,
       sum(image_blocked_share__num) AS image_blocked_share__num,
       sum(measurable_human_clickers) AS image_blocked_share__den,
       sum(image_blocked_share__y2) AS image_blocked_share__y2, sum(image_blocked_share__yn) AS image_blocked_share__yn,
       sum(n_clickers_sq) AS image_blocked_share__n2, sum(k_n_clickers) AS image_blocked_share__k,
       sum(wvar_term) AS est_read_rate_wvar_term
FROM per_provider
GROUP BY age_years, age_band_start, age_band, age_is_lower_bound, acquisition_source,
         recency_order, per_provider.signup_cohort, months_since_signup;
