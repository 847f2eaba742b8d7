-- Spark form of blocklist_periods.sql (read that file first: grain, columns and rules are the same).
-- Why a second file: the DuckDB file pairs each listing with its delisting by an ASOF LEFT JOIN, which
-- Spark SQL does not have and sqlglot cannot translate. Here each 'listed' event (numbered, so that a
-- repeated identical listing stays its own row, as under ASOF) takes the earliest 'delisted' event of
-- the same target and blocklist strictly after it: min() over a left join, NULL when there is none.
-- Review: keep the target_kind rule identical to the DuckDB file's (regexp_matches there, RLIKE here:
-- both search, both anchored; Spark string literals unescape '\\', hence the doubled backslashes).
CREATE OR REPLACE TEMP TABLE __blocklist_periods AS
WITH listed AS (
    SELECT target, blocklist, ts AS listed_at,
           row_number() OVER (ORDER BY target, blocklist, ts) AS listing
    FROM blocklists WHERE action = 'listed'
),
delisted AS (
    SELECT target, blocklist, ts AS delisted_at FROM blocklists WHERE action = 'delisted'
)
SELECT l.target,
       CASE WHEN l.target RLIKE '^\\d{1,3}(\\.\\d{1,3}){3}$' OR l.target LIKE '%:%:%'
            THEN 'ip' ELSE 'domain' END AS target_kind,
       l.blocklist, l.listed_at, min(d.delisted_at) AS delisted_at
FROM listed AS l
LEFT JOIN delisted AS d
       ON d.target = l.target AND d.blocklist = l.blocklist AND d.delisted_at > l.listed_at
GROUP BY l.listing, l.target, l.blocklist, l.listed_at;
