-- Postmark webhooks from __adp_items(__file, __line, single, bad, j, i1) to __adp_events (see
-- ingest/adapters/common.py): RecordType Delivery, Bounce (by TypeCode, table in
-- docs/formats/postmark.md), SpamComplaint, Open, Click, SubscriptionChange.
-- message_id: the Metadata key `message_id` (configurable) when present, else
-- `<MessageID>:<recipient>` (a Postmark message may have several recipients).
-- Postmark sends no "sent" webhook: a Delivery or Bounce creates the message's `sends` row, with
-- the earliest time seen as sent_at.
-- Parameters: JSONPaths into the record (e.g. '$."Metadata"."account_id"'): $p_account, $p_list,
-- $p_campaign, $p_message_id, $p_sending_domain.
CREATE OR REPLACE TEMP TABLE __adp_events AS
WITH e AS (
    SELECT __file, __line, single, i1, bad, j,
           CASE WHEN bad IS NOT NULL THEN 'not valid JSON'
                WHEN j IS NULL OR NOT starts_with(ltrim(j::VARCHAR, ' ' || chr(9) || chr(10) || chr(13)), '{')
                    THEN 'a JSON object expected, found ' || coalesce(lower(json_type(j)), 'nothing')
           END AS perr,
           json_extract_string(j, [
               '$.RecordType', '$.TypeCode', '$.Type', '$.Name', '$.MessageID', '$.Recipient', '$.Email',   -- 1-7
               '$.Details', '$.Description', '$.DeliveredAt', '$.BouncedAt', '$.ChangedAt', '$.ReceivedAt', -- 8-13
               '$.Tag', '$.UserAgent', '$.Geo.IP', '$.OriginalLink',                                          -- 14-17
               '$.SuppressSending', '$.SuppressionReason', '$.Origin',                                        -- 18-20
               $p_account, $p_list, $p_campaign, $p_message_id, $p_sending_domain                             -- 21-25
           ]) AS x
    FROM __adp_items
), m AS (
    SELECT *,
           x[1] AS rtype,
           try_cast(x[2] AS BIGINT) AS type_code,
           dlv_addr(coalesce(x[6], x[7])) AS rcpt,
           coalesce(NULLIF(regexp_replace(x[8], '^\s*smtp;\s*', ''), ''), x[9]) AS details
    FROM e
), t AS (
    SELECT *,
           CASE WHEN perr IS NOT NULL THEN 'error'
                WHEN rtype = 'Delivery' THEN 'delivery'
                WHEN rtype = 'Bounce' AND type_code IN (1, 100000, 100002, 4096, 256, 2048, 8192, 100006, 100009, 512) THEN 'bounce'
                WHEN rtype = 'Bounce' AND type_code = 2 THEN 'delay'
                WHEN rtype = 'Bounce' AND type_code = 100001 THEN 'complaint'
                WHEN rtype = 'Bounce' THEN 'ignore'
                WHEN rtype = 'SpamComplaint' THEN 'complaint'
                WHEN rtype = 'Open' THEN 'open'
                WHEN rtype = 'Click' THEN 'click'
                WHEN rtype = 'SubscriptionChange' AND x[18] = 'true' THEN 'unsubscribe'
                WHEN rtype = 'SubscriptionChange' AND x[18] = 'false' THEN 'subscribe'
                ELSE 'unknown' END AS etype
    FROM m
)
SELECT __file, CASE WHEN single THEN i1 ELSE __line END AS __line,
       coalesce(bad, j::VARCHAR) AS __raw,
       CASE WHEN etype = 'error' THEN perr END AS __error,
       etype,
       CASE WHEN rtype = 'Bounce' THEN 'Bounce/' || coalesce(x[3], type_code::VARCHAR, '?') ELSE rtype END AS vtype,
       CASE WHEN etype = 'ignore' THEN 'a bounce record that is not a delivery failure (auto-reply, challenge, subscribe/unsubscribe request, address change, API or template error)' END AS note,
       coalesce(x[24], x[5] || ':' || rcpt) AS message_id,
       rcpt AS recipient,
       CASE rtype WHEN 'Delivery' THEN x[10]
                  WHEN 'Bounce' THEN x[11]
                  WHEN 'SpamComplaint' THEN x[11]
                  WHEN 'SubscriptionChange' THEN x[12]
                  ELSE x[13] END AS ts,
       NULL::VARCHAR AS sent_at,
       x[21] AS account_id,
       x[22] AS list_id,
       coalesce(x[23], NULLIF(x[14], '')) AS campaign_id,
       NULL::VARCHAR AS sending_ip,
       x[25] AS sending_domain,
       CASE WHEN etype = 'bounce' THEN CASE WHEN type_code IN (1, 100000, 100002) THEN 'hard' ELSE 'soft' END END AS bounce_class,
       CASE WHEN etype IN ('bounce', 'delay') THEN dlv_smtp_code(details) END AS smtp_code,
       CASE WHEN etype IN ('bounce', 'delay') THEN dlv_enhanced(details) END AS enhanced_status,
       CASE WHEN etype IN ('bounce', 'delay') THEN coalesce(details, x[4]) END AS bounce_reason,
       CASE WHEN etype IN ('open', 'click') THEN x[15] END AS user_agent,
       CASE WHEN etype IN ('open', 'click') THEN x[16] END AS ip,
       CASE WHEN etype = 'click' THEN x[17] END AS url,
       NULL::VARCHAR AS event_id,
       NULL::VARCHAR AS is_machine,
       CASE WHEN etype = 'complaint' THEN 'postmark_fbl'
            WHEN etype = 'unsubscribe' THEN
                CASE x[19]
                    WHEN 'HardBounce' THEN 'bounce'
                    WHEN 'SpamComplaint' THEN 'complaint'
                    ELSE CASE WHEN coalesce(x[20], 'Recipient') = 'Recipient' THEN 'link' ELSE lower(x[20]) END END
            WHEN etype = 'subscribe' THEN 'reactivated' END AS source
FROM t;
