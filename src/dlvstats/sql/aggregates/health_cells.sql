-- aggregates/health_cells: sender health's cells with their interval sums, per month, as the temp
-- view __agg_health_cells_rows over the months of __agg_months (aggregates/months.sql);
-- dlvstats.aggregates writes the table agg_health_cells from it.
-- Grain: one row per (month_start, scope_account, dimension, dimension_value, grain, period_start)
--        with at least one message sent in the month [month_start, month_end) of the aggregates'
--        time zone:
--   scope_account  NULL = every account (the cells sender_health computes without an account
--                  filter), else one account (the cells it computes with account_id = that account);
--   dimension      'all' (dimension_value 'all'), 'provider' (coalesce(provider, 'other')),
--                  'sending_ip', 'sending_domain' (coalesce(..., '(unknown)')); the 'account'
--                  dimension is the 'all' row of each account's scope (metrics read it so);
--   grain          'day' (period_start = the day's start in the zone), 'week' (the ISO week's
--                  start in the zone, clipped to month_start: a week across two months is two
--                  cells, one per month) or 'month' (period_start = month_start).
-- Rules: those of metrics/sender_health.sql (complaints, the feedback-loop providers $fbl_providers,
--   bounce categories from __bounce_category, built with the default rules for the months in scope).
--   Intervals are clustered by person (a 64-bit hash of the address, as sender_health.sql): for
--   each rate R the columns R__num, R__den, R__y2, R__yn, R__n2, R__k are the sums over the cell's
--   persons of y, n, y², y·n, n² and their count, exactly what sender_health.sql computes for a
--   period of one month (or the days or months of any run of whole months). Persons are not
--   tracked across months: a pooled cell of several months (grain 'period' or 'week' over more
--   than one month) is computed from raw message_facts by the metric instead.
-- Portable SQL (a cross join with a VALUES list, no DuckDB-only syntax) but for hash(), list_contains(),
-- the timezone() cuts and the packaged macros (sql/macros/: the Spark translator writes them out).
-- Parameters: $tz (IANA name of the aggregates' zone), $fbl_providers (VARCHAR[]).
CREATE OR REPLACE TEMP TABLE __agg_health_cells_rows AS
WITH base AS (
    SELECT m.month_start,
           hash(f.recipient) AS person, f.account_id,
           coalesce(f.provider, 'other') AS provider,
           coalesce(f.sending_ip, '(unknown)') AS sending_ip,
           coalesce(f.sending_domain, '(unknown)') AS sending_domain,
           CASE WHEN $tz = 'UTC' THEN date_trunc('day', f.sent_at)
                ELSE timezone('UTC', timezone($tz, date_trunc('day', timezone($tz, timezone('UTC', f.sent_at))))) END AS day_start,
           greatest(CASE WHEN $tz = 'UTC' THEN date_trunc('week', f.sent_at)
                         ELSE timezone('UTC', timezone($tz, date_trunc('week', timezone($tz, timezone('UTC', f.sent_at))))) END,
                    m.month_start) AS week_start,
           f.is_delivered, f.is_hard_bounce, f.is_soft_bounce,
           f.is_delivered AND f.has_complaint AS is_complaint,
           f.is_delivered AND list_contains($fbl_providers, f.provider) AS is_delivered_fbl,
           f.is_delivered AND f.provider = 'gmail' AS is_delivered_gmail,
           b.category
    FROM message_facts AS f
    JOIN __agg_months AS m ON f.sent_at >= m.month_start AND f.sent_at < m.month_end
    LEFT JOIN __bounce_category AS b ON b.message_id = f.message_id
),
-- the 24 cells a message belongs to: (every account | its account) x (all | provider | sending_ip |
-- sending_domain) x (day | week | month); one aggregate over the expanded rows (DuckDB spills it to disk
-- under a memory limit, which 24 grouping sets held side by side did not)
cell_kinds AS (
    SELECT * FROM (VALUES (false), (true)) AS a(by_account),
                  (VALUES ('all'), ('provider'), ('sending_ip'), ('sending_domain')) AS d(dimension),
                  (VALUES ('day'), ('week'), ('month')) AS g(grain)
),
per_person AS (
    SELECT b.month_start, b.person,
           CASE WHEN k.by_account THEN b.account_id END AS scope_account,
           k.dimension,
           CASE k.dimension WHEN 'provider' THEN b.provider WHEN 'sending_ip' THEN b.sending_ip
                WHEN 'sending_domain' THEN b.sending_domain ELSE 'all' END AS dimension_value,
           k.grain,
           CASE k.grain WHEN 'day' THEN b.day_start WHEN 'week' THEN b.week_start ELSE b.month_start END
               AS period_start,
           count(*) AS n_sends,
           count(*) FILTER (WHERE is_delivered) AS n_delivered,
           count(*) FILTER (WHERE is_delivered_fbl) AS n_delivered_fbl,
           count(*) FILTER (WHERE is_delivered_gmail) AS n_delivered_gmail,
           count(*) FILTER (WHERE is_complaint) AS y_complaints,
           count(*) FILTER (WHERE is_complaint AND is_delivered_fbl) AS y_complaints_fbl,
           count(*) FILTER (WHERE is_hard_bounce) AS y_hard,
           count(*) FILTER (WHERE is_soft_bounce) AS y_soft,
           count(*) FILTER (WHERE category IS NOT NULL) AS y_bounces,
           count(*) FILTER (WHERE is_hard_bounce AND category IN ('invalid_mailbox', 'bad_domain')) AS y_invalid,
           count(*) FILTER (WHERE category = 'policy_block') AS y_block,
           count(*) FILTER (WHERE category = 'invalid_mailbox') AS b_invalid_mailbox,
           count(*) FILTER (WHERE category = 'bad_domain') AS b_bad_domain,
           count(*) FILTER (WHERE category = 'mailbox_full') AS b_mailbox_full,
           count(*) FILTER (WHERE category = 'content') AS b_content,
           count(*) FILTER (WHERE category = 'other') AS b_other
    FROM base AS b CROSS JOIN cell_kinds AS k
    GROUP BY 1, 2, 3, 4, 5, 6, 7
),
-- the cells' counts and per-rate sums: the macros of metrics/sender_health.sql (dlv_health_counts,
-- sql/macros/health.sql; dlv_cluster_sums, sql/macros/cluster.sql), one definition for both
cells AS (
    SELECT month_start, scope_account, dimension, dimension_value, grain, period_start,
           dlv_health_counts(n_sends, n_delivered, n_delivered_fbl, n_delivered_gmail, y_complaints,
                             y_complaints_fbl, y_bounces, y_hard, y_soft, b_invalid_mailbox, b_bad_domain,
                             b_mailbox_full, y_block, b_content, b_other) AS counts,
           dlv_cluster_sums(y_complaints, n_delivered) AS complaint_rate,
           dlv_cluster_sums(y_complaints_fbl, n_delivered_fbl) AS complaint_rate_fbl,
           dlv_cluster_sums(y_hard, n_sends) AS hard_bounce_rate,
           dlv_cluster_sums(y_invalid, n_sends) AS invalid_address_rate,
           dlv_cluster_sums(y_block, n_sends) AS block_rate
    FROM per_person
    GROUP BY month_start, scope_account, dimension, dimension_value, grain, period_start
)
-- stored: the counts, and of each rate the sums a month's cell cannot be rebuilt from the counts without
-- (num and den are counts; n2 and k are kept once per denominator)
SELECT month_start, scope_account, dimension, dimension_value, grain, period_start,
       COLUMNS(counts.*) AS '\0',
       CAST(invalid_address_rate.num AS BIGINT) AS invalid_addresses,
       CAST(complaint_rate.y2 AS BIGINT) AS complaint_rate__y2, CAST(complaint_rate.yn AS BIGINT) AS complaint_rate__yn,
       CAST(complaint_rate.n2 AS BIGINT) AS delivered__n2, CAST(complaint_rate.k AS BIGINT) AS delivered__k,
       CAST(complaint_rate_fbl.y2 AS BIGINT) AS complaint_rate_fbl__y2,
       CAST(complaint_rate_fbl.yn AS BIGINT) AS complaint_rate_fbl__yn,
       CAST(complaint_rate_fbl.n2 AS BIGINT) AS delivered_fbl__n2,
       CAST(complaint_rate_fbl.k AS BIGINT) AS delivered_fbl__k,
       CAST(hard_bounce_rate.y2 AS BIGINT) AS hard_bounce_rate__y2,
       CAST(hard_bounce_rate.yn AS BIGINT) AS hard_bounce_rate__yn,
       CAST(invalid_address_rate.y2 AS BIGINT) AS invalid_address_rate__y2,
       CAST(invalid_address_rate.yn AS BIGINT) AS invalid_address_rate__yn,
       CAST(block_rate.y2 AS BIGINT) AS block_rate__y2, CAST(block_rate.yn AS BIGINT) AS block_rate__yn,
       CAST(hard_bounce_rate.n2 AS BIGINT) AS sends__n2
FROM cells;
