-- gift_campaigns: what each gift (or re-engagement) campaign did - who re-registered from it,
-- who was moved off the source list, who complained, and who bought in the 90 days after.
-- Grain: one row per campaign of kind $kind ('gift' | 'reengagement') whose campaigns.sent_at is
--        in [$date_from, $date_to) (UTC), of $account_id when given (NULL = every account).
-- Parameters: $kind, $date_from, $date_to, $account_id.
-- "Delivered recipients": distinct recipients with a delivered message of the campaign. Counts of
-- people are distinct recipients; a person's "messages" are that campaign's messages to them.
-- Public columns:
--   campaign_id, account_id, list_id (the source list, A), name, kind, sent_at (campaigns.sent_at)
--   sends, delivered (messages with status delivered), delivered_recipients, hard_bounces
--   human_opener_recipients / human_clicker_recipients   delivered recipients with a human open / a human click (not
--                        on an unsubscribe or preference link) of the campaign
--   human_open_rate      num = human_opener_recipients, den = delivered
--   human_click_rate     num = human_clicker_recipients, den = delivered
--   reregistered         delivered recipients who subscribed (action subscribe, any source) to a
--                        list of the same account with this campaign_id
--   rereg_rate           num = reregistered, den = delivered
--   removed_from_source  distinct recipients unsubscribed from the campaign's list (A) with
--                        source 'moved' and this campaign_id
--   complaints           delivered messages with a spam complaint
--   complaint_rate       num = complaints, den = delivered
--   unsubscribes         delivered messages followed by an unsubscribe by the person (source
--                        link, user or none) naming this campaign ('moved' does not count)
--   unsubscribe_rate     num = unsubscribes, den = delivered
--   hard_bounce_rate     num = hard_bounces, den = sends
--   buyers_90d           re-registrants with an order on the account in [re-registration,
--                        re-registration + 90 days); re-registration = their first subscribe
--                        naming the campaign
--   buyer_rate_90d       num = buyers_90d, den = reregistered
--   control_clickers     human clickers of the campaign who did not re-register through it
--   control_buyers_90d   control clickers with an order in [first human click, + 90 days)
--   control_buyer_rate_90d   num = control_buyers_90d, den = control_clickers
--   engaged_next_90d     delivered recipients with a human open or click on another message of
--                        the account sent in (sent_at, sent_at + 90 days]: who came back
--   engaged_next_rate_90d    num = engaged_next_90d, den = delivered recipients
--   attributed_orders, attributed_revenue   orders (amount) naming this campaign_id
--   revenue_per_delivered    mean: num = attributed_revenue, den = delivered
--   click_revenue_7d     orders credited to the campaign by last human click: an order of a
--                        delivered recipient goes to the latest message of the account they
--                        clicked (human) before it, when that click is at most 7 days older
--   click_revenue_per_delivered_7d   mean: num = click_revenue_7d, den = delivered
--   buyer_revenue_90d    amount of the re-registrants' orders in their 90-day windows
--   purchase_window_end_at        the latest end of a 90-day window (re-registration or control click;
--                        sent_at + 90 days when nobody re-registered or clicked)
--   data_end_at          the latest time in the data (sends, orders, subscriptions)
--   is_immature          purchase_window_end_at > data_end_at: the 90 days run past the data, so
--                        buyers_90d and control_buyers_90d can still grow
-- Rates and means come as cluster sums R__num, R__den, R__y2, R__yn, R__n2, R__k over the
-- campaign's recipients (dlvstats/metrics/common.py); with one message per person they give the
-- plain Wilson interval.
WITH camp AS (
    SELECT campaign_id, account_id, list_id, name, kind, sent_at
    FROM campaigns
    WHERE kind = $kind AND dlv_in_scope(sent_at, account_id, $date_from, $date_to, $account_id)
),
data_end AS (
    SELECT greatest((SELECT max(sent_at) FROM sends), (SELECT max(ts) FROM orders),
                    (SELECT max(ts) FROM subscriptions)) AS data_end_at
),
msg AS (
    SELECT f.campaign_id, f.account_id, f.recipient,
           count(*) AS n_sends,
           count(*) FILTER (f.is_delivered) AS n_delivered,
           count(*) FILTER (f.is_hard_bounce) AS y_hard,
           count(*) FILTER (f.is_delivered AND f.has_human_open) > 0 AS is_opener,
           count(*) FILTER (f.is_delivered AND f.has_human_click) > 0 AS is_clicker,
           min(f.first_human_click_at) FILTER (f.is_delivered) AS first_click_at,
           count(*) FILTER (f.is_delivered AND f.has_complaint) AS y_complaints,
           count(*) FILTER (f.is_delivered AND f.has_unsubscribe) AS y_unsubscribes
    FROM message_facts AS f
    JOIN camp AS c ON c.campaign_id = f.campaign_id AND c.account_id = f.account_id
    GROUP BY ALL
),
rereg AS (
    SELECT s.campaign_id, s.recipient, min(s.ts) AS rereg_at
    FROM subscriptions AS s
    JOIN camp AS c ON c.campaign_id = s.campaign_id AND c.account_id = s.account_id
    WHERE s.action = 'subscribe'
    GROUP BY ALL
),
moved AS (
    SELECT c.campaign_id, count(DISTINCT s.recipient) AS removed_from_source
    FROM subscriptions AS s
    JOIN camp AS c
      ON c.campaign_id = s.campaign_id AND c.account_id = s.account_id AND c.list_id = s.list_id
    WHERE s.action = 'unsubscribe' AND s.source = 'moved'
    GROUP BY ALL
),
people AS (
    -- every recipient of the campaign; re-registrants and controls only among delivered ones
    SELECT m.*, c.sent_at AS campaign_sent_at,
           CASE WHEN m.n_delivered > 0 THEN r.rereg_at END AS rereg_at,
           m.n_delivered > 0 AND r.rereg_at IS NOT NULL AS is_rereg,
           m.is_clicker AND r.rereg_at IS NULL AS is_control,
           CAST(m.n_delivered > 0 AS INTEGER) AS is_delivered_person
    FROM msg AS m
    JOIN camp AS c USING (campaign_id)
    LEFT JOIN rereg AS r USING (campaign_id, recipient)
),
person_orders AS (
    SELECT p.campaign_id, p.recipient,
           count(*) FILTER (o.ts >= p.rereg_at AND o.ts < p.rereg_at + INTERVAL 90 DAY) > 0 AS is_buyer,
           sum(o.amount) FILTER (o.ts >= p.rereg_at AND o.ts < p.rereg_at + INTERVAL 90 DAY) AS buyer_revenue,
           count(*) FILTER (p.is_control AND o.ts >= p.first_click_at
                            AND o.ts < p.first_click_at + INTERVAL 90 DAY) > 0 AS is_control_buyer,
           count(*) FILTER (o.campaign_id = p.campaign_id) AS attributed_orders,
           coalesce(sum(o.amount) FILTER (o.campaign_id = p.campaign_id), 0) AS attributed_revenue
    FROM people AS p
    JOIN orders AS o ON o.account_id = p.account_id AND o.recipient = p.recipient
    GROUP BY ALL
),
clicked AS (
    -- every human-clicked message of the accounts and recipients in scope, for last-click credit
    SELECT f.account_id, f.recipient, f.campaign_id, f.first_human_click_at
    FROM message_facts AS f
    SEMI JOIN people AS p ON p.account_id = f.account_id AND p.recipient = f.recipient
    WHERE f.has_human_click
),
last_click AS (
    SELECT k.campaign_id, k.recipient, sum(o.amount) AS click_revenue_7d
    FROM orders AS o
    SEMI JOIN people AS p ON p.account_id = o.account_id AND p.recipient = o.recipient
    ASOF JOIN clicked AS k
      ON k.account_id = o.account_id AND k.recipient = o.recipient AND o.ts >= k.first_human_click_at
    WHERE o.ts < k.first_human_click_at + INTERVAL 7 DAY
    GROUP BY ALL
),
came_back AS (
    SELECT DISTINCT p.campaign_id, p.recipient
    FROM people AS p
    JOIN message_facts AS f
      ON f.account_id = p.account_id AND f.recipient = p.recipient
     AND f.sent_at > p.campaign_sent_at AND f.sent_at <= p.campaign_sent_at + INTERVAL 90 DAY
     AND f.campaign_id <> p.campaign_id
    WHERE p.n_delivered > 0 AND (f.has_human_open OR f.has_human_click)
),
person AS (
    SELECT p.*,
           coalesce(o.is_buyer, false) AS is_buyer,
           coalesce(o.buyer_revenue, 0) AS buyer_revenue,
           coalesce(o.is_control_buyer, false) AS is_control_buyer,
           coalesce(o.attributed_orders, 0) AS attributed_orders,
           coalesce(o.attributed_revenue, 0) AS attributed_revenue,
           coalesce(l.click_revenue_7d, 0) AS click_revenue_7d,
           b.recipient IS NOT NULL AS is_back
    FROM people AS p
    LEFT JOIN person_orders AS o USING (campaign_id, recipient)
    LEFT JOIN last_click AS l USING (campaign_id, recipient)
    LEFT JOIN came_back AS b USING (campaign_id, recipient)
),
long AS (
    UNPIVOT (
        SELECT campaign_id, recipient, n_delivered, n_sends, y_hard, y_complaints, y_unsubscribes,
               CAST(is_opener AS INTEGER) AS y_open, CAST(is_clicker AS INTEGER) AS y_click,
               CAST(is_rereg AS INTEGER) AS y_rereg, CAST(is_back AS INTEGER) AS y_back, is_delivered_person,
               CAST(is_buyer AS INTEGER) AS y_buyer, CAST(is_rereg AS INTEGER) AS n_rereg,
               CAST(is_control_buyer AS INTEGER) AS y_control, CAST(is_control AS INTEGER) AS n_control,
               CAST(attributed_revenue AS DOUBLE) AS y_revenue, CAST(click_revenue_7d AS DOUBLE) AS y_click_revenue
        FROM person
    )
    ON (y_open, n_delivered) AS human_open_rate,
       (y_click, n_delivered) AS human_click_rate,
       (y_rereg, n_delivered) AS rereg_rate,
       (y_complaints, n_delivered) AS complaint_rate,
       (y_unsubscribes, n_delivered) AS unsubscribe_rate,
       (y_hard, n_sends) AS hard_bounce_rate,
       (y_back, is_delivered_person) AS engaged_next_rate_90d,
       (y_buyer, n_rereg) AS buyer_rate_90d,
       (y_control, n_control) AS control_buyer_rate_90d,
       (y_revenue, n_delivered) AS revenue_per_delivered,
       (y_click_revenue, n_delivered) AS click_revenue_per_delivered_7d
    INTO NAME rate VALUE y, n
),
rate_sums AS (
    SELECT campaign_id, rate, sum(y) AS num, sum(n) AS den, sum(y * y) AS y2, sum(y * n) AS yn,
           sum(n * n) AS n2, count(*) AS k
    FROM long WHERE n > 0 GROUP BY ALL
),
rates AS (
    PIVOT rate_sums
    ON rate IN ('human_open_rate', 'human_click_rate', 'rereg_rate', 'complaint_rate', 'unsubscribe_rate',
                'hard_bounce_rate', 'engaged_next_rate_90d', 'buyer_rate_90d', 'control_buyer_rate_90d',
                'revenue_per_delivered', 'click_revenue_per_delivered_7d')
    USING first(num) AS _num, first(den) AS _den, first(y2) AS _y2, first(yn) AS _yn,
          first(n2) AS _n2, first(k) AS _k
    GROUP BY campaign_id
),
sends_counts AS (
    SELECT campaign_id,
           CAST(sum(n_sends) AS BIGINT) AS sends,
           CAST(sum(n_delivered) AS BIGINT) AS delivered,
           count(*) FILTER (n_delivered > 0) AS delivered_recipients,
           CAST(sum(y_hard) AS BIGINT) AS hard_bounces
    FROM msg GROUP BY ALL
),
person_counts AS (
    SELECT campaign_id,
           count(*) FILTER (is_opener) AS human_opener_recipients,
           count(*) FILTER (is_clicker) AS human_clicker_recipients,
           count(*) FILTER (is_rereg) AS reregistered,
           CAST(sum(y_complaints) AS BIGINT) AS complaints,
           CAST(sum(y_unsubscribes) AS BIGINT) AS unsubscribes,
           count(*) FILTER (is_buyer) AS buyers_90d,
           count(*) FILTER (is_control) AS control_clickers,
           count(*) FILTER (is_control_buyer) AS control_buyers_90d,
           count(*) FILTER (is_back) AS engaged_next_90d,
           CAST(sum(attributed_orders) AS BIGINT) AS attributed_orders,
           sum(attributed_revenue) AS attributed_revenue,
           sum(click_revenue_7d) AS click_revenue_7d,
           sum(buyer_revenue) AS buyer_revenue_90d,
           greatest(max(rereg_at), max(first_click_at) FILTER (is_control)) + INTERVAL 90 DAY AS last_window_end
    FROM person GROUP BY ALL
)
SELECT c.campaign_id, c.account_id, c.list_id, c.name, c.kind, c.sent_at,
       coalesce(s.sends, 0) AS sends,
       coalesce(s.delivered, 0) AS delivered,
       coalesce(s.delivered_recipients, 0) AS delivered_recipients,
       coalesce(s.hard_bounces, 0) AS hard_bounces,
       coalesce(p.human_opener_recipients, 0) AS human_opener_recipients,
       coalesce(p.human_clicker_recipients, 0) AS human_clicker_recipients,
       coalesce(p.reregistered, 0) AS reregistered,
       coalesce(m.removed_from_source, 0) AS removed_from_source,
       coalesce(p.complaints, 0) AS complaints,
       coalesce(p.unsubscribes, 0) AS unsubscribes,
       coalesce(p.buyers_90d, 0) AS buyers_90d,
       coalesce(p.control_clickers, 0) AS control_clickers,
       coalesce(p.control_buyers_90d, 0) AS control_buyers_90d,
       coalesce(p.engaged_next_90d, 0) AS engaged_next_90d,
       coalesce(p.attributed_orders, 0) AS attributed_orders,
       coalesce(p.attributed_revenue, 0) AS attributed_revenue,
       coalesce(p.click_revenue_7d, 0) AS click_revenue_7d,
       coalesce(p.buyer_revenue_90d, 0) AS buyer_revenue_90d,
       greatest(coalesce(p.last_window_end, c.sent_at + INTERVAL 90 DAY), c.sent_at + INTERVAL 90 DAY) AS purchase_window_end_at,
       d.data_end_at,
       greatest(coalesce(p.last_window_end, c.sent_at + INTERVAL 90 DAY), c.sent_at + INTERVAL 90 DAY)
           > d.data_end_at AS is_immature,
       r.* EXCLUDE (campaign_id)
FROM camp AS c
CROSS JOIN data_end AS d
LEFT JOIN sends_counts AS s USING (campaign_id)
LEFT JOIN person_counts AS p USING (campaign_id)
LEFT JOIN moved AS m USING (campaign_id)
LEFT JOIN rates AS r USING (campaign_id)
ORDER BY c.sent_at, c.campaign_id;
