-- campaign_summary: one row per campaign with messages sent in the period: what each campaign of the
-- month did, for the report's per-campaign section.
-- Grain: one row per (account_id, campaign_id) of the messages sent in [$date_from, $date_to) (UTC,
-- sent_at), of $account_id when given; name, kind and first send from `campaigns` when the drop
-- gave them (else NULL: a campaign the logs name but no campaigns file describes). Every message
-- has a campaign_id (the canonical spec requires one), so every message of the period is in one row.
-- Rules (the headline definitions, from message_facts): delivery_rate and hard_bounce_rate per
-- message sent; open_rate (any open, machine included), human_open_rate, human_click_rate (human clicks
-- on content links), unsubscribe_rate and complaint_rate per delivered message.
-- Interval inputs R__num/den/y2/yn/n2/k: sums over recipients (clusters) for cluster_rate.
-- Parameters: $date_from, $date_to, $account_id (NULL = all accounts).
WITH per_person AS (
    SELECT f.account_id, f.campaign_id,
           count(*) AS s,
           count(*) FILTER (is_delivered) AS n,
           count(*) FILTER (is_hard_bounce) AS y_hard,
           count(*) FILTER (is_delivered AND has_open) AS y_raw_open,
           count(*) FILTER (is_delivered AND has_human_open) AS y_open,
           count(*) FILTER (is_delivered AND has_human_click) AS y_click,
           count(*) FILTER (is_delivered AND has_unsubscribe) AS y_unsub,
           count(*) FILTER (is_delivered AND has_complaint) AS y_compl,
           min(f.sent_at) AS first_sent_at
    FROM message_facts AS f
    WHERE dlv_in_scope(f.sent_at, f.account_id, $date_from, $date_to, $account_id)
    GROUP BY f.account_id, f.campaign_id, f.recipient
),
per_campaign AS (
    SELECT account_id, campaign_id, min(first_sent_at) AS first_sent_at,
           CAST(sum(s) AS BIGINT) AS sends, CAST(sum(n) AS BIGINT) AS delivered,
           CAST(sum(y_hard) AS BIGINT) AS hard_bounces, CAST(sum(y_raw_open) AS BIGINT) AS openers,
           CAST(sum(y_open) AS BIGINT) AS human_openers, CAST(sum(y_click) AS BIGINT) AS human_clickers,
           CAST(sum(y_unsub) AS BIGINT) AS unsubscribes, CAST(sum(y_compl) AS BIGINT) AS complaints,
           sum(n) AS delivery_rate__num, sum(s) AS delivery_rate__den, sum(n * n) AS delivery_rate__y2,
           sum(n * s) AS delivery_rate__yn, sum(s * s) AS delivery_rate__n2, count(*) AS delivery_rate__k,
           sum(y_hard) AS hard_bounce_rate__num, sum(s) AS hard_bounce_rate__den, sum(y_hard * y_hard) AS hard_bounce_rate__y2,
           sum(y_hard * s) AS hard_bounce_rate__yn, sum(s * s) AS hard_bounce_rate__n2, count(*) AS hard_bounce_rate__k,
           sum(y_raw_open) AS open_rate__num, sum(n) AS open_rate__den, sum(y_raw_open * y_raw_open) AS open_rate__y2,
           sum(y_raw_open * n) AS open_rate__yn, sum(n * n) AS open_rate__n2, count(*) FILTER (n > 0) AS open_rate__k,
           sum(y_open) AS human_open_rate__num, sum(n) AS human_open_rate__den, sum(y_open * y_open) AS human_open_rate__y2,
           sum(y_open * n) AS human_open_rate__yn, sum(n * n) AS human_open_rate__n2, count(*) FILTER (n > 0) AS human_open_rate__k,
           sum(y_click) AS human_click_rate__num, sum(n) AS human_click_rate__den, sum(y_click * y_click) AS human_click_rate__y2,
           sum(y_click * n) AS human_click_rate__yn, sum(n * n) AS human_click_rate__n2, count(*) FILTER (n > 0) AS human_click_rate__k,
           sum(y_unsub) AS unsubscribe_rate__num, sum(n) AS unsubscribe_rate__den, sum(y_unsub * y_unsub) AS unsubscribe_rate__y2,
           sum(y_unsub * n) AS unsubscribe_rate__yn, sum(n * n) AS unsubscribe_rate__n2, count(*) FILTER (n > 0) AS unsubscribe_rate__k,
           sum(y_compl) AS complaint_rate__num, sum(n) AS complaint_rate__den, sum(y_compl * y_compl) AS complaint_rate__y2,
           sum(y_compl * n) AS complaint_rate__yn, sum(n * n) AS complaint_rate__n2, count(*) FILTER (n > 0) AS complaint_rate__k
    FROM per_person
    GROUP BY account_id, campaign_id
)
SELECT p.account_id, p.campaign_id, c.name AS campaign_name, c.kind AS campaign_kind, p.first_sent_at,
       p.sends, p.delivered, p.hard_bounces, p.openers, p.human_openers, p.human_clickers, p.unsubscribes,
       p.complaints, p.delivery_rate__num, p.delivery_rate__den, p.delivery_rate__y2, p.delivery_rate__yn,
       p.delivery_rate__n2, p.delivery_rate__k, p.hard_bounce_rate__num, p.hard_bounce_rate__den,
       p.hard_bounce_rate__y2, p.hard_bounce_rate__yn, p.hard_bounce_rate__n2, p.hard_bounce_rate__k,
       p.open_rate__num, p.open_rate__den, p.open_rate__y2, p.open_rate__yn, p.open_rate__n2, p.open_rate__k,
       p.human_open_rate__num, p.human_open_rate__den, p.human_open_rate__y2, p.human_open_rate__yn,
       p.human_open_rate__n2, p.human_open_rate__k, p.human_click_rate__num, p.human_click_rate__den, p.human_click_rate__y2,
       p.human_click_rate__yn, p.human_click_rate__n2, p.human_click_rate__k, p.unsubscribe_rate__num, p.unsubscribe_rate__den,
       p.unsubscribe_rate__y2, p.unsubscribe_rate__yn, p.unsubscribe_rate__n2, p.unsubscribe_rate__k,
       p.complaint_rate__num, p.complaint_rate__den, p.complaint_rate__y2, p.complaint_rate__yn,
       p.complaint_rate__n2, p.complaint_rate__k
FROM per_campaign AS p
LEFT JOIN (SELECT account_id, campaign_id, arg_min(name, sent_at) AS name, arg_min(kind, sent_at) AS kind
           FROM campaigns GROUP BY account_id, campaign_id) AS c USING (account_id, campaign_id)
ORDER BY p.first_sent_at, p.account_id, p.campaign_id;
