-- The most frequent recipient domains mapped to 'other': candidates for an MX lookup.
-- Grain: one row per domain. Parameters: $top.
SELECT recipient_domain, count(*) AS sends
FROM sends WHERE provider = 'other'
GROUP BY recipient_domain ORDER BY sends DESC LIMIT $top;
