-- read_cells: the per-person counts the stratified read estimator needs, from __eng_msg.
-- Grain: one row per (person, provider, device, age_years) among messages without a machine open
-- (measurable: delivered, no MPP prefetch or scanner open). Output: temp table __read_cells, read by
-- read_bootstrap.sql. Needs __eng_msg (engagement_base.sql, with the device of __reader_device).
-- Columns (messages): d measurable delivered; o with a human open; c with a human content click;
-- u with a human content click and no human open (the reader's images stayed off).
-- A stratum (cell) is provider x device: the blocked share is estimated within it; age_years is kept
-- for post-stratification (each age's openers weighted by their own cell's share).
CREATE OR REPLACE TEMP TABLE __read_cells AS
SELECT person, coalesce(provider, 'other') AS provider, device, age_years,
       CAST(count(*) AS BIGINT) AS d,
       CAST(count(*) FILTER (measurable_human_open) AS BIGINT) AS o,
       CAST(count(*) FILTER (measurable_human_click) AS BIGINT) AS c,
       CAST(count(*) FILTER (measurable_click_without_open) AS BIGINT) AS u
FROM __eng_msg
WHERE is_measurable
GROUP BY ALL;
