-- blocklist_culprits: which accounts sent from a listed IP (or domain) in the days before its listing.
-- Grain: one row per listing (__blocklist_periods, listed in [$date_from, $date_to)) and account that
--        sent from the target in the $days_before days before listed_at ($account_id's row only
--        when given: an account's pack shows no other client).
-- Needs: __blocklist_periods (relations/blocklist_periods.sql).
-- Parameters: $date_from, $date_to, $account_id, $days_before.
-- Rules: a domain target matches sending_domain or any of its sub-domains; complaint = a delivered
--   message with a complaint (all sources); rank 1 = most complaints, then most hard bounces, then
--   most sends (the account whose mail most likely drew the listing; a ranking, not a proof).
-- Public columns: target, target_kind, blocklist, listed_at, account_id, sends, share_of_target_sends,
--   hard_bounces, complaint_rate__num / complaint_rate__den (complaints / delivered), rank.
WITH listings AS (
    SELECT * FROM __blocklist_periods WHERE dlv_in_period(listed_at, $date_from, $date_to)
),
joined AS (
    SELECT l.target, l.target_kind, l.blocklist, l.listed_at, f.account_id, f.is_delivered,
           f.is_delivered AND f.has_complaint AS is_complaint, f.is_hard_bounce
    FROM listings AS l
    JOIN message_facts AS f
      ON f.sent_at >= l.listed_at - to_days(CAST($days_before AS INTEGER)) AND f.sent_at < l.listed_at
     AND ((l.target_kind = 'ip' AND f.sending_ip = l.target)
          OR (l.target_kind = 'domain' AND (f.sending_domain = l.target OR ends_with(f.sending_domain, '.' || l.target))))
),
per_account AS (
    SELECT target, target_kind, blocklist, listed_at, account_id, count(*) AS sends,
           count(*) FILTER (is_hard_bounce) AS hard_bounces,
           count(*) FILTER (is_complaint) AS complaint_rate__num,
           count(*) FILTER (is_delivered) AS complaint_rate__den
    FROM joined GROUP BY ALL
),
ranked AS (
    SELECT *, sends / sum(sends) OVER (PARTITION BY target, blocklist, listed_at) AS share_of_target_sends,
           row_number() OVER (PARTITION BY target, blocklist, listed_at
                              ORDER BY complaint_rate__num DESC, hard_bounces DESC, sends DESC, account_id) AS rank
    FROM per_account
)
SELECT target, target_kind, blocklist, listed_at, account_id, sends, share_of_target_sends, hard_bounces,
       complaint_rate__num, complaint_rate__den, CASE WHEN $account_id IS NULL THEN rank END AS rank
FROM ranked
WHERE dlv_of_account(account_id, $account_id)
ORDER BY listed_at, target, blocklist, rank;
