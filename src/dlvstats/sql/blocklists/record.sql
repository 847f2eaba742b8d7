-- blocklists/record: store a check run's fresh answers and turn changes of state into events.
-- Needs: __check_results (blocklists/stage.sql).
-- Grain of the events: one 'listed' row per (target, blocklist) found listed whose last event is
--   not 'listed' (none, or 'delisted'); one 'delisted' row per (target, blocklist) found not
--   listed whose last event is 'listed'. 'unknown' answers (refused, policy code, no answer)
--   change nothing: a listing stays open until a real negative answer closes it.
-- event_key follows the ingest rule (target, blocklist, ts, action), so a check's events and
-- an ingested blocklists file share one key space.
-- Parameters: $now.
INSERT INTO blocklist_lookups
SELECT checked_at, target, target_kind, blocklist, zone, resolver, status, return_code, meaning,
       ttl_seconds, expires_at
FROM __check_results WHERE fresh;

CREATE OR REPLACE TEMP TABLE __check_events AS
WITH last_event AS (
    SELECT target, blocklist, arg_max(action, ts) AS action
    FROM blocklists GROUP BY target, blocklist
),
answers AS (
    SELECT target, blocklist, any_value(zone) AS zone,
           bool_or(status = 'listed') AS listed, bool_or(status = 'not_listed') AS not_listed,
           string_agg(DISTINCT return_code, ' ') FILTER (status = 'listed') AS return_code,
           string_agg(DISTINCT meaning, '; ') FILTER (status = 'listed') AS meaning
    FROM __check_results GROUP BY target, blocklist
)
SELECT CAST($now AS TIMESTAMP) AS ts, a.target, a.blocklist, a.zone,
       CASE WHEN a.listed THEN 'listed' ELSE 'delisted' END AS action,
       CASE WHEN a.listed THEN a.return_code END AS return_code,
       CASE WHEN a.listed THEN a.meaning ELSE 'no longer listed (NXDOMAIN)' END AS meaning
FROM answers AS a LEFT JOIN last_event AS e USING (target, blocklist)
WHERE (a.listed AND coalesce(e.action, '') <> 'listed')
   OR (NOT a.listed AND a.not_listed AND e.action = 'listed');

INSERT INTO blocklists (event_key, ts, target, blocklist, action, drop_id, zone, return_code, meaning)
SELECT md5_number(concat_ws(chr(31), target, blocklist, strftime(ts, '%Y-%m-%dT%H:%M:%S.%f'), action))::UUID,
       ts, target, blocklist, action, NULL, zone, return_code, meaning
FROM __check_events;

SELECT ts, target, blocklist, zone, action, return_code, meaning FROM __check_events ORDER BY target, blocklist;
