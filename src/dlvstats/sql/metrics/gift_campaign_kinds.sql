-- gift_campaign_kinds: gift campaigns against the account's other campaigns (regular,
-- re-engagement, ...), on the same definitions, and revenue per delivered message.
-- Grain: one row per (account_id, kind) for messages sent in [$date_from, $date_to) (sent_at,
--        UTC), of $account_id when given; kind from `campaigns` ('unknown' when the campaign has no
--        campaigns row).
-- Parameters: $date_from, $date_to, $account_id.
-- Public columns:
--   campaigns (distinct campaign ids), sends, delivered, recipients (distinct)
--   human_open_rate      num = delivered messages with a human open, den = delivered
--   human_click_rate     num = delivered messages with a human click (not unsubscribe or
--                        preference links), den = delivered
--   complaint_rate       num = delivered messages with a complaint, den = delivered
--   unsubscribe_rate     num = delivered messages followed by an unsubscribe by the person (link,
--                        user or none; not 'moved'), den = delivered
--   hard_bounce_rate     num = hard bounces, den = sends
--   reregistered         distinct recipients who subscribed naming one of these campaigns, which
--                        they received in the period
--   attributed_revenue   amount of orders naming one of these campaigns (orders.campaign_id),
--                        placed by a recipient of that campaign in the period
--   revenue_per_delivered            mean: num = attributed_revenue, den = delivered
--   click_revenue_7d     amount of orders credited by last human click within 7 days (an order
--                        goes to the latest message of the account its buyer clicked before it,
--                        if that click is at most 7 days older; the message in the period)
--   click_revenue_per_delivered_7d   mean: num = click_revenue_7d, den = delivered
-- Rates and means come as cluster sums R__num ... R__k over recipients.
WITH kinds AS (
    SELECT campaign_id, kind FROM campaigns
),
scope AS NOT MATERIALIZED (
    SELECT f.account_id, f.campaign_id, f.recipient, hash(f.recipient) AS person, f.sent_at, f.is_delivered,
           f.is_hard_bounce, f.has_human_open, f.has_human_click, f.has_complaint, f.has_unsubscribe,
           coalesce(k.kind, 'unknown') AS kind
    FROM message_facts AS f
    LEFT JOIN kinds AS k USING (campaign_id)
    WHERE dlv_in_scope(f.sent_at, f.account_id, $date_from, $date_to, $account_id)
),
clicked AS (
    SELECT account_id, recipient, campaign_id, sent_at, first_human_click_at
    FROM message_facts
    WHERE has_human_click AND dlv_of_account(account_id, $account_id)
),
click_credit AS (
    -- each order to the latest human-clicked message of its buyer before it, if at most 7 days older;
    -- kept when that message is in scope (sent in the period)
    SELECT k.account_id, coalesce(c.kind, 'unknown') AS kind, hash(k.recipient) AS person,
           sum(o.amount) AS revenue
    FROM orders AS o
    ASOF JOIN clicked AS k
      ON k.account_id = o.account_id AND k.recipient = o.recipient AND o.ts >= k.first_human_click_at
    LEFT JOIN kinds AS c ON c.campaign_id = k.campaign_id
    WHERE o.ts < k.first_human_click_at + INTERVAL 7 DAY
      AND dlv_in_scope(k.sent_at, o.account_id, $date_from, $date_to, $account_id)
    GROUP BY ALL
),
attributed AS (
    -- orders naming a campaign the buyer received in the period (the small orders table is the
    -- build side of the join; the messages only probe it)
    SELECT account_id, kind, hash(recipient) AS person, sum(amount) AS revenue
    FROM (SELECT DISTINCT o.account_id, o.order_id, o.recipient, o.amount, s.kind
          FROM orders AS o
          JOIN scope AS s
            ON s.account_id = o.account_id AND s.campaign_id = o.campaign_id AND s.recipient = o.recipient
          WHERE o.campaign_id IS NOT NULL AND dlv_of_account(o.account_id, $account_id))
    GROUP BY ALL
),
rereg AS (
    -- recipients who subscribed naming a campaign they received in the period
    SELECT DISTINCT u.account_id, s.kind, hash(u.recipient) AS person
    FROM subscriptions AS u
    JOIN scope AS s
      ON s.account_id = u.account_id AND s.campaign_id = u.campaign_id AND s.recipient = u.recipient
    WHERE u.action = 'subscribe' AND u.campaign_id IS NOT NULL
      AND dlv_of_account(u.account_id, $account_id)
),
message_people AS (
    SELECT account_id, kind, person,
           count(*) AS n_sends,
           count(*) FILTER (is_delivered) AS n_delivered,
           count(*) FILTER (is_delivered AND has_human_open) AS y_open,
           count(*) FILTER (is_delivered AND has_human_click) AS y_click,
           count(*) FILTER (is_delivered AND has_complaint) AS y_complaint,
           count(*) FILTER (is_delivered AND has_unsubscribe) AS y_unsub,
           count(*) FILTER (is_hard_bounce) AS y_hard
    FROM scope
    GROUP BY ALL
),
per_person AS (
    SELECT p.*,
           CAST(coalesce(a.revenue, 0) AS DOUBLE) AS y_revenue,
           CAST(coalesce(cc.revenue, 0) AS DOUBLE) AS y_click_revenue
    FROM message_people AS p
    LEFT JOIN attributed AS a USING (account_id, kind, person)
    LEFT JOIN click_credit AS cc USING (account_id, kind, person)
),
long AS (
    UNPIVOT per_person
    ON (y_open, n_delivered) AS human_open_rate,
       (y_click, n_delivered) AS human_click_rate,
       (y_complaint, n_delivered) AS complaint_rate,
       (y_unsub, n_delivered) AS unsubscribe_rate,
       (y_hard, n_sends) AS hard_bounce_rate,
       (y_revenue, n_delivered) AS revenue_per_delivered,
       (y_click_revenue, n_delivered) AS click_revenue_per_delivered_7d
    INTO NAME rate VALUE y, n
),
rate_sums AS (
    SELECT account_id, kind, rate, sum(y) AS num, sum(n) AS den, sum(y * y) AS y2, sum(y * n) AS yn,
           sum(n * n) AS n2, count(*) AS k
    FROM long WHERE n > 0 GROUP BY ALL
),
rates AS (
    PIVOT rate_sums
    ON rate IN ('human_open_rate', 'human_click_rate', 'complaint_rate', 'unsubscribe_rate',
                'hard_bounce_rate', 'revenue_per_delivered', 'click_revenue_per_delivered_7d')
    USING first(num) AS _num, first(den) AS _den, first(y2) AS _y2, first(yn) AS _yn,
          first(n2) AS _n2, first(k) AS _k
    GROUP BY account_id, kind
),
counts AS (
    SELECT account_id, kind,
           CAST(sum(n_sends) AS BIGINT) AS sends,
           CAST(sum(n_delivered) AS BIGINT) AS delivered,
           count(*) AS recipients,
           sum(y_revenue) AS attributed_revenue,
           sum(y_click_revenue) AS click_revenue_7d
    FROM per_person GROUP BY ALL
),
campaign_counts AS (
    SELECT account_id, kind, count(*) AS campaigns
    FROM (SELECT account_id, kind, campaign_id FROM scope GROUP BY ALL) GROUP BY ALL
),
rereg_counts AS (
    SELECT account_id, kind, count(*) AS reregistered FROM rereg GROUP BY ALL
)
SELECT c.account_id, c.kind, n.campaigns, c.sends, c.delivered, c.recipients,
       coalesce(g.reregistered, 0) AS reregistered, c.attributed_revenue, c.click_revenue_7d,
       r.* EXCLUDE (account_id, kind)
FROM counts AS c
JOIN campaign_counts AS n USING (account_id, kind)
LEFT JOIN rereg_counts AS g USING (account_id, kind)
LEFT JOIN rates AS r USING (account_id, kind)
ORDER BY c.account_id, CASE c.kind WHEN 'gift' THEN 0 WHEN 'regular' THEN 1 ELSE 2 END, c.kind;
