-- blocklist_status: what the DNS blocklists say now, at the latest `dlvstats blocklists check`.
-- Grain: one row per target (sending IP or domain) and blocklist, from its latest answer in
--        blocklist_lookups (the check's audit trail), whatever the report's period: a monthly report
--        rendered in the first days of the next month shows the state at rendering, dated.
-- Parameters: $date_from, $date_to, $account_id. With $account_id, only the targets that account
--        sent from in [$date_from, $date_to) (an account's pack names no other client's target);
--        with NULL, every target ever checked.
-- Columns: target, target_kind, blocklist, zone, status (listed | not_listed | unknown), meaning,
--        return_code, checked_at, listed_since (the open 'listed' event of __blocklist_periods,
--        NULL when not listed now), answers_unknown (how many of this target's lists answered
--        nothing usable at that check: refused, policy code or no answer).
-- Rules: 'unknown' is never counted as listed or as clean. Needs __blocklist_periods.
WITH latest AS (
    SELECT target, target_kind, blocklist, zone, status, meaning, return_code, checked_at
    FROM blocklist_lookups
    QUALIFY row_number() OVER (PARTITION BY target, blocklist ORDER BY checked_at DESC) = 1
),
used AS (
    SELECT DISTINCT coalesce(sending_ip, '') AS ip, coalesce(sending_domain, '') AS domain
    FROM message_facts
    WHERE $account_id IS NOT NULL AND account_id = $account_id
      AND dlv_in_period(sent_at, $date_from, $date_to)
),
open_listing AS (
    SELECT target, blocklist, max(listed_at) AS listed_since
    FROM __blocklist_periods WHERE delisted_at IS NULL
    GROUP BY ALL
)
SELECT l.target, l.target_kind, l.blocklist, l.zone, l.status, l.meaning, l.return_code, l.checked_at,
       CASE WHEN l.status = 'listed' THEN o.listed_since END AS listed_since,
       count(*) FILTER (WHERE l.status = 'unknown') OVER (PARTITION BY l.target) AS answers_unknown
FROM latest AS l
LEFT JOIN open_listing AS o USING (target, blocklist)
WHERE $account_id IS NULL
   OR EXISTS (SELECT 1 FROM used AS u
              WHERE (l.target_kind = 'ip' AND u.ip = l.target)
                 OR (l.target_kind = 'domain' AND (u.domain = l.target OR ends_with(u.domain, '.' || l.target))))
ORDER BY l.status = 'listed' DESC, l.target, l.blocklist;
