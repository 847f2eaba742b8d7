-- watch/thresholds: complaint and hard-bounce counts of the messages sent in ($from_ts, $through_ts].
-- Grain: one row per account (scope 'account') and one per sending IP (scope 'sending_ip';
--        messages without a sending_ip are left out of that scope only).
-- Rules (message_facts): complaint = a delivered message with a complaint (all sources);
--   hard bounce = status bounced, bounce_class hard. Complaints arrive days after the send, so the
--   latest days' complaint counts are a floor: watch says so beside every figure.
-- Parameters: $from_ts, $through_ts.
-- Columns: scope, key, sends, delivered, complaints, hard_bounces.
WITH recent AS (
    SELECT account_id, sending_ip, is_delivered, is_delivered AND has_complaint AS is_complaint, is_hard_bounce
    FROM message_facts
    WHERE sent_at > $from_ts AND sent_at <= $through_ts
)
SELECT 'account' AS scope, account_id AS key, count(*) AS sends, count(*) FILTER (is_delivered) AS delivered,
       count(*) FILTER (is_complaint) AS complaints, count(*) FILTER (is_hard_bounce) AS hard_bounces
FROM recent GROUP BY account_id
UNION ALL
SELECT 'sending_ip', sending_ip, count(*), count(*) FILTER (is_delivered),
       count(*) FILTER (is_complaint), count(*) FILTER (is_hard_bounce)
FROM recent WHERE sending_ip IS NOT NULL GROUP BY sending_ip
ORDER BY scope, key;
