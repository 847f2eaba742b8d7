-- Amazon SES events (event publishing `eventType`, notifications `notificationType`) from
-- __adp_items(__file, __line, single, bad, j, i1) to __adp_events (see ingest/adapters/common.py).
-- Accepted wrappings, detected per record: a bare event; an SNS HTTP envelope (`Type`,
-- `Message` = the event as a JSON string, sometimes escaped twice); a Lambda event
-- (`Records[].Sns`); an EventBridge event (`detail`); any of these in a JSON array (batches).
-- One event concerns one or more recipients: Send/Reject/Rendering Failure -> mail.destination,
-- Delivery -> delivery.recipients, Bounce -> bounce.bouncedRecipients, Complaint ->
-- complaint.complainedRecipients, DeliveryDelay -> deliveryDelay.delayedRecipients; one row each.
-- Open, Click and Subscription name no recipient: attributed to mail.destination[1].
-- message_id: the `message_id` tag (configurable) or mail.messageId; when mail.destination has
-- several recipients, `<that id>:<recipient>` (one `sends` row per recipient).
-- Each JSON text is parsed once per level (multi-path json_extract), not once per field.
-- Parameters: JSONPaths of the tags: $p_account, $p_list, $p_campaign, $p_message_id,
-- $p_sending_domain (e.g. '$.mail.tags."account_id"[0]').
CREATE OR REPLACE TEMP TABLE __adp_ses_rec AS
WITH n AS (
    SELECT __file, count(*) AS n_items FROM __adp_items GROUP BY __file
), lvl AS (
    SELECT __file, __line, single, bad, i1, j, json_extract(j, '$.Records') AS recs, n.n_items
    FROM __adp_items JOIN n USING (__file)
), arr AS (
    SELECT *, CASE WHEN json_type(recs) = 'ARRAY' THEN json_extract(recs, '$[*]') ELSE [j] END AS rlist
    FROM lvl
), one AS (
    SELECT __file, __line, single, bad, i1, n_items, unnest(rlist) AS r, generate_subscripts(rlist, 1) AS i2
    FROM arr
)
-- position: the physical line (JSON lines), else the record number: the element of a batch, or
-- the record of a lone Lambda event
SELECT __file, CASE WHEN NOT single THEN __line WHEN n_items = 1 THEN i2 ELSE i1 END AS __line,
       single, bad, i1, r, i2
FROM one;

CREATE OR REPLACE TEMP TABLE __adp_ses_payload AS
WITH w AS (
    SELECT *,
           starts_with(ltrim(r::VARCHAR, ' ' || chr(9) || chr(10) || chr(13)), '{') AS is_object,
           json_extract(r, ['$.Sns', '$.Type', '$.Message', '$.detail', '$."detail-type"']) AS w
    FROM __adp_ses_rec
), env AS (
    SELECT *,
           CASE WHEN w[1] IS NOT NULL AND json_type(w[1]) = 'OBJECT' THEN json_extract(w[1], ['$.Type', '$.Message'])
                ELSE [w[2], w[3]] END AS tm
    FROM w
), msg AS (
    SELECT *, tm[1] ->> '$' AS sns_type,
           CASE WHEN json_type(tm[2]) = 'VARCHAR' AND coalesce(tm[1] ->> '$', 'Notification') = 'Notification'
                THEN tm[2] ->> '$' END AS m1
    FROM env
), unescaped AS (
    SELECT *,
           CASE WHEN m1 IS NOT NULL AND json_valid(m1) AND json_type(try_cast(m1 AS JSON)) = 'VARCHAR'
                THEN try_cast(m1 AS JSON) ->> '$' ELSE m1 END AS m2
    FROM msg
)
SELECT __file, __line, single, i1, i2, sns_type,
       CASE WHEN bad IS NOT NULL THEN 'not valid JSON'
            WHEN r IS NULL OR NOT is_object THEN 'a JSON object expected, found ' || coalesce(lower(json_type(r)), 'nothing')
            WHEN m2 IS NOT NULL AND NOT json_valid(m2) THEN 'the SNS Message is not valid JSON'
       END AS perr,
       CASE WHEN bad IS NOT NULL OR r IS NULL OR NOT is_object THEN NULL
            WHEN m2 IS NOT NULL THEN try_cast(m2 AS JSON)
            WHEN json_type(tm[2]) = 'OBJECT' THEN tm[2]
            WHEN w[4] IS NOT NULL AND w[5] IS NOT NULL AND json_type(w[4]) = 'OBJECT' THEN w[4]
            WHEN w[1] IS NOT NULL AND json_type(w[1]) = 'OBJECT' THEN w[1]
            ELSE r END AS p,
       coalesce(bad, r::VARCHAR) AS raw
FROM unescaped;

CREATE OR REPLACE TEMP TABLE __adp_ses_ev AS
WITH f AS (
    SELECT *,
           json_extract_string(p, [
               '$.eventType', '$.notificationType', '$.mail.messageId', '$.mail.timestamp',          -- 1-4
               $p_account, $p_list, $p_campaign, $p_message_id, $p_sending_domain,                   -- 5-9
               '$.mail.tags."ses:outgoing-ip"[0]', '$.mail.tags."ses:from-domain"[0]',               -- 10-11
               '$.delivery.timestamp', '$.bounce.timestamp', '$.bounce.bounceType', '$.bounce.bounceSubType', -- 12-15
               '$.complaint.timestamp', '$.complaint.arrivalDate', '$.complaint.complaintFeedbackType',
               '$.complaint.userAgent',                                                              -- 16-19
               '$.deliveryDelay.timestamp', '$.deliveryDelay.delayType',                             -- 20-21
               '$.open.timestamp', '$.open.userAgent', '$.open.ipAddress',                           -- 22-24
               '$.click.timestamp', '$.click.userAgent', '$.click.ipAddress', '$.click.link',        -- 25-28
               '$.subscription.timestamp', '$.subscription.contactList',                             -- 29-30
               '$.subscription.newTopicPreferences.unsubscribeAll',
               '$.subscription.oldTopicPreferences.unsubscribeAll'                                   -- 31-32
           ]) AS x,
           json_extract(p, ['$.mail.destination', '$.delivery.recipients', '$.bounce.bouncedRecipients',
                            '$.complaint.complainedRecipients', '$.deliveryDelay.delayedRecipients',
                            '$.subscription.newTopicPreferences.topicSubscriptionStatus']) AS a
    FROM __adp_ses_payload
), typed AS (
    SELECT *,
           coalesce(x[1], x[2], CASE WHEN sns_type IN ('SubscriptionConfirmation', 'UnsubscribeConfirmation')
                                     THEN 'SNS ' || sns_type END) AS vtype,
           coalesce(try_cast(a[1] AS VARCHAR[]), []) AS dest
    FROM f
), fan AS (
    SELECT *,
           CASE vtype
               WHEN 'Bounce' THEN json_extract(a[3], '$[*]')
               WHEN 'Complaint' THEN json_extract(a[4], '$[*]')
               WHEN 'DeliveryDelay' THEN json_extract(a[5], '$[*]')
               WHEN 'Delivery' THEN list_transform(coalesce(try_cast(a[2] AS VARCHAR[]), []), lambda v: json_object('emailAddress', v))
               WHEN 'Send' THEN list_transform(dest, lambda v: json_object('emailAddress', v))
               WHEN 'Reject' THEN list_transform(dest, lambda v: json_object('emailAddress', v))
               WHEN 'Rendering Failure' THEN list_transform(dest, lambda v: json_object('emailAddress', v))
               ELSE list_transform(dest[1:1], lambda v: json_object('emailAddress', v))
           END AS rcpts
    FROM typed
), one AS (
    SELECT *, unnest(CASE WHEN len(coalesce(rcpts, [])) > 0 THEN rcpts ELSE [NULL::JSON] END) AS rc
    FROM fan
)
SELECT *,
       json_extract_string(rc, ['$.emailAddress', '$.status', '$.diagnosticCode']) AS rx,
       __line AS pos
FROM one;

CREATE OR REPLACE TEMP TABLE __adp_events AS
WITH m AS (
    SELECT *,
           CASE WHEN perr IS NOT NULL THEN 'error'
                WHEN vtype = 'Send' THEN 'send'
                WHEN vtype = 'Delivery' THEN 'delivery'
                WHEN vtype = 'Bounce' THEN 'bounce'
                WHEN vtype = 'DeliveryDelay' THEN 'delay'
                WHEN vtype = 'Reject' THEN 'reject'
                WHEN vtype = 'Open' THEN 'open'
                WHEN vtype = 'Click' THEN 'click'
                WHEN vtype = 'Complaint' AND coalesce(lower(x[18]), 'abuse') = 'abuse' THEN 'complaint'
                WHEN vtype = 'Complaint' THEN 'ignore'
                WHEN vtype = 'Subscription' AND (x[31] = 'true'
                     OR list_contains(coalesce(json_extract_string(a[6], '$[*].subscriptionStatus'), []), 'OptOut'))
                     THEN 'unsubscribe'
                WHEN vtype = 'Subscription' AND x[32] = 'true' THEN 'subscribe'
                WHEN vtype IN ('Subscription', 'Rendering Failure', 'AmazonSnsSubscriptionSucceeded', 'Received',
                               'SNS SubscriptionConfirmation', 'SNS UnsubscribeConfirmation') THEN 'ignore'
                ELSE 'unknown'
           END AS etype,
           dlv_addr(rx[1]) AS rcpt,
           rx[3] AS diag,
           len(dest) AS ndest
    FROM __adp_ses_ev
)
SELECT __file, pos AS __line, raw AS __raw,
       CASE WHEN etype = 'error' THEN perr END AS __error,
       etype, vtype,
       CASE WHEN vtype = 'Complaint' THEN 'feedback type ' || coalesce(x[18], '?') || ' is not a spam complaint (only abuse is)'
            WHEN vtype = 'Subscription' THEN 'subscription preferences changed without an opt-out'
            WHEN vtype = 'Rendering Failure' THEN 'template rendering failed; nothing was sent'
            WHEN vtype = 'Received' THEN 'inbound mail, not a sending event'
            ELSE 'SNS subscription set-up message, not an event' END AS note,
       CASE WHEN ndest > 1 AND rcpt IS NOT NULL THEN coalesce(x[8], x[3]) || ':' || rcpt
            ELSE coalesce(x[8], x[3]) END AS message_id,
       rcpt AS recipient,
       CASE vtype
           WHEN 'Delivery' THEN x[12]
           WHEN 'Bounce' THEN x[13]
           WHEN 'Complaint' THEN coalesce(x[16], x[17])
           WHEN 'DeliveryDelay' THEN x[20]
           WHEN 'Open' THEN x[22]
           WHEN 'Click' THEN x[25]
           WHEN 'Subscription' THEN x[29]
           ELSE x[4] END AS ts,
       x[4] AS sent_at,
       x[5] AS account_id,
       coalesce(x[6], CASE WHEN vtype = 'Subscription' THEN x[30] END) AS list_id,
       x[7] AS campaign_id,
       x[10] AS sending_ip,
       coalesce(x[9], x[11]) AS sending_domain,
       CASE WHEN vtype = 'Bounce' THEN CASE WHEN x[14] = 'Permanent' THEN 'hard' ELSE 'soft' END END AS bounce_class,
       CASE WHEN vtype IN ('Bounce', 'DeliveryDelay') THEN dlv_smtp_code(diag) END AS smtp_code,
       CASE WHEN vtype IN ('Bounce', 'DeliveryDelay') THEN coalesce(NULLIF(rx[2], ''), dlv_enhanced(diag)) END AS enhanced_status,
       CASE WHEN vtype = 'Bounce' THEN coalesce(NULLIF(regexp_replace(diag, '^\s*smtp;\s*', ''), ''), concat_ws('/', x[14], x[15]))
            WHEN vtype = 'DeliveryDelay' THEN coalesce(NULLIF(regexp_replace(diag, '^\s*smtp;\s*', ''), ''), x[21]) END AS bounce_reason,
       CASE vtype WHEN 'Open' THEN x[23] WHEN 'Click' THEN x[26] END AS user_agent,
       CASE vtype WHEN 'Open' THEN x[24] WHEN 'Click' THEN x[27] END AS ip,
       CASE WHEN vtype = 'Click' THEN x[28] END AS url,
       NULL::VARCHAR AS event_id,
       NULL::VARCHAR AS is_machine,
       CASE WHEN etype = 'complaint' THEN
                CASE WHEN regexp_matches(coalesce(x[19], ''), '(?i)yahoo|aol') THEN 'yahoo_cfl'
                     WHEN regexp_matches(coalesce(x[19], ''), '(?i)microsoft|hotmail|outlook|jmrp|msn') THEN 'microsoft_jmrp'
                     ELSE 'ses' END
            WHEN etype IN ('unsubscribe', 'subscribe') THEN 'link' END AS source
FROM m;

DROP TABLE IF EXISTS __adp_ses_rec;
DROP TABLE IF EXISTS __adp_ses_payload;
DROP TABLE IF EXISTS __adp_ses_ev;
