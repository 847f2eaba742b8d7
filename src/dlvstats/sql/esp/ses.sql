-- A canonical drop (typed by esp/common.sql) as Amazon SES event publishing records, one JSON
-- object per line as Firehose writes them: Send for every message; Delivery, Bounce or
-- DeliveryDelay by status; Open, Click; Complaint for complaints from Yahoo's and Microsoft's
-- feedback loops (or source `ses`) whose message is in the drop; Subscription for link
-- unsubscribes. Account, list and campaign travel as message tags; the canonical message_id is
-- mail.messageId. Output: __x_ev(ord, seq, payload) and __x_done_complaints(__row).
CREATE OR REPLACE TEMP TABLE __x_mail AS
SELECT s.*,
       json_object(
           'timestamp', x_iso(s.sent_at),
           'source', 'news@' || coalesce(s.sending_domain, 'dlvstats.invalid'),
           'sourceArn', 'arn:aws:ses:eu-west-1:000000000000:identity/' || coalesce(s.sending_domain, 'dlvstats.invalid'),
           'sendingAccountId', '000000000000',
           'messageId', s.message_id,
           'destination', CASE WHEN s.recipient IS NULL THEN '[]'::JSON ELSE to_json([s.recipient]) END,
           'headersTruncated', false,
           'commonHeaders', json_object('from', to_json(['news@' || coalesce(s.sending_domain, 'dlvstats.invalid')]),
                                        'to', CASE WHEN s.recipient IS NULL THEN '[]'::JSON ELSE to_json([s.recipient]) END,
                                        'messageId', s.message_id, 'subject', coalesce(s.campaign_id, '')),
           'tags', json_merge_patch('{}', json_object(
               'ses:configuration-set', to_json(['dlvstats']),
               'ses:from-domain', CASE WHEN s.sending_domain IS NOT NULL THEN to_json([s.sending_domain]) END,
               'ses:outgoing-ip', CASE WHEN s.sending_ip IS NOT NULL THEN to_json([s.sending_ip]) END,
               'account_id', CASE WHEN s.account_id IS NOT NULL THEN to_json([s.account_id]) END,
               'list_id', CASE WHEN s.list_id IS NOT NULL THEN to_json([s.list_id]) END,
               'campaign_id', CASE WHEN s.campaign_id IS NOT NULL THEN to_json([s.campaign_id]) END))
       ) AS mail,
       CASE WHEN s.recipient IS NULL THEN '[]'::JSON ELSE to_json([s.recipient]) END AS rcpts
FROM __x_sends AS s;

CREATE OR REPLACE TEMP MACRO x_orphan_mail(mid, t) AS
    json_object('timestamp', x_iso(t), 'messageId', mid, 'destination', '[]'::JSON, 'headersTruncated', false);

CREATE OR REPLACE TEMP TABLE __x_done_complaints AS
SELECT c.__row, c.ts, c.source, c.recipient AS c_recipient, m.mail, m.recipient
FROM __x_complaints AS c JOIN __x_mail AS m USING (message_id)
WHERE c.ts IS NOT NULL AND c.source IN ('yahoo_cfl', 'microsoft_jmrp', 'ses')
  AND (c.recipient IS NULL OR c.recipient = m.recipient) AND m.recipient IS NOT NULL;

CREATE OR REPLACE TEMP TABLE __x_ev AS
SELECT sent_at AS ord, 1 AS seq, json_object('eventType', 'Send', 'mail', mail, 'send', json_object())::VARCHAR AS payload
FROM __x_mail
UNION ALL
SELECT coalesce(delivered_at, sent_at), 2,
       json_object('eventType', 'Delivery', 'mail', mail,
                   'delivery', json_object('timestamp', x_iso(coalesce(delivered_at, sent_at)),
                                           'processingTimeMillis', coalesce(epoch_ms(delivered_at) - epoch_ms(sent_at), 0),
                                           'recipients', rcpts, 'smtpResponse', '250 2.0.0 OK',
                                           'reportingMTA', 'a8-70.smtp-out.amazonses.com'))::VARCHAR
FROM __x_mail WHERE status = 'delivered'
UNION ALL
SELECT coalesce(delivered_at, sent_at), 2,
       json_object('eventType', 'Bounce', 'mail', mail,
                   'bounce', json_object('bounceType', CASE WHEN bounce_class = 'hard' THEN 'Permanent' ELSE 'Transient' END,
                                         'bounceSubType', 'General',
                                         'bouncedRecipients', to_json([json_merge_patch('{}', json_object(
                                             'emailAddress', recipient, 'action', 'failed', 'status', enhanced_status,
                                             'diagnosticCode', 'smtp; ' || coalesce(x_diag(smtp_code, enhanced_status, bounce_reason), '')))]),
                                         'timestamp', x_iso(coalesce(delivered_at, sent_at)),
                                         'feedbackId', md5('bounce' || message_id),
                                         'reportingMTA', 'dsn; a8-70.smtp-out.amazonses.com'))::VARCHAR
FROM __x_mail WHERE status = 'bounced'
UNION ALL
SELECT coalesce(delivered_at, sent_at), 2,
       json_object('eventType', 'DeliveryDelay', 'mail', mail,
                   'deliveryDelay', json_object('timestamp', x_iso(coalesce(delivered_at, sent_at)),
                                                'delayType', 'TransientCommunicationFailure',
                                                'expirationTime', x_iso(sent_at + INTERVAL 14 HOUR),
                                                'delayedRecipients', to_json([json_merge_patch('{}', json_object(
                                                    'emailAddress', recipient, 'status', enhanced_status,
                                                    'diagnosticCode', 'smtp; ' || coalesce(x_diag(smtp_code, enhanced_status, bounce_reason), '')))])))::VARCHAR
FROM __x_mail WHERE status = 'deferred'
UNION ALL
SELECT o.ts, 3,
       json_object('eventType', 'Open', 'mail', coalesce(m.mail, x_orphan_mail(o.message_id, o.ts)),
                   'open', json_merge_patch('{}', json_object('ipAddress', o.ip, 'timestamp', x_iso(o.ts), 'userAgent', o.user_agent)))::VARCHAR
FROM __x_opens AS o LEFT JOIN __x_mail AS m USING (message_id)
UNION ALL
SELECT k.ts, 4,
       json_object('eventType', 'Click', 'mail', coalesce(m.mail, x_orphan_mail(k.message_id, k.ts)),
                   'click', json_merge_patch('{}', json_object('ipAddress', k.ip, 'link', k.url, 'linkTags', json_object(),
                                                               'timestamp', x_iso(k.ts), 'userAgent', k.user_agent)))::VARCHAR
FROM __x_clicks AS k LEFT JOIN __x_mail AS m USING (message_id)
UNION ALL
SELECT ts, 5,
       json_object('eventType', 'Complaint', 'mail', mail,
                   'complaint', json_object('complainedRecipients', to_json([json_object('emailAddress', recipient)]),
                                            'timestamp', x_iso(ts), 'feedbackId', md5('complaint' || __row::VARCHAR),
                                            'userAgent', CASE source WHEN 'yahoo_cfl' THEN 'Yahoo!-Mail-Feedback/2.0'
                                                                     WHEN 'microsoft_jmrp' THEN 'Microsoft Junk Mail Reporting Program'
                                                                     ELSE 'ISP-Feedback-Loop/1.0' END,
                                            'complaintFeedbackType', 'abuse', 'arrivalDate', x_iso(ts)))::VARCHAR
FROM __x_done_complaints
UNION ALL
SELECT u.ts, 6,
       json_object('eventType', 'Subscription', 'mail', m.mail,
                   'subscription', json_object('contactList', m.list_id, 'timestamp', x_iso(u.ts), 'source', 'UnsubscribeHeader',
                                               'newTopicPreferences', json_object('unsubscribeAll', true),
                                               'oldTopicPreferences', json_object('unsubscribeAll', false)))::VARCHAR
FROM __x_unsub AS u JOIN __x_mail AS m USING (message_id);
