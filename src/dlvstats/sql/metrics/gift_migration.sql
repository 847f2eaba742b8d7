-- gift_migration: the A -> B migration over successive gift sends - how much of list A has
-- re-registered after k gift sends, and what remains on A (the "grey list").
-- Grain: one row per (account_id, list_id, gift_number) for the campaigns of kind $kind
--        ('gift' | 'reengagement') sent from list A = list_id in [$date_from, $date_to)
--        (campaigns.sent_at, UTC), of $account_id when given; gift_number k = 1, 2, ... in send
--        order within the period.
-- Parameters: $kind, $date_from, $date_to, $account_id.
-- Rules:
--   cohort: the delivered recipients of list A's first gift send of the period (list A as the
--   migration found it); later sign-ups to A are not in it.
--   a cohort member re-registered at gift k when their first subscribe (any list of the account)
--   naming one of list A's gift campaigns names the k-th one.
--   a cohort member left A otherwise when, after the first gift send, they unsubscribed from A
--   with a source other than 'moved' or hard-bounced on a message of A.
-- Public columns:
--   campaign_id, sent_at (of gift k), window_end_at (next gift send of A, else $date_to)
--   cohort_size            members of the cohort
--   reached                cohort members delivered gift k
--   reregistered           cohort members who re-registered at gift k
--   cum_reregistered       cohort members re-registered at gifts 1..k
--   cum_rereg_share        num = cum_reregistered, den = cohort_size
--   left_other             cohort members not re-registered at gifts 1..k who left A otherwise
--                          before window_end_at
--   remaining_on_source    cohort_size - cum_reregistered - left_other: still on A, never moved
--                          (the grey list after gift k)
--   remaining_share        num = remaining_on_source, den = cohort_size
-- Rates come as R__num / R__den (one row per person: the plain Wilson interval).
WITH gifts AS (
    SELECT campaign_id, account_id, list_id, sent_at,
           row_number() OVER (PARTITION BY account_id, list_id ORDER BY sent_at, campaign_id) AS gift_number,
           coalesce(lead(sent_at) OVER (PARTITION BY account_id, list_id ORDER BY sent_at, campaign_id),
                    CAST($date_to AS TIMESTAMP)) AS window_end_at
    FROM campaigns
    WHERE kind = $kind AND dlv_in_scope(sent_at, account_id, $date_from, $date_to, $account_id)
),
first_gift AS (
    SELECT account_id, list_id, campaign_id, sent_at AS first_gift_at FROM gifts WHERE gift_number = 1
),
cohort AS (
    SELECT DISTINCT g.account_id, g.list_id, g.first_gift_at, f.recipient
    FROM first_gift AS g
    JOIN message_facts AS f ON f.campaign_id = g.campaign_id AND f.account_id = g.account_id
    WHERE f.is_delivered
),
rereg AS (
    SELECT c.account_id, c.list_id, c.recipient, arg_min(g.gift_number, s.ts) AS rereg_gift_number
    FROM cohort AS c
    JOIN subscriptions AS s
      ON s.account_id = c.account_id AND s.recipient = c.recipient AND s.action = 'subscribe'
    JOIN gifts AS g
      ON g.campaign_id = s.campaign_id AND g.account_id = c.account_id AND g.list_id = c.list_id
    GROUP BY ALL
),
left_events AS (
    SELECT account_id, list_id, recipient, ts AS left_at
    FROM subscriptions
    WHERE action = 'unsubscribe' AND coalesce(source, '') <> 'moved'
    UNION ALL
    SELECT account_id, list_id, recipient, sent_at
    FROM message_facts
    WHERE is_hard_bounce
),
left_source AS (
    SELECT c.account_id, c.list_id, c.recipient, min(e.left_at) AS left_at
    FROM cohort AS c
    JOIN left_events AS e USING (account_id, list_id, recipient)
    WHERE e.left_at >= c.first_gift_at
    GROUP BY ALL
),
members AS (
    SELECT c.account_id, c.list_id, c.recipient, r.rereg_gift_number, l.left_at
    FROM cohort AS c
    LEFT JOIN rereg AS r USING (account_id, list_id, recipient)
    LEFT JOIN left_source AS l USING (account_id, list_id, recipient)
),
delivered_gift AS (
    SELECT DISTINCT g.account_id, g.list_id, g.gift_number, f.recipient
    FROM gifts AS g
    JOIN message_facts AS f ON f.campaign_id = g.campaign_id AND f.account_id = g.account_id
    WHERE f.is_delivered
),
steps AS (
    SELECT g.account_id, g.list_id, g.gift_number, g.campaign_id, g.sent_at, g.window_end_at,
           count(*) AS cohort_size,
           count(d.recipient) AS reached,
           count(*) FILTER (m.rereg_gift_number = g.gift_number) AS reregistered,
           count(*) FILTER (m.rereg_gift_number <= g.gift_number) AS cum_reregistered,
           count(*) FILTER ((m.rereg_gift_number IS NULL OR m.rereg_gift_number > g.gift_number)
                            AND m.left_at < g.window_end_at) AS left_other
    FROM gifts AS g
    JOIN members AS m ON m.account_id = g.account_id AND m.list_id = g.list_id
    LEFT JOIN delivered_gift AS d
           ON d.account_id = g.account_id AND d.list_id = g.list_id AND d.gift_number = g.gift_number
          AND d.recipient = m.recipient
    GROUP BY ALL
)
SELECT account_id, list_id, gift_number, campaign_id, sent_at, window_end_at,
       cohort_size, reached, reregistered, cum_reregistered, left_other,
       cohort_size - cum_reregistered - left_other AS remaining_on_source,
       cum_reregistered AS cum_rereg_share__num, cohort_size AS cum_rereg_share__den,
       cohort_size - cum_reregistered - left_other AS remaining_share__num, cohort_size AS remaining_share__den
FROM steps
ORDER BY account_id, list_id, gift_number;
