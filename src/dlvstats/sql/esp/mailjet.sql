-- A canonical drop (typed by esp/common.sql) as Mailjet Event API webhook events (grouped
-- callbacks: JSON arrays). Grain: one object per event.
-- Rules: Mailjet reports no "accepted" event, so a message gets `sent` (the receiving server's
-- acceptance, `smtp_reply`) when delivered; `bounce` when bounced (`hard_bounce` from
-- bounce_class; `error_related_to` / `error` one of Mailjet's categories, chosen from the reply:
-- x.1.2 / x.4.4 or an unknown host: domain "invalid domain"; x.2.2: recipient "quota exceeded";
-- x.7.x / x.6.x about content: spam "content blocked"; other x.7.x: spam "sender blocked"; other
-- hard: recipient "user unknown"; other soft: system "connection issue"; the SMTP text in
-- `comment`, from which the adapter reads the codes); `bounce` with `error` greylisted, `hard_bounce` false, when
-- deferred (Mailjet still retries); nothing for a message only accepted (status `sent`).
-- `open`, `click` (`agent`, `ip`, `url`; Mailjet has no machine flag); `spam` for complaints from
-- Yahoo's and Microsoft's feedback loops (or source mailjet_*) whose message is in the drop,
-- `source` the loop; `unsub` for link unsubscribes. The sender's fields travel in `Payload` (the
-- EventPayload set at send, a JSON string): account_id, list_id, campaign_id, message_id (the
-- canonical one), sending_domain; `customcampaign` is the campaign. `time`: epoch seconds.
-- Output: __x_ev(ord, seq, payload) and __x_done_complaints(__row).
CREATE OR REPLACE TEMP TABLE __x_base AS
SELECT s.*,
       json_object(
           'MessageID', hash(s.message_id) % 90000000000000000 + 10000000000000000,
           'Message_GUID', regexp_replace(md5(s.message_id), '^(.{8})(.{4})(.{4})(.{4})(.{12})$', '\1-\2-\3-\4-\5'),
           'email', coalesce(s.recipient, ''),
           'mj_campaign_id', CASE WHEN s.campaign_id IS NULL THEN 0 ELSE hash(s.campaign_id) % 9000000000 + 1000000000 END,
           'mj_contact_id', hash(coalesce(s.recipient, '')) % 9000000000 + 1000000000,
           'customcampaign', coalesce(s.campaign_id, ''),
           'mj_message_id', (hash(s.message_id) % 90000000000000000 + 10000000000000000)::VARCHAR,
           'Payload', json_merge_patch('{}', json_object(
               'account_id', s.account_id, 'list_id', s.list_id, 'campaign_id', s.campaign_id,
               'message_id', s.message_id, 'sending_domain', s.sending_domain))::VARCHAR) AS base
FROM __x_sends AS s;

CREATE OR REPLACE TEMP MACRO x_orphan_base(mid) AS
    json_object('MessageID', 0, 'email', '', 'mj_campaign_id', 0, 'customcampaign', '',
                'Payload', json_object('message_id', mid)::VARCHAR);

CREATE OR REPLACE TEMP MACRO x_event(base, name, t, fields) AS
    json_merge_patch(json_object('event', name::VARCHAR, 'time', x_sec(t)),
                     json_merge_patch(base, json_merge_patch('{}', fields)))::VARCHAR;

CREATE OR REPLACE TEMP TABLE __x_done_complaints AS
SELECT c.__row, c.ts, c.source, b.base
FROM __x_complaints AS c JOIN __x_base AS b USING (message_id)
WHERE c.ts IS NOT NULL AND (c.source IN ('yahoo_cfl', 'microsoft_jmrp') OR starts_with(c.source, 'mailjet_'))
  AND (c.recipient IS NULL OR c.recipient = b.recipient) AND b.recipient IS NOT NULL;

CREATE OR REPLACE TEMP TABLE __x_ev AS
SELECT coalesce(delivered_at, sent_at) AS ord, 2 AS seq,
       x_event(base, 'sent', coalesce(delivered_at, sent_at),
               json_object('smtp_reply', 'sent (250 2.0.0 OK ' || x_sec(coalesce(delivered_at, sent_at)) || ')')) AS payload
FROM __x_base WHERE status = 'delivered'
UNION ALL
SELECT coalesce(delivered_at, sent_at), 2,
       x_event(base, 'bounce', coalesce(delivered_at, sent_at),
               json_object('blocked', false, 'hard_bounce', bounce_class = 'hard',
                           'error_related_to', mj[1], 'error', mj[2],
                           'comment', coalesce(x_diag(smtp_code, enhanced_status, bounce_reason), '')))
FROM (SELECT *,
             CASE WHEN enhanced_status LIKE '_.1.2' OR enhanced_status LIKE '_.4.4'
                       OR regexp_matches(coalesce(bounce_reason, ''), '(?i)(host|domain)( or domain)?( name)? not found|no mx')
                      THEN ['domain', 'invalid domain']
                  WHEN enhanced_status LIKE '_.2.2' THEN ['recipient', 'quota exceeded']
                  WHEN (enhanced_status LIKE '_.7.%' OR enhanced_status LIKE '_.6.%')
                       AND regexp_matches(coalesce(bounce_reason, ''), '(?i)content|url|virus|spam') THEN ['spam', 'content blocked']
                  WHEN enhanced_status LIKE '_.7.%' THEN ['spam', 'sender blocked']
                  WHEN bounce_class = 'hard' THEN ['recipient', 'user unknown']
                  ELSE ['system', 'connection issue'] END AS mj
      FROM __x_base WHERE status = 'bounced')
UNION ALL
SELECT coalesce(delivered_at, sent_at), 2,
       x_event(base, 'bounce', coalesce(delivered_at, sent_at),
               json_object('blocked', false, 'hard_bounce', false, 'error_related_to', 'domain', 'error', 'greylisted',
                           'comment', coalesce(x_diag(smtp_code, enhanced_status, bounce_reason), '')))
FROM __x_base WHERE status = 'deferred'
UNION ALL
SELECT o.ts, 3,
       x_event(coalesce(b.base, x_orphan_base(o.message_id)), 'open', o.ts,
               json_object('ip', coalesce(o.ip, ''), 'geo', '', 'agent', coalesce(o.user_agent, '')))
FROM __x_opens AS o LEFT JOIN __x_base AS b USING (message_id)
UNION ALL
SELECT k.ts, 4,
       x_event(coalesce(b.base, x_orphan_base(k.message_id)), 'click', k.ts,
               json_object('url', k.url, 'ip', coalesce(k.ip, ''), 'geo', '', 'agent', coalesce(k.user_agent, '')))
FROM __x_clicks AS k LEFT JOIN __x_base AS b USING (message_id)
UNION ALL
SELECT ts, 5,
       x_event(base, 'spam', ts, json_object('source', CASE source WHEN 'yahoo_cfl' THEN 'Yahoo'
                                                                   WHEN 'microsoft_jmrp' THEN 'JMRPP'
                                                                   ELSE substr(source, 9) END))
FROM __x_done_complaints
UNION ALL
SELECT u.ts, 6,
       x_event(b.base, 'unsub', u.ts, json_object('mj_list_id', 0, 'ip', '', 'geo', '', 'agent', 'Mozilla/5.0'))
FROM __x_unsub AS u JOIN __x_base AS b USING (message_id);
