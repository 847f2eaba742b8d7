-- A canonical drop (typed by esp/common.sql) as Mandrill (Mailchimp Transactional) message
-- events, batched as the JSON arrays Mandrill posts in the `mandrill_events` form field (written
-- decoded, as the adapter reads them). Grain: one object per event.
-- Rules: `send` at delivered_at for a delivered message (Mandrill has no separate delivery
-- event: `send`, `msg.state` sent, is its report that the receiving server took it); nothing for
-- a message only accepted (status `sent`: Mandrill reports no queued state); `hard_bounce` /
-- `soft_bounce` by bounce_class, with `msg.diag` "smtp;<code> <status> <reason>" and
-- `msg.bounce_description`; `deferral` for a deferred message, its reply in `msg.diag` and
-- `msg.smtp_events`; `open`, `click` (`ip`, `user_agent`, `url`; no machine flag); `spam` for
-- complaints from Yahoo's and Microsoft's feedback loops (or source mandrill_fbl) whose message
-- is in the drop; `unsub` for link unsubscribes. `msg.metadata` carries account_id, list_id,
-- campaign_id, message_id (the canonical one) and sending_domain; `msg.tags` the campaign;
-- `msg.sender` news@<sending_domain>; `msg.ts` the send time and `ts` the event time, epoch
-- seconds. Output: __x_ev(ord, seq, payload) and __x_done_complaints(__row).
CREATE OR REPLACE TEMP TABLE __x_base AS
SELECT s.*,
       md5(s.message_id) AS mid,
       json_merge_patch('{}', json_object(
           'ts', x_sec(s.sent_at),
           'subject', coalesce(s.campaign_id, ''),
           'email', s.recipient,
           'sender', CASE WHEN s.sending_domain IS NOT NULL THEN 'news@' || s.sending_domain END,
           'tags', CASE WHEN s.campaign_id IS NOT NULL THEN to_json([s.campaign_id]) ELSE '[]'::JSON END,
           'metadata', json_merge_patch('{}', json_object(
               'account_id', s.account_id, 'list_id', s.list_id, 'campaign_id', s.campaign_id,
               'message_id', s.message_id, 'sending_domain', s.sending_domain)),
           'opens', '[]'::JSON, 'clicks', '[]'::JSON, 'smtp_events', '[]'::JSON,
           '_id', md5(s.message_id), '_version', substr(md5('v' || s.message_id), 1, 22))) AS msg
FROM __x_sends AS s;

CREATE OR REPLACE TEMP MACRO x_orphan_msg(mid) AS
    json_object('metadata', json_object('message_id', mid), '_id', md5(mid));

CREATE OR REPLACE TEMP MACRO x_event(name, t, id, msg, fields) AS
    json_merge_patch(json_object('event', name::VARCHAR, 'msg', msg, '_id', id, 'ts', x_sec(t)),
                     json_merge_patch('{}', fields))::VARCHAR;

CREATE OR REPLACE TEMP TABLE __x_done_complaints AS
SELECT c.__row, c.ts, b.msg, b.mid
FROM __x_complaints AS c JOIN __x_base AS b USING (message_id)
WHERE c.ts IS NOT NULL AND c.source IN ('yahoo_cfl', 'microsoft_jmrp', 'mandrill_fbl')
  AND (c.recipient IS NULL OR c.recipient = b.recipient) AND b.recipient IS NOT NULL;

CREATE OR REPLACE TEMP TABLE __x_ev AS
SELECT coalesce(delivered_at, sent_at) AS ord, 1 AS seq,
       x_event('send', coalesce(delivered_at, sent_at), mid, json_merge_patch(msg, json_object('state', 'sent')), json_object()) AS payload
FROM __x_base WHERE status = 'delivered'
UNION ALL
SELECT coalesce(delivered_at, sent_at), 2,
       x_event(CASE WHEN bounce_class = 'hard' THEN 'hard_bounce' ELSE 'soft_bounce' END, coalesce(delivered_at, sent_at), mid,
               json_merge_patch(msg, json_merge_patch('{}', json_object(
                   'state', CASE WHEN bounce_class = 'hard' THEN 'bounced' ELSE 'soft-bounced' END,
                   'bounce_description', CASE WHEN bounce_class = 'hard' THEN 'bad_mailbox'
                                              WHEN enhanced_status LIKE '_.7.%' THEN 'reject'
                                              WHEN enhanced_status LIKE '_.2.2' THEN 'mailbox_full' ELSE 'general' END,
                   'bgtools_code', CASE WHEN bounce_class = 'hard' THEN 10 ELSE 20 END,
                   'diag', 'smtp;' || coalesce(x_diag(smtp_code, enhanced_status, bounce_reason), '')))),
               json_object())
FROM __x_base WHERE status = 'bounced'
UNION ALL
SELECT coalesce(delivered_at, sent_at), 2,
       x_event('deferral', coalesce(delivered_at, sent_at), mid,
               json_merge_patch(msg, json_object(
                   'state', 'deferred',
                   'diag', coalesce(x_diag(smtp_code, enhanced_status, bounce_reason), ''),
                   'smtp_events', to_json([json_object('ts', x_sec(coalesce(delivered_at, sent_at)), 'type', 'deferred',
                                                       'diag', coalesce(x_diag(smtp_code, enhanced_status, bounce_reason), ''),
                                                       'source_ip', sending_ip, 'destination_ip', '192.0.2.254', 'size', 4096)]))),
               json_object())
FROM __x_base WHERE status = 'deferred'
UNION ALL
SELECT o.ts, 3,
       x_event('open', o.ts, coalesce(b.mid, md5(o.message_id)), coalesce(b.msg, x_orphan_msg(o.message_id)),
               json_object('ip', o.ip, 'user_agent', o.user_agent))
FROM __x_opens AS o LEFT JOIN __x_base AS b USING (message_id)
UNION ALL
SELECT k.ts, 4,
       x_event('click', k.ts, coalesce(b.mid, md5(k.message_id)), coalesce(b.msg, x_orphan_msg(k.message_id)),
               json_object('ip', k.ip, 'user_agent', k.user_agent, 'url', k.url))
FROM __x_clicks AS k LEFT JOIN __x_base AS b USING (message_id)
UNION ALL
SELECT ts, 5, x_event('spam', ts, mid, msg, json_object())
FROM __x_done_complaints
UNION ALL
SELECT u.ts, 6, x_event('unsub', u.ts, b.mid, b.msg, json_object())
FROM __x_unsub AS u JOIN __x_base AS b USING (message_id);
