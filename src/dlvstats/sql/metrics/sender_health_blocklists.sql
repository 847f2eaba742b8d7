-- sender_health_blocklists: blocklist listings of the sending IPs and domains, for the timeline.
-- Grain: one row per listing (__blocklist_periods) that overlaps [$date_from, $date_to) and whose
--        target (an IP, a domain, or a parent domain of a sending domain) sent messages in the
--        period, of $account_id when given. With $account_id NULL, listings of targets that sent
--        nothing in the period are kept too (a listing of an idle IP is still news).
-- Needs: __blocklist_periods (relations/blocklist_periods.sql).
-- Parameters: $date_from, $date_to, $account_id.
-- Public columns:
--   target, target_kind (ip | domain), blocklist, listed_at, delisted_at (NULL = not delisted in
--   the data), listed_hours (to delisting, or to the end of the period when still listed)
--   accounts_using       distinct accounts that sent from the target in the 30 days before the
--                        listing (only with $account_id NULL; an account's own pack shows no
--                        other client)
--   sends_30d_before     messages sent from the target in the 30 days before the listing (of
--                        $account_id when given)
--   complaint_rate_30d_before   num = complaints, den = delivered of those messages (point
--                        estimate, all providers)
WITH used AS (
    SELECT account_id, coalesce(sending_ip, '') AS sending_ip, coalesce(sending_domain, '') AS sending_domain,
           sent_at, is_delivered, is_delivered AND has_complaint AS is_complaint
    FROM message_facts
    WHERE dlv_of_account(account_id, $account_id)
      AND sent_at < $date_to
      AND sent_at >= $date_from - INTERVAL 30 DAY
),
listings AS (
    SELECT * FROM __blocklist_periods
    WHERE listed_at < $date_to AND (delisted_at IS NULL OR delisted_at >= $date_from)
),
joined AS (
    SELECT l.target, l.target_kind, l.blocklist, l.listed_at, l.delisted_at,
           u.account_id, u.is_delivered, u.is_complaint,
           u.sent_at IS NOT NULL AND u.sent_at >= l.listed_at - INTERVAL 30 DAY AND u.sent_at < l.listed_at AS before_listing,
           u.sent_at >= $date_from AS in_period
    FROM listings AS l
    LEFT JOIN used AS u
      ON (l.target_kind = 'ip' AND u.sending_ip = l.target)
      OR (l.target_kind = 'domain' AND (u.sending_domain = l.target OR ends_with(u.sending_domain, '.' || l.target)))
)
SELECT target, target_kind, blocklist, listed_at, delisted_at,
       date_diff('minute', listed_at, coalesce(delisted_at, CAST($date_to AS TIMESTAMP))) / 60.0 AS listed_hours,
       CASE WHEN $account_id IS NULL THEN count(DISTINCT account_id) FILTER (before_listing) END AS accounts_using,
       count(*) FILTER (before_listing) AS sends_30d_before,
       count(*) FILTER (before_listing AND is_complaint)
           / nullif(count(*) FILTER (before_listing AND is_delivered), 0) AS complaint_rate_30d_before
FROM joined
GROUP BY target, target_kind, blocklist, listed_at, delisted_at
HAVING $account_id IS NULL OR bool_or(in_period)
ORDER BY listed_at, target, blocklist;
