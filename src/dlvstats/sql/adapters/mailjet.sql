-- Mailjet event webhooks (Event API) from __adp_items(__file, __line, single, bad, j, i1) to
-- __adp_events (see ingest/adapters/common.py). Grain: one row per event object (grouped
-- callbacks are arrays, split by the reader).
-- Rules: `event` sent -> delivery (Mailjet's "sent" is the receiving server's acceptance,
-- `smtp_reply`); bounce -> bounce, hard when `hard_bounce` is true, a delay when `error` is
-- greylisted, else soft; bounce_reason = `error_related_to: error (comment)`, `comment` being the
-- receiving server's reply Mailjet quotes, from which the SMTP and enhanced codes are read (else
-- from `error`); blocked -> reject (Mailjet did not send it); spam -> complaint (source
-- `mailjet_<source>`); open, click; unsub -> unsubscribe (`mj_list_id` as list); others -> unknown.
-- message_id: the Payload key `message_id` (configurable) when present, else
-- `<MessageID>:<recipient>` (Mailjet documents one MessageID per recipient; public samples reuse
-- one id across recipients, so the recipient is kept in the key). time: epoch seconds. Mailjet gives no machine-open flag.
-- Parameters: JSONPaths into the parsed `Payload` object (e.g. '$."account_id"'): $p_account,
-- $p_list, $p_campaign, $p_message_id, $p_sending_domain.
CREATE OR REPLACE TEMP TABLE __adp_events AS
WITH e AS (
    SELECT __file, __line, single, i1, bad, j,
           CASE WHEN bad IS NOT NULL THEN 'not valid JSON'
                WHEN j IS NULL OR NOT starts_with(ltrim(j::VARCHAR, ' ' || chr(9) || chr(10) || chr(13)), '{')
                    THEN 'a JSON object expected, found ' || coalesce(lower(json_type(j)), 'nothing')
           END AS perr,
           json_extract_string(j, [
               '$.event', '$.email', '$.MessageID', '$.time', '$.mj_campaign_id',          -- 1-5
               '$.customcampaign', '$.smtp_reply', '$.hard_bounce', '$.error_related_to',  -- 6-9
               '$.error', '$.url', '$.ip', '$.agent', '$.source', '$.mj_list_id',          -- 10-15
               '$.Payload', '$.Message_GUID', '$.comment'                                  -- 16-18
           ]) AS x
    FROM __adp_items
), c AS (
    SELECT *,
           CASE WHEN json_valid(x[16]) AND json_type(x[16]::JSON) = 'OBJECT' THEN x[16]::JSON END AS payload
    FROM e
), m AS (
    SELECT *,
           lower(x[1]) AS vtype,
           dlv_addr(x[2]) AS rcpt,
           lower(coalesce(x[10], '')) AS err,
           json_extract_string(payload, [$p_account, $p_list, $p_campaign, $p_message_id, $p_sending_domain]) AS k
    FROM c
), t AS (
    SELECT *,
           CASE WHEN perr IS NOT NULL THEN 'error'
                WHEN vtype = 'sent' THEN 'delivery'
                WHEN vtype = 'bounce' AND err = 'greylisted' AND x[8] IS DISTINCT FROM 'true' THEN 'delay'
                WHEN vtype = 'bounce' THEN 'bounce'
                WHEN vtype = 'blocked' THEN 'reject'
                WHEN vtype = 'spam' THEN 'complaint'
                WHEN vtype = 'open' THEN 'open'
                WHEN vtype = 'click' THEN 'click'
                WHEN vtype = 'unsub' THEN 'unsubscribe'
                ELSE 'unknown' END AS etype,
           NULLIF(concat_ws(': ', NULLIF(x[9], ''), NULLIF(x[10], '')), '') AS err_words,
           NULLIF(trim(x[18]), '') AS comment
    FROM m
), r AS (
    SELECT *,
           -- Mailjet's words, then the receiving server's reply Mailjet quotes in `comment`
           CASE WHEN comment IS NULL THEN err_words WHEN err_words IS NULL THEN comment
                ELSE err_words || ' (' || comment || ')' END AS err_text
    FROM t
)
SELECT __file, CASE WHEN single THEN i1 ELSE __line END AS __line,
       coalesce(bad, j::VARCHAR) AS __raw,
       CASE WHEN etype = 'error' THEN perr END AS __error,
       etype, vtype,
       NULL::VARCHAR AS note,
       coalesce(k[4], x[3] || ':' || rcpt) AS message_id,
       rcpt AS recipient,
       dlv_ts(x[4]) AS ts,
       NULL::VARCHAR AS sent_at,
       k[1] AS account_id,
       coalesce(k[2], CASE WHEN etype = 'unsubscribe' AND x[15] NOT IN ('', '0') THEN x[15] END) AS list_id,
       coalesce(k[3], NULLIF(x[6], ''), NULLIF(x[5], '0')) AS campaign_id,
       NULL::VARCHAR AS sending_ip,
       k[5] AS sending_domain,
       CASE WHEN etype = 'bounce' THEN CASE WHEN x[8] = 'true' THEN 'hard' ELSE 'soft' END END AS bounce_class,
       CASE WHEN etype IN ('bounce', 'delay') THEN coalesce(dlv_smtp_code(comment), dlv_smtp_code(err_words)) END AS smtp_code,
       CASE WHEN etype IN ('bounce', 'delay') THEN coalesce(dlv_enhanced(comment), dlv_enhanced(err_words)) END AS enhanced_status,
       CASE WHEN etype IN ('bounce', 'delay', 'reject') THEN err_text END AS bounce_reason,
       CASE WHEN etype IN ('open', 'click') THEN x[13] END AS user_agent,
       CASE WHEN etype IN ('open', 'click') THEN NULLIF(x[12], '') END AS ip,
       CASE WHEN etype = 'click' THEN x[11] END AS url,
       NULL::VARCHAR AS event_id,
       NULL::VARCHAR AS is_machine,
       CASE WHEN etype = 'complaint' THEN 'mailjet_' || coalesce(NULLIF(lower(x[14]), ''), 'fbl')
            WHEN etype = 'unsubscribe' THEN CASE WHEN x[13] = 'List-Unsubscribe' THEN 'list_unsubscribe' ELSE 'link' END END AS source
FROM r;
