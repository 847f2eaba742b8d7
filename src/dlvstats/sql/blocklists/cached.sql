-- blocklists/cached: answers still within their TTL, reused instead of asking the list again.
-- Grain: one row per (target, zone) with an unexpired lookup from the same resolver (the latest).
-- Parameters: $now (the check's time, UTC), $resolver (HOST:PORT, or 'system').
SELECT target, zone, status, return_code, meaning, ttl_seconds, checked_at, expires_at
FROM blocklist_lookups
WHERE resolver = $resolver AND expires_at > $now AND checked_at <= $now
QUALIFY row_number() OVER (PARTITION BY target, zone ORDER BY checked_at DESC) = 1;
