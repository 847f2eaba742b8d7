-- message_facts: the per-message facts every metric reads, as the temp view __message_facts_rows
-- over the messages in __facts_sends (their ids in __facts_scope): every send for a full rebuild
-- (message_facts_scope_all.sql), or those an ingest's drop can have changed for a refresh
-- (message_facts_scope.sql). dlvstats.classify.update_message_facts writes the table from it.
-- Grain: one row per message in `sends`.
-- Rules:
--   is_delivered      status = 'delivered' (a 'sent' or 'deferred' message is not yet delivered);
--   is_hard_bounce    status = 'bounced' and bounce_class = 'hard';
--   *_human_*         only events whose actor is 'human' (see sql/classify); human clicks exclude
--                     unsubscribe/preference links, which are never engagement;
--   has_machine_open  any open labelled machine (MPP prefetch, scanner, vendor flag): such a message
--                     has no usable human-open signal;
--   has_complaint     a complaint with this message_id, or (no message_id) the latest earlier message
--                     to the same recipient (on the same account when the complaint names one);
--   has_unsubscribe   an unsubscribe by the person (source link/user/none) naming this campaign.
CREATE OR REPLACE TEMP VIEW __message_facts_rows AS
WITH open_facts AS (
    SELECT message_id,
           count(*) AS open_count,
           count(*) FILTER (actor = 'machine') AS machine_open_count,
           count(*) FILTER (actor = 'human') AS human_open_count,
           min(ts) FILTER (actor = 'human') AS first_human_open_at,
           arg_min(user_agent, ts) FILTER (actor = 'human') AS first_human_open_user_agent,
           bool_or(actor_rule IN ('apple_mpp', 'mpp_address', 'prefetch_recipient')) AS has_mpp_open
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
