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
--   reregistered         distinct recipients who subscribed naming one of these campaigns
--   attributed_revenue   amount of orders naming one of these campaigns (orders.campaign_id)
--   revenue_per_delivered            mean: num = attributed_revenue, den = delivered
--   click_revenue_7d     amount of orders credited by last human click within 7 days (an order
--                        goes to the latest message of the account its buyer clicked before it,
--                        if that click is at most 7 days older)
--   click_revenue_per_delivered_7d   mean: num = click_revenue_7d, den = delivered
-- Rates and means come as cluster sums R__num ... R__k over recipients.
WITH scope AS (
    SELECT f.message_id, f.account_id, f.campaign_id, f.recipient, f.is_delivered, f.is_hard_bounce,
           f.has_human_open, f.has_human_click, f.has_complaint, f.has_unsubscribe, f.first_human_click_at,
           coalesce(c.kind, 'unknown') AS kind
    FROM message_facts AS f
    LEFT JOIN campaigns AS c USING (campaign_id)
    WHERE f.sent_at >= $date_from AND f.sent_at < $date_to
      AND ($account_id IS NULL OR f.account_id = $account_id)
),
clicked AS (
    SELECT account_id, recipient, message_id, first_human_click_at
    FROM message_facts
    WHERE has_human_click AND ($account_id IS NULL OR account_id = $account_id)
),
click_credit AS (
    SELECT k.message_id, sum(o.amount) AS click_revenue_7d
    FROM orders AS o
    ASOF JOIN clicked AS k
      ON k.account_id = o.account_id AND k.recipient = o.recipient AND o.ts >= k.first_human_click_at
    WHERE o.ts < k.first_human_click_at + INTERVAL 7 DAY
      AND ($account_id IS NULL OR o.account_id = $account_id)
    GROUP BY ALL
),
attributed AS (
    SELECT account_id, campaign_id, recipient, sum(amount) AS revenue
    FROM orders
    WHERE campaign_id IS NOT NULL AND ($account_id IS NULL OR account_id = $account_id)
    GROUP BY ALL
),
rereg AS (
    SELECT DISTINCT s.account_id, s.campaign_id, s.recipient
    FROM subscriptions AS s
    WHERE s.action = 'subscribe' AND s.campaign_id IS NOT NULL
      AND ($account_id IS NULL OR s.account_id = $account_id)
),
message_people AS (
    SELECT account_id, kind, campaign_id, recipient,
           count(*) AS n_sends,
           count(*) FILTER (is_delivered) AS n_delivered,
           count(*) FILTER (is_delivered AND has_human_open) AS y_open,
           count(*) FILTER (is_delivered AND has_human_click) AS y_click,
           count(*) FILTER (is_delivered AND has_complaint) AS y_complaint,
           count(*) FILTER (is_delivered AND has_unsubscribe) AS y_unsub,
           count(*) FILTER (is_hard_bounce) AS y_hard,
           coalesce(sum(cc.click_revenue_7d), 0) AS y_click_revenue
    FROM scope
    LEFT JOIN click_credit AS cc USING (message_id)
    GROUP BY ALL
),
campaign_people AS (
    -- one row per (campaign, recipient) with the orders naming the campaign and re-registrations
    SELECT p.*, coalesce(a.revenue, 0) AS y_revenue, r.recipient IS NOT NULL AS is_rereg
    FROM message_people AS p
    LEFT JOIN attributed AS a USING (account_id, campaign_id, recipient)
    LEFT JOIN rereg AS r USING (account_id, campaign_id, recipient)
),
per_person AS (
    SELECT account_id, kind, recipient,
           sum(n_sends) AS n_sends, sum(n_delivered) AS n_delivered, sum(y_open) AS y_open,
           sum(y_click) AS y_click, sum(y_complaint) AS y_complaint, sum(y_unsub) AS y_unsub,
           sum(y_hard) AS y_hard, CAST(sum(y_revenue) AS DOUBLE) AS y_revenue,
           CAST(sum(y_click_revenue) AS DOUBLE) AS y_click_revenue,
           bool_or(is_rereg) AS is_rereg
    FROM campaign_people GROUP BY ALL
),
long AS (
    UNPIVOT (SELECT account_id, kind, recipient, n_sends, n_delivered, y_open, y_click, y_complaint,
                    y_unsub, y_hard, y_revenue, y_click_revenue FROM per_person)
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
           count(DISTINCT campaign_id) AS campaigns,
           CAST(sum(n_sends) AS BIGINT) AS sends,
           CAST(sum(n_delivered) AS BIGINT) AS delivered,
           count(DISTINCT recipient) AS recipients,
           count(DISTINCT recipient) FILTER (is_rereg) AS reregistered,
           sum(y_revenue) AS attributed_revenue,
           sum(y_click_revenue) AS click_revenue_7d
    FROM campaign_people GROUP BY ALL
)
SELECT c.*, r.* EXCLUDE (account_id, kind)
FROM counts AS c
LEFT JOIN rates AS r USING (account_id, kind)
ORDER BY account_id, CASE kind WHEN 'gift' THEN 0 WHEN 'regular' THEN 1 ELSE 2 END, kind;
