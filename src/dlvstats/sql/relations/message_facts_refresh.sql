-- message_facts, refreshed after an ingest for the messages that drop can have changed, instead of
-- rebuilt: the cost follows the new data, not the history (performance goal 5).
-- Grain: one row per message in `sends`, as message_facts.sql; the columns and rules are those of
-- message_facts.sql, with every input restricted to the scope below. Keep the two in step:
-- tests/test_facts_refresh.py checks that a refresh gives exactly the table a full rebuild gives.
-- Scope (__facts_scope), the messages whose facts a drop can change:
--   __scope from classify/scope.sql: messages with new opens or clicks, and sends new or settled;
--   messages named by the drop's complaints;
--   every message to a recipient named by one of the drop's complaints without message_id (the
--   complaint goes to the latest earlier message to that recipient);
--   every message to a recipient who has complaints without message_id and got a new send (a late
--   send can become that latest earlier message);
--   the messages of the account, campaign and recipient of the drop's campaign unsubscribes.
-- Parameters: $drop_id.
-- (one scan of `sends` for the whole scope: the small sets of ids, recipients and unsubscribes are
-- gathered first, so the cost of the history is one filtered pass, not one per rule)
CREATE OR REPLACE TEMP TABLE __facts_ids AS
SELECT message_id FROM __scope
UNION
SELECT message_id FROM complaints WHERE drop_id = $drop_id AND message_id IS NOT NULL;

CREATE OR REPLACE TEMP TABLE __facts_recipients AS
SELECT recipient FROM complaints
WHERE drop_id = $drop_id AND message_id IS NULL AND recipient IS NOT NULL
UNION
SELECT recipient FROM complaints
WHERE message_id IS NULL AND recipient IS NOT NULL
  AND recipient IN (SELECT recipient FROM sends WHERE drop_id = $drop_id);

CREATE OR REPLACE TEMP TABLE __facts_unsubscribes AS
SELECT DISTINCT account_id, campaign_id, recipient FROM subscriptions
WHERE drop_id = $drop_id AND action = 'unsubscribe' AND campaign_id IS NOT NULL;

CREATE OR REPLACE TEMP TABLE __facts_sends AS
SELECT * FROM sends AS s
WHERE s.message_id IN (SELECT message_id FROM __facts_ids)
   OR s.recipient IN (SELECT recipient FROM __facts_recipients)
   OR EXISTS (SELECT 1 FROM __facts_unsubscribes AS u
              WHERE u.account_id = s.account_id AND u.campaign_id = s.campaign_id AND u.recipient = s.recipient);

CREATE OR REPLACE TEMP TABLE __facts_scope AS SELECT message_id FROM __facts_sends;

DELETE FROM message_facts WHERE message_id IN (SELECT message_id FROM __facts_scope);

INSERT INTO message_facts
WITH open_facts AS (
    SELECT message_id,
           count(*) AS open_count,
           count(*) FILTER (actor = 'machine') AS machine_open_count,
           count(*) FILTER (actor = 'human') AS human_open_count,
           min(ts) FILTER (actor = 'human') AS first_human_open_at,
           arg_min(user_agent, ts) FILTER (actor = 'human') AS first_human_open_user_agent,
           bool_or(actor_rule = 'apple_mpp' OR actor_rule = 'mpp_address') AS has_mpp_open
    FROM opens WHERE message_id IN (SELECT message_id FROM __facts_scope) GROUP BY message_id
),
click_facts AS (
    SELECT message_id,
           count(*) AS click_count,
           count(*) FILTER (actor = 'machine') AS machine_click_count,
           count(*) FILTER (actor = 'human' AND NOT is_unsubscribe_link) AS human_click_count,
           min(ts) FILTER (actor = 'human' AND NOT is_unsubscribe_link) AS first_human_click_at,
           arg_min(user_agent, ts) FILTER (actor = 'human' AND NOT is_unsubscribe_link) AS first_human_click_user_agent,
           bool_or(is_unsubscribe_link AND actor = 'human') AS has_unsubscribe_click
    FROM clicks WHERE message_id IN (SELECT message_id FROM __facts_scope) GROUP BY message_id
),
complaint_by_id AS (
    SELECT message_id, min(ts) AS complained_at, arg_min(source, ts) AS complaint_source
    FROM complaints WHERE message_id IN (SELECT message_id FROM __facts_scope) GROUP BY message_id
),
complaint_by_recipient AS (
    SELECT s.message_id, min(c.ts) AS complained_at, arg_min(c.source, c.ts) AS complaint_source
    FROM (SELECT * FROM complaints
          WHERE message_id IS NULL AND recipient IS NOT NULL
            AND recipient IN (SELECT recipient FROM __facts_sends)) AS c
    ASOF JOIN (SELECT message_id, recipient, account_id, sent_at FROM sends
               WHERE recipient IN (SELECT recipient FROM complaints
                                   WHERE message_id IS NULL AND recipient IN (SELECT recipient FROM __facts_sends))) AS s
      ON s.recipient = c.recipient
     AND (c.account_id IS NULL OR s.account_id = c.account_id)
     AND c.ts >= s.sent_at
    GROUP BY s.message_id
),
unsubscribe_facts AS (
    SELECT account_id, campaign_id, recipient, min(ts) AS unsubscribed_at
    FROM subscriptions
    WHERE action = 'unsubscribe' AND campaign_id IS NOT NULL
      AND recipient IN (SELECT recipient FROM __facts_sends)
      AND (source IS NULL OR source IN ('link', 'user'))
    GROUP BY ALL
)
SELECT s.message_id, s.account_id, s.list_id, s.campaign_id, s.recipient, s.recipient_domain, s.provider,
       s.sent_at, s.delivered_at, s.status, s.bounce_class, s.smtp_code, s.enhanced_status,
       s.sending_ip, s.sending_domain,
       s.status = 'delivered' AS is_delivered,
       s.status = 'bounced' AND s.bounce_class = 'hard' AS is_hard_bounce,
       s.status = 'bounced' AND s.bounce_class = 'soft' AS is_soft_bounce,
       coalesce(o.open_count, 0) AS open_count,
       coalesce(o.machine_open_count, 0) AS machine_open_count,
       coalesce(o.human_open_count, 0) AS human_open_count,
       coalesce(o.open_count, 0) > 0 AS has_open,
       coalesce(o.machine_open_count, 0) > 0 AS has_machine_open,
       coalesce(o.has_mpp_open, false) AS has_mpp_open,
       coalesce(o.human_open_count, 0) > 0 AS has_human_open,
       o.first_human_open_at, o.first_human_open_user_agent,
       coalesce(k.click_count, 0) AS click_count,
       coalesce(k.machine_click_count, 0) AS machine_click_count,
       coalesce(k.human_click_count, 0) AS human_click_count,
       coalesce(k.human_click_count, 0) > 0 AS has_human_click,
       k.first_human_click_at, k.first_human_click_user_agent,
       coalesce(k.has_unsubscribe_click, false) AS has_unsubscribe_click,
       coalesce(ci.complained_at, cr.complained_at) AS complained_at,
       coalesce(ci.complaint_source, cr.complaint_source) AS complaint_source,
       coalesce(ci.complained_at, cr.complained_at) IS NOT NULL AS has_complaint,
       u.unsubscribed_at,
       u.unsubscribed_at IS NOT NULL AS has_unsubscribe
FROM __facts_sends AS s
LEFT JOIN open_facts AS o USING (message_id)
LEFT JOIN click_facts AS k USING (message_id)
LEFT JOIN complaint_by_id AS ci USING (message_id)
LEFT JOIN complaint_by_recipient AS cr USING (message_id)
LEFT JOIN unsubscribe_facts AS u
       ON u.account_id = s.account_id AND u.campaign_id = s.campaign_id AND u.recipient = s.recipient;

DROP TABLE __facts_sends;

DROP TABLE __facts_scope;

DROP TABLE __facts_ids;

DROP TABLE __facts_recipients;

DROP TABLE __facts_unsubscribes;
