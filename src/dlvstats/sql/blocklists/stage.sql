-- blocklists/stage: the answers of one check run (fresh and cached), registered from Python as
-- __check_frame (one row per target and zone; at most targets x zones rows).
CREATE OR REPLACE TEMP TABLE __check_results AS
SELECT CAST(checked_at AS TIMESTAMP) AS checked_at, target, target_kind, blocklist, zone, resolver,
       status, return_code, meaning, CAST(ttl_seconds AS INTEGER) AS ttl_seconds,
       CAST(expires_at AS TIMESTAMP) AS expires_at, CAST(fresh AS BOOLEAN) AS fresh
FROM __check_frame;
