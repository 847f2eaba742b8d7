-- blocklist_periods: each blocklist listing of a sending IP or domain, with its delisting.
-- Grain: one row per 'listed' event in `blocklists` (target, blocklist, listed_at). A TEMP table
--        (__blocklist_periods) built on the metric's read-only connection.
-- Parameters: none (every listing is kept; metrics filter by their period).
-- Columns: target, target_kind ('ip' when the target parses as an IPv4/IPv6 address, else
--          'domain'), blocklist, listed_at, delisted_at (the first 'delisted' event of the same
--          target and blocklist after the listing; NULL = still listed at the end of the data).
-- Rules: a repeated 'listed' event before a delisting starts a new row (a re-listing).
CREATE OR REPLACE TEMP TABLE __blocklist_periods AS
WITH listed AS (
    SELECT target, blocklist, ts AS listed_at FROM blocklists WHERE action = 'listed'
),
delisted AS (
    SELECT target, blocklist, ts AS delisted_at FROM blocklists WHERE action = 'delisted'
)
SELECT l.target,
       CASE WHEN regexp_matches(l.target, '^\d{1,3}(\.\d{1,3}){3}$') OR l.target LIKE '%:%:%'
            THEN 'ip' ELSE 'domain' END AS target_kind,
       l.blocklist, l.listed_at, d.delisted_at
FROM listed AS l
ASOF LEFT JOIN delisted AS d
       ON d.target = l.target AND d.blocklist = l.blocklist AND d.delisted_at > l.listed_at;
