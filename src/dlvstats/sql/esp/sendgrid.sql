-- A canonical drop (typed by esp/common.sql) as SendGrid Event Webhook events: processed for
-- every message; delivered, bounce (type bounce for hard, blocked for soft) or deferred by status;
-- open (sg_machine_open from is_machine), click; spamreport for complaints from Yahoo's and
-- Microsoft's feedback loops (or source sendgrid_fbl) whose message is in the drop; unsubscribe
-- for link unsubscribes. Custom arguments carry account_id, list_id, campaign_id, message_id (the
-- canonical one) and sending_domain; timestamps are epoch seconds (with a fraction when the
-- canonical time has one). Null fields are left out. Output: __x_ev(ord, seq, payload) and
-- __x_done_complaints(__row).
CREATE OR REPLACE TEMP TABLE __x_base AS
SELECT s.*,
       substr(md5(s.message_id), 1, 22) AS xid,
       json_merge_patch('{}', json_object(
           'email', s.recipient,
           'smtp-id', '<' || substr(md5(s.message_id), 1, 22) || '@ismtpd-dlvstats>',
           'sg_message_id', substr(md5(s.message_id), 1, 22) || '.filter0001.dlvstats.0',
           'category', to_json(['dlvstats']),
           'account_id', s.account_id, 'list_id', s.list_id, 'campaign_id', s.campaign_id,
           'message_id', s.message_id, 'sending_domain', s.sending_domain)) AS base
FROM __x_sends AS s;

CREATE OR REPLACE TEMP MACRO x_orphan_base(mid) AS json_object('message_id', mid, 'category', to_json(['dlvstats']));

CREATE OR REPLACE TEMP MACRO x_event(base, fields) AS json_merge_patch(base, json_merge_patch('{}', fields))::VARCHAR;

CREATE OR REPLACE TEMP TABLE __x_done_complaints AS
SELECT c.__row, c.ts, b.base
FROM __x_complaints AS c JOIN __x_base AS b USING (message_id)
WHERE c.ts IS NOT NULL AND c.source IN ('yahoo_cfl', 'microsoft_jmrp', 'sendgrid_fbl')
  AND (c.recipient IS NULL OR c.recipient = b.recipient) AND b.recipient IS NOT NULL;

CREATE OR REPLACE TEMP TABLE __x_ev AS
SELECT sent_at AS ord, 1 AS seq,
       x_event(base, json_object('event', 'processed', 'timestamp', x_epoch(sent_at),
                                 'sg_event_id', md5('processed' || message_id))) AS payload
FROM __x_base
UNION ALL
SELECT coalesce(delivered_at, sent_at), 2,
       x_event(base, json_object('event', 'delivered', 'timestamp', x_epoch(coalesce(delivered_at, sent_at)),
                                 'sg_event_id', md5('delivered' || message_id), 'ip', sending_ip,
                                 'response', '250 2.0.0 OK', 'tls', 1))
FROM __x_base WHERE status = 'delivered'
UNION ALL
SELECT coalesce(delivered_at, sent_at), 2,
       x_event(base, json_object('event', 'bounce', 'timestamp', x_epoch(coalesce(delivered_at, sent_at)),
                                 'sg_event_id', md5('bounce' || message_id), 'ip', sending_ip,
                                 'type', CASE WHEN bounce_class = 'hard' THEN 'bounce' ELSE 'blocked' END,
                                 'status', enhanced_status, 'reason', x_diag(smtp_code, enhanced_status, bounce_reason)))
FROM __x_base WHERE status = 'bounced'
UNION ALL
SELECT coalesce(delivered_at, sent_at), 2,
       x_event(base, json_object('event', 'deferred', 'timestamp', x_epoch(coalesce(delivered_at, sent_at)),
                                 'sg_event_id', md5('deferred' || message_id), 'ip', sending_ip, 'attempt', '1',
                                 'response', x_diag(smtp_code, enhanced_status, bounce_reason)))
FROM __x_base WHERE status = 'deferred'
UNION ALL
SELECT o.ts, 3,
       x_event(coalesce(b.base, x_orphan_base(o.message_id)),
               json_object('event', 'open', 'timestamp', x_epoch(o.ts), 'sg_event_id', o.event_id,
                           'sg_machine_open', o.is_machine, 'useragent', o.user_agent, 'ip', o.ip, 'sg_content_type', 'html'))
FROM __x_opens AS o LEFT JOIN __x_base AS b USING (message_id)
UNION ALL
SELECT k.ts, 4,
       x_event(coalesce(b.base, x_orphan_base(k.message_id)),
               json_object('event', 'click', 'timestamp', x_epoch(k.ts), 'sg_event_id', k.event_id,
                           'useragent', k.user_agent, 'ip', k.ip, 'url', k.url))
FROM __x_clicks AS k LEFT JOIN __x_base AS b USING (message_id)
UNION ALL
SELECT ts, 5,
       x_event(base, json_object('event', 'spamreport', 'timestamp', x_epoch(ts), 'sg_event_id', md5('spamreport' || __row::VARCHAR)))
FROM __x_done_complaints
UNION ALL
SELECT u.ts, 6,
       x_event(b.base, json_object('event', 'unsubscribe', 'timestamp', x_epoch(u.ts), 'sg_event_id', md5('unsubscribe' || u.__row::VARCHAR)))
FROM __x_unsub AS u JOIN __x_base AS b USING (message_id);
