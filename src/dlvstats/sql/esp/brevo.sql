-- A canonical drop (typed by esp/common.sql) as Brevo (ex-Sendinblue) transactional webhook
-- bodies, one JSON object per line (one POST each). Grain: one object per event.
-- Rules: `request` for every message; `delivered`, `hard_bounce` / `soft_bounce` (by bounce_class)
-- or `deferred` by status, with `reason` rebuilt from the codes; `opened`, or `proxy_open` when
-- is_machine is true (Brevo's "loaded via proxy"; Brevo has no "not a machine" flag); `click`
-- (`link`); `spam` for complaints from Yahoo's and Microsoft's feedback loops (or source
-- brevo_fbl) whose message is in the drop; `unsubscribe` for link unsubscribes.
-- The sender's fields travel in `X-Mailin-custom` (a JSON object as a string, as Brevo echoes the
-- header): account_id, list_id, campaign_id, message_id (the canonical one), sending_domain;
-- `tags` holds the campaign. Times: `ts_epoch` (epoch milliseconds, UTC), `ts_event` and `ts`
-- (seconds), `date` (the account's zone, here UTC). Null fields are left out.
-- Output: __x_ev(ord, seq, payload) and __x_done_complaints(__row).
CREATE OR REPLACE TEMP TABLE __x_base AS
SELECT s.*,
       json_merge_patch('{}', json_object(
           'email', s.recipient,
           'id', hash(coalesce(s.account_id, '')) % 1000000,
           'message-id', '<' || substr(md5(s.message_id), 1, 12) || '.' || substr(md5(s.message_id), 13, 10) || '@smtp-relay.mailin.fr>',
           'subject', s.campaign_id,
           'tags', CASE WHEN s.campaign_id IS NOT NULL THEN to_json([s.campaign_id]) END,
           'X-Mailin-custom', json_merge_patch('{}', json_object(
               'account_id', s.account_id, 'list_id', s.list_id, 'campaign_id', s.campaign_id,
               'message_id', s.message_id, 'sending_domain', s.sending_domain))::VARCHAR)) AS base
FROM __x_sends AS s;

CREATE OR REPLACE TEMP MACRO x_orphan_base(mid) AS
    json_object('X-Mailin-custom', json_object('message_id', mid)::VARCHAR);

CREATE OR REPLACE TEMP MACRO x_event(base, name, t, fields) AS
    json_merge_patch(base, json_merge_patch(json_object(
        'event', name::VARCHAR, 'date', strftime(timezone('UTC', t), '%Y-%m-%d %H:%M:%S'),
        'ts', x_sec(t), 'ts_event', x_sec(t), 'ts_epoch', x_ms(t)), json_merge_patch('{}', fields)))::VARCHAR;

CREATE OR REPLACE TEMP TABLE __x_done_complaints AS
SELECT c.__row, c.ts, b.base
FROM __x_complaints AS c JOIN __x_base AS b USING (message_id)
WHERE c.ts IS NOT NULL AND c.source IN ('yahoo_cfl', 'microsoft_jmrp', 'brevo_fbl')
  AND (c.recipient IS NULL OR c.recipient = b.recipient) AND b.recipient IS NOT NULL;

CREATE OR REPLACE TEMP TABLE __x_ev AS
SELECT sent_at AS ord, 1 AS seq, x_event(base, 'request', sent_at, json_object('sending_ip', sending_ip)) AS payload
FROM __x_base
UNION ALL
SELECT coalesce(delivered_at, sent_at), 2,
       x_event(base, 'delivered', coalesce(delivered_at, sent_at), json_object('sending_ip', sending_ip))
FROM __x_base WHERE status = 'delivered'
UNION ALL
SELECT coalesce(delivered_at, sent_at), 2,
       x_event(base, CASE WHEN bounce_class = 'hard' THEN 'hard_bounce' ELSE 'soft_bounce' END, coalesce(delivered_at, sent_at),
               json_object('sending_ip', sending_ip, 'reason', x_diag(smtp_code, enhanced_status, bounce_reason)))
FROM __x_base WHERE status = 'bounced'
UNION ALL
SELECT coalesce(delivered_at, sent_at), 2,
       x_event(base, 'deferred', coalesce(delivered_at, sent_at),
               json_object('sending_ip', sending_ip, 'reason', x_diag(smtp_code, enhanced_status, bounce_reason)))
FROM __x_base WHERE status = 'deferred'
UNION ALL
SELECT o.ts, 3,
       x_event(coalesce(b.base, x_orphan_base(o.message_id)), CASE WHEN o.is_machine THEN 'proxy_open' ELSE 'opened' END, o.ts,
               json_object('ip', o.ip, 'user_agent', o.user_agent))
FROM __x_opens AS o LEFT JOIN __x_base AS b USING (message_id)
UNION ALL
SELECT k.ts, 4,
       x_event(coalesce(b.base, x_orphan_base(k.message_id)), 'click', k.ts,
               json_object('ip', k.ip, 'user_agent', k.user_agent, 'link', k.url))
FROM __x_clicks AS k LEFT JOIN __x_base AS b USING (message_id)
UNION ALL
SELECT ts, 5, x_event(base, 'spam', ts, json_object())
FROM __x_done_complaints
UNION ALL
SELECT u.ts, 6, x_event(b.base, 'unsubscribe', u.ts, json_object())
FROM __x_unsub AS u JOIN __x_base AS b USING (message_id);
