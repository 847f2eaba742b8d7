-- gift_grey_list: how the people of a gift cohort behave between gift sends, by where they are:
-- moved to list B ('migrated'), still on list A and never moved ('grey'), or gone ('left').
-- Grain: one row per (account_id, list_id, gift_number, segment) with at least one message.
--        Cohort, gift numbers and windows as in gift_migration.sql ($kind campaigns of list A
--        sent in [$date_from, $date_to), of $account_id when given); the messages are every
--        message of the account (any list, any campaign, gifts included) to a cohort member sent in
--        [sent_at of gift k, next gift send of A or $date_to).
-- Parameters: $kind, $date_from, $date_to, $account_id.
-- Rules: a message's segment is its recipient's status when it was sent: 'migrated' after their
--   first re-registration through one of list A's gift campaigns; else 'left' after they left A
--   otherwise (unsubscribe from A not 'moved', hard bounce on A); else 'grey'.
-- Public columns:
--   segment (migrated | grey | left), window_start_at, window_end_at, members (distinct
--   recipients with a message in the window and segment), sends, delivered
--   human_open_rate      num = delivered messages with a human open, den = delivered
--   human_click_rate     num = delivered messages with a human click, den = delivered
--   complaint_rate       num = delivered messages with a complaint, den = delivered
--   unsubscribe_rate     num = delivered messages followed by an unsubscribe by the person, den = delivered
--   hard_bounce_rate     num = hard bounces, den = sends
--   buyers, buyer_share  num = members with an order on the account in the window while in the
--                        segment, den = members
-- Rates come as cluster sums R__num ... R__k over recipients (dlvstats/metrics/common.py).
WITH gifts AS (
    SELECT campaign_id, account_id, list_id, sent_at,
           row_number() OVER (PARTITION BY account_id, list_id ORDER BY sent_at, campaign_id) AS gift_number,
           coalesce(lead(sent_at) OVER (PARTITION BY account_id, list_id ORDER BY sent_at, campaign_id),
                    CAST($date_to AS TIMESTAMP)) AS window_end_at
    FROM campaigns
    WHERE kind = $kind AND dlv_in_scope(sent_at, account_id, $date_from, $date_to, $account_id)
),
cohort AS (
    SELECT DISTINCT g.account_id, g.list_id, g.sent_at AS first_gift_at, f.recipient
    FROM gifts AS g
    JOIN message_facts AS f ON f.campaign_id = g.campaign_id AND f.account_id = g.account_id
    WHERE g.gift_number = 1 AND f.is_delivered
),
rereg AS (
    SELECT c.account_id, c.list_id, c.recipient, min(s.ts) AS rereg_at
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
    SELECT account_id, list_id, recipient, sent_at FROM message_facts WHERE is_hard_bounce
),
left_source AS (
    SELECT c.account_id, c.list_id, c.recipient, min(e.left_at) AS left_at
    FROM cohort AS c
    JOIN left_events AS e USING (account_id, list_id, recipient)
    WHERE e.left_at >= c.first_gift_at
    GROUP BY ALL
),
members AS (
    SELECT c.*, r.rereg_at, l.left_at
    FROM cohort AS c
    LEFT JOIN rereg AS r USING (account_id, list_id, recipient)
    LEFT JOIN left_source AS l USING (account_id, list_id, recipient)
),
messages AS (
    SELECT m.account_id, m.list_id AS source_list_id, m.recipient, m.rereg_at, m.left_at,
           f.sent_at, f.is_delivered, f.is_hard_bounce, f.has_human_open, f.has_human_click,
           f.has_complaint, f.has_unsubscribe
    FROM members AS m
    JOIN message_facts AS f
      ON f.account_id = m.account_id AND f.recipient = m.recipient
     AND f.sent_at >= m.first_gift_at AND f.sent_at < $date_to
),
windowed AS (
    SELECT g.list_id, g.gift_number, g.sent_at AS window_start_at, g.window_end_at, x.*,
           CASE WHEN x.rereg_at < x.sent_at THEN 'migrated'
                WHEN x.left_at < x.sent_at THEN 'left'
                ELSE 'grey' END AS segment
    FROM messages AS x
    ASOF JOIN gifts AS g
      ON g.account_id = x.account_id AND g.list_id = x.source_list_id AND x.sent_at >= g.sent_at
),
buyers AS (
    -- an order counts for the segment its buyer was in when ordering (same rule as messages)
    SELECT DISTINCT w.account_id, w.list_id, w.gift_number, w.segment, w.recipient
    FROM (SELECT DISTINCT account_id, list_id, gift_number, segment, recipient, rereg_at, left_at,
                 window_start_at, window_end_at
          FROM windowed) AS w
    JOIN orders AS o
      ON o.account_id = w.account_id AND o.recipient = w.recipient
     AND o.ts >= w.window_start_at AND o.ts < w.window_end_at
    WHERE w.segment = CASE WHEN w.rereg_at < o.ts THEN 'migrated'
                           WHEN w.left_at < o.ts THEN 'left'
                           ELSE 'grey' END
),
per_person AS (
    SELECT w.account_id, w.list_id, w.gift_number, w.segment, w.recipient,
           any_value(w.window_start_at) AS window_start_at, any_value(w.window_end_at) AS window_end_at,
           count(*) AS n_sends,
           count(*) FILTER (w.is_delivered) AS n_delivered,
           count(*) FILTER (w.is_delivered AND w.has_human_open) AS y_open,
           count(*) FILTER (w.is_delivered AND w.has_human_click) AS y_click,
           count(*) FILTER (w.is_delivered AND w.has_complaint) AS y_complaint,
           count(*) FILTER (w.is_delivered AND w.has_unsubscribe) AS y_unsub,
           count(*) FILTER (w.is_hard_bounce) AS y_hard,
           CAST(any_value(b.recipient) IS NOT NULL AS INTEGER) AS y_buyer,
           1 AS one
    FROM windowed AS w
    LEFT JOIN buyers AS b USING (account_id, list_id, gift_number, segment, recipient)
    GROUP BY w.account_id, w.list_id, w.gift_number, w.segment, w.recipient
),
long AS (
    UNPIVOT per_person
    ON (y_open, n_delivered) AS human_open_rate,
       (y_click, n_delivered) AS human_click_rate,
       (y_complaint, n_delivered) AS complaint_rate,
       (y_unsub, n_delivered) AS unsubscribe_rate,
       (y_hard, n_sends) AS hard_bounce_rate,
       (y_buyer, one) AS buyer_share
    INTO NAME rate VALUE y, n
),
rate_sums AS (
    SELECT account_id, list_id, gift_number, segment, rate,
           sum(y) AS num, sum(n) AS den, sum(y * y) AS y2, sum(y * n) AS yn, sum(n * n) AS n2, count(*) AS k
    FROM long WHERE n > 0 GROUP BY ALL
),
rates AS (
    PIVOT rate_sums
    ON rate IN ('human_open_rate', 'human_click_rate', 'complaint_rate', 'unsubscribe_rate',
                'hard_bounce_rate', 'buyer_share')
    USING first(num) AS _num, first(den) AS _den, first(y2) AS _y2, first(yn) AS _yn,
          first(n2) AS _n2, first(k) AS _k
    GROUP BY account_id, list_id, gift_number, segment
),
counts AS (
    SELECT account_id, list_id, gift_number, segment,
           any_value(window_start_at) AS window_start_at, any_value(window_end_at) AS window_end_at,
           count(*) AS members,
           CAST(sum(n_sends) AS BIGINT) AS sends,
           CAST(sum(n_delivered) AS BIGINT) AS delivered,
           CAST(sum(y_buyer) AS BIGINT) AS buyers
    FROM per_person GROUP BY ALL
)
SELECT c.*, r.* EXCLUDE (account_id, list_id, gift_number, segment)
FROM counts AS c
LEFT JOIN rates AS r USING (account_id, list_id, gift_number, segment)
ORDER BY account_id, list_id, gift_number, CASE segment WHEN 'migrated' THEN 1 WHEN 'grey' THEN 2 ELSE 3 END;
