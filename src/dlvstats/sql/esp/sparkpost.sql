-- A canonical drop (typed by esp/common.sql) as SparkPost (Bird) event webhook batch elements
-- {"msys": {"<class>_event": {...}}}. Grain: one element per event.
-- Rules: message_event injection for every message; delivery, bounce or delay by status (bounce
-- class 10 for hard; for soft 50 "mail block" when the enhanced status is x.7.x, 22 "mailbox
-- full" for x.2.2, else 20); track_event open (no machine flag: SparkPost has none) and click;
-- message_event spam_complaint (fbtype abuse) for complaints from Yahoo's and Microsoft's
-- feedback loops (or source sparkpost_*) whose message is in the drop; unsubscribe_event
-- link_unsubscribe for link unsubscribes. rcpt_meta carries account_id, list_id, campaign_id,
-- message_id (the canonical one) and sending_domain; campaign_id is also SparkPost's own.
-- friendly_from is news@<sending_domain> (left out when the drop has no sending domain).
-- timestamp: epoch seconds as a string, as SparkPost posts them. Null fields are left out.
-- Output: __x_ev(ord, seq, payload) and __x_done_complaints(__row).
CREATE OR REPLACE TEMP TABLE __x_base AS
SELECT s.*,
       json_merge_patch('{}', json_object(
           'transmission_id', (hash(s.message_id) % 90000000000000000 + 10000000000000000)::VARCHAR,
           'message_id', substr(md5(s.message_id), 1, 20),
           'rcpt_to', s.recipient, 'raw_rcpt_to', s.recipient,
           'rcpt_meta', json_merge_patch('{}', json_object(
               'account_id', s.account_id, 'list_id', s.list_id, 'campaign_id', s.campaign_id,
               'message_id', s.message_id, 'sending_domain', s.sending_domain)),
           'rcpt_tags', '[]'::JSON, 'rcpt_type', 'to',
           'campaign_id', s.campaign_id,
           'customer_id', '1',
           'friendly_from', 'news@' || s.sending_domain,
           'msg_from', 'msprvs1=bounces@' || coalesce(s.sending_domain, 'dlvstats.invalid'),
           'routing_domain', split_part(s.recipient, '@', 2),
           'template_id', 'dlvstats', 'template_version', '0')) AS base
FROM __x_sends AS s;

CREATE OR REPLACE TEMP MACRO x_orphan_base(mid) AS
    json_object('rcpt_meta', json_object('message_id', mid), 'customer_id', '1');

CREATE OR REPLACE TEMP MACRO x_msys(cls, base, fields) AS
    json_object('msys', json_object(cls::VARCHAR, json_merge_patch(base, json_merge_patch('{}', fields))))::VARCHAR;

CREATE OR REPLACE TEMP TABLE __x_done_complaints AS
SELECT c.__row, c.ts, b.base
FROM __x_complaints AS c JOIN __x_base AS b USING (message_id)
WHERE c.ts IS NOT NULL AND (c.source IN ('yahoo_cfl', 'microsoft_jmrp') OR starts_with(c.source, 'sparkpost_'))
  AND (c.recipient IS NULL OR c.recipient = b.recipient) AND b.recipient IS NOT NULL;

CREATE OR REPLACE TEMP TABLE __x_ev AS
SELECT sent_at AS ord, 1 AS seq,
       x_msys('message_event', base, json_object('type', 'injection', 'timestamp', x_sec(sent_at)::VARCHAR,
                                                 'event_id', (hash('injection' || message_id) % 9000000000000000000)::VARCHAR,
                                                 'sending_ip', sending_ip, 'msg_size', '4096')) AS payload
FROM __x_base
UNION ALL
SELECT coalesce(delivered_at, sent_at), 2,
       x_msys('message_event', base, json_object('type', 'delivery', 'timestamp', x_sec(coalesce(delivered_at, sent_at))::VARCHAR,
                                                 'event_id', (hash('delivery' || message_id) % 9000000000000000000)::VARCHAR,
                                                 'sending_ip', sending_ip, 'num_retries', '0', 'outbound_tls', '1',
                                                 'queue_time', coalesce(epoch_ms(delivered_at) - epoch_ms(sent_at), 0)::VARCHAR))
FROM __x_base WHERE status = 'delivered'
UNION ALL
SELECT coalesce(delivered_at, sent_at), 2,
       x_msys('message_event', base, json_object('type', 'bounce', 'timestamp', x_sec(coalesce(delivered_at, sent_at))::VARCHAR,
                                                 'event_id', (hash('bounce' || message_id) % 9000000000000000000)::VARCHAR,
                                                 'sending_ip', sending_ip,
                                                 'bounce_class', CASE WHEN bounce_class = 'hard' THEN '10'
                                                                      WHEN enhanced_status LIKE '_.7.%' THEN '50'
                                                                      WHEN enhanced_status LIKE '_.2.2' THEN '22' ELSE '20' END,
                                                 'error_code', smtp_code,
                                                 'raw_reason', x_diag(smtp_code, enhanced_status, bounce_reason),
                                                 'reason', x_diag(smtp_code, enhanced_status, bounce_reason)))
FROM __x_base WHERE status = 'bounced'
UNION ALL
SELECT coalesce(delivered_at, sent_at), 2,
       x_msys('message_event', base, json_object('type', 'delay', 'timestamp', x_sec(coalesce(delivered_at, sent_at))::VARCHAR,
                                                 'event_id', (hash('delay' || message_id) % 9000000000000000000)::VARCHAR,
                                                 'sending_ip', sending_ip, 'bounce_class', '21', 'error_code', smtp_code,
                                                 'num_retries', '1',
                                                 'raw_reason', x_diag(smtp_code, enhanced_status, bounce_reason),
                                                 'reason', x_diag(smtp_code, enhanced_status, bounce_reason)))
FROM __x_base WHERE status = 'deferred'
UNION ALL
SELECT o.ts, 3,
       x_msys('track_event', coalesce(b.base, x_orphan_base(o.message_id)),
              json_object('type', 'open', 'timestamp', x_sec(o.ts)::VARCHAR, 'event_id', o.event_id,
                          'user_agent', o.user_agent, 'ip_address', o.ip))
FROM __x_opens AS o LEFT JOIN __x_base AS b USING (message_id)
UNION ALL
SELECT k.ts, 4,
       x_msys('track_event', coalesce(b.base, x_orphan_base(k.message_id)),
              json_object('type', 'click', 'timestamp', x_sec(k.ts)::VARCHAR, 'event_id', k.event_id,
                          'user_agent', k.user_agent, 'ip_address', k.ip, 'target_link_url', k.url))
FROM __x_clicks AS k LEFT JOIN __x_base AS b USING (message_id)
UNION ALL
SELECT ts, 5,
       x_msys('message_event', base, json_object('type', 'spam_complaint', 'timestamp', x_sec(ts)::VARCHAR,
                                                 'event_id', (hash('spam' || __row::VARCHAR) % 9000000000000000000)::VARCHAR,
                                                 'fbtype', 'abuse'))
FROM __x_done_complaints
UNION ALL
SELECT u.ts, 6,
       x_msys('unsubscribe_event', b.base, json_object('type', 'link_unsubscribe', 'timestamp', x_sec(u.ts)::VARCHAR,
                                                       'event_id', (hash('unsub' || u.__row::VARCHAR) % 9000000000000000000)::VARCHAR,
                                                       'user_agent', 'Mozilla/5.0'))
FROM __x_unsub AS u JOIN __x_base AS b USING (message_id);
