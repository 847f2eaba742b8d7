-- A canonical drop (typed by export_common.sql) as the Mailchimp Marketing API's campaign report
-- responses, one response per line: the campaign report (`id`, `send_time` = the campaign's
-- earliest send, `emails_sent`), then pages of at most 1000 members of sent-to, email-activity,
-- open-details, unsubscribed and abuse-reports. Grain: one response page per line.
-- Rules: a message is `<campaign_id>:<md5 of the recipient>` (Mailchimp sends a campaign once to
-- each address: the first send of a campaign and recipient is written, by send time);
-- sent-to `sent` for a delivered message, `hard` / `soft` for a bounced one; a message only
-- accepted or still deferred is not listed (Mailchimp lists a recipient with its outcome);
-- email-activity: the bounce (`type` = bounce_class, at the bounce's time), opens (`ip`), clicks
-- (`url`, `ip`); open-details: the opens that carry a machine flag (`is_proxy_open`); unsubscribed:
-- link unsubscribes of a written message (`reason` "No longer interested"); abuse-reports:
-- complaints from Yahoo's and Microsoft's feedback loops (or source mailchimp_abuse) whose message
-- is written. Mailchimp carries no account, user agent, event id, SMTP code, sending IP or domain.
-- Times: ISO 8601 to the second, `+00:00`. Output: __x_ev(ord, seq, payload) and __x_done_complaints(__row).
CREATE OR REPLACE TEMP MACRO x_mc_time(t) AS strftime(timezone('UTC', t), '%Y-%m-%dT%H:%M:%S+00:00');

CREATE OR REPLACE TEMP TABLE __x_base AS
SELECT *, campaign_id || ':' || md5(recipient) AS mc_id, md5(recipient) AS email_id
FROM __x_sends
WHERE status IN ('delivered', 'bounced') AND campaign_id IS NOT NULL AND recipient IS NOT NULL AND sent_at IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY campaign_id, recipient ORDER BY sent_at, message_id) = 1;

CREATE OR REPLACE TEMP MACRO x_member(b) AS json_object(
    'campaign_id', b.campaign_id, 'list_id', coalesce(b.list_id, ''), 'list_is_active', true,
    'email_id', b.email_id, 'email_address', b.recipient);

-- pages of at most 1000 members (Mailchimp's largest `count`): __x_members(campaign_id, collection, member, k)
CREATE OR REPLACE TEMP TABLE __x_members AS
SELECT campaign_id, 'sent_to' AS collection,
       json_merge_patch(x_member(b), json_object('status', CASE WHEN status = 'delivered' THEN 'sent' ELSE coalesce(bounce_class, 'soft') END,
                                                'vip', false, 'merge_fields', json_object()))::VARCHAR AS member,
       sent_at AS k
FROM __x_base AS b
UNION ALL
SELECT b.campaign_id, 'emails', json_merge_patch(x_member(b), json_object('activity', a.acts))::VARCHAR, b.sent_at
FROM __x_base AS b JOIN (
    SELECT message_id, to_json(list(act ORDER BY t, act::VARCHAR)) AS acts
    FROM (
        SELECT message_id, coalesce(delivered_at, sent_at) AS t,
               json_object('action', 'bounce', 'type', coalesce(bounce_class, 'soft'),
                           'timestamp', x_mc_time(coalesce(delivered_at, sent_at))) AS act
        FROM __x_base WHERE status = 'bounced'
        UNION ALL
        SELECT message_id, ts, json_merge_patch(json_object('action', 'open', 'timestamp', x_mc_time(ts)),
                                                json_merge_patch('{}', json_object('ip', ip)))
        FROM __x_opens WHERE ts IS NOT NULL
        UNION ALL
        SELECT message_id, ts, json_merge_patch(json_object('action', 'click', 'timestamp', x_mc_time(ts), 'url', coalesce(url, '')),
                                                json_merge_patch('{}', json_object('ip', ip)))
        FROM __x_clicks WHERE ts IS NOT NULL
    ) GROUP BY message_id
) AS a USING (message_id)
UNION ALL
SELECT b.campaign_id, 'members',
       json_merge_patch(x_member(b), json_object('opens_count', o.n, 'opens', o.opens,
                                                'proxy_excluded_opens_count', o.human))::VARCHAR,
       b.sent_at
FROM __x_base AS b JOIN (
    SELECT message_id, count(*) AS n, count(*) FILTER (WHERE NOT is_machine) AS human,
           to_json(list(json_object('timestamp', x_mc_time(ts), 'is_proxy_open', is_machine) ORDER BY ts)) AS opens
    FROM __x_opens WHERE ts IS NOT NULL AND is_machine IS NOT NULL GROUP BY message_id
) AS o USING (message_id)
UNION ALL
SELECT b.campaign_id, 'unsubscribes',
       json_merge_patch(x_member(b), json_object('timestamp', x_mc_time(u.ts), 'reason', 'No longer interested',
                                                'vip', false, 'merge_fields', json_object()))::VARCHAR,
       u.ts
FROM __x_unsub AS u JOIN __x_base AS b USING (message_id);

CREATE OR REPLACE TEMP TABLE __x_done_complaints AS
SELECT c.__row, c.ts, b.campaign_id, b.list_id, b.email_id, b.recipient
FROM __x_complaints AS c JOIN __x_base AS b USING (message_id)
WHERE c.ts IS NOT NULL AND c.source IN ('yahoo_cfl', 'microsoft_jmrp', 'mailchimp_abuse')
  AND (c.recipient IS NULL OR c.recipient = b.recipient);

INSERT INTO __x_members
SELECT campaign_id, 'abuse_reports',
       json_object('id', __row, 'campaign_id', campaign_id, 'list_id', coalesce(list_id, ''), 'list_is_active', true,
                   'email_id', email_id, 'email_address', recipient, 'date', x_mc_time(ts),
                   'vip', false, 'merge_fields', json_object())::VARCHAR,
       ts
FROM __x_done_complaints;

CREATE OR REPLACE TEMP TABLE __x_ev AS
SELECT min(sent_at) AS ord, 1 AS seq,
       json_object('id', campaign_id, 'campaign_title', campaign_id, 'type', 'regular',
                   'list_id', coalesce(min(list_id), ''), 'list_is_active', true,
                   'emails_sent', count(*), 'send_time', x_mc_time(min(sent_at)))::VARCHAR AS payload
FROM __x_base GROUP BY campaign_id
UNION ALL
SELECT min(k), 2,
       '{"' || collection || '": [' || string_agg(member, ',' ORDER BY k, member) || '], "campaign_id": '
           || to_json(campaign_id)::VARCHAR || ', "total_items": ' || count(*) || '}'
FROM (SELECT *, (row_number() OVER (PARTITION BY campaign_id, collection ORDER BY k, member) - 1) // 1000 AS page
      FROM __x_members)
GROUP BY campaign_id, collection, page;
