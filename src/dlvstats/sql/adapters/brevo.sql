-- Brevo (ex-Sendinblue) transactional webhooks from __adp_items(__file, __line, single, bad, j, i1)
-- to __adp_events (see ingest/adapters/common.py). Grain: one row per webhook object.
-- Rules: `event` request -> send; delivered -> delivery; hard_bounce / soft_bounce -> bounce hard /
-- soft; deferred -> delay; blocked, invalid_email, error -> reject (Brevo did not hand it to the
-- receiving server); spam, complaint -> complaint; opened, unique_opened, first_opening -> open;
-- proxy_open, unique_proxy_open -> open with is_machine = true (Brevo's "loaded via proxy", e.g.
-- Apple Mail Privacy Protection); click -> click; unsubscribe(d) -> unsubscribe; others -> unknown.
-- message_id: the X-Mailin-custom key `message_id` (configurable) when present, else
-- `<message-id>:<recipient>` (a Brevo message may have several recipients).
-- ts: `ts_epoch` (UTC, milliseconds), else `ts_event` (epoch seconds). `date` and `ts` are in the
-- account's time zone per Brevo and are not used.
-- Parameters: JSONPaths into the parsed X-Mailin-custom object (e.g. '$."account_id"'): $p_account,
-- $p_list, $p_campaign, $p_message_id, $p_sending_domain.
CREATE OR REPLACE TEMP TABLE __adp_events AS
WITH e AS (
    SELECT __file, __line, single, i1, bad, j,
           CASE WHEN bad IS NOT NULL THEN 'not valid JSON'
                WHEN j IS NULL OR NOT starts_with(ltrim(j::VARCHAR, ' ' || chr(9) || chr(10) || chr(13)), '{')
                    THEN 'a JSON object expected, found ' || coalesce(lower(json_type(j)), 'nothing')
           END AS perr,
           json_extract_string(j, [
               '$.event', '$.email', '$."message-id"', '$.ts_epoch', '$.ts_event',     -- 1-5
               '$.reason', '$.link', '$.sending_ip', '$.tags[0]', '$.tag',             -- 6-10
               '$."X-Mailin-custom"', '$.ip', '$.user_agent', '$.s_epoch'              -- 11-14
           ]) AS x,
           json_type(j, '$.tag') AS tag_type
    FROM __adp_items
), c AS (
    SELECT *,
           CASE WHEN json_valid(x[11]) AND json_type(x[11]::JSON) = 'OBJECT' THEN x[11]::JSON END AS custom
    FROM e
), m AS (
    SELECT *,
           lower(x[1]) AS vtype,
           dlv_addr(x[2]) AS rcpt,
           NULLIF(trim(x[6]), '') AS reason,
           json_extract_string(custom, [$p_account, $p_list, $p_campaign, $p_message_id, $p_sending_domain]) AS k,
           -- `tag`: a JSON-encoded array (tags given at send), a plain string, or an array
           CASE WHEN tag_type = 'ARRAY' THEN json_extract_string(j, '$.tag[0]')
                WHEN json_valid(x[10]) AND json_type(x[10]::JSON) = 'ARRAY' THEN json_extract_string(x[10]::JSON, '$[0]')
                ELSE NULLIF(x[10], '') END AS tag1
    FROM c
), t AS (
    SELECT *,
           CASE WHEN perr IS NOT NULL THEN 'error'
                WHEN vtype = 'request' THEN 'send'
                WHEN vtype = 'delivered' THEN 'delivery'
                WHEN vtype IN ('hard_bounce', 'soft_bounce') THEN 'bounce'
                WHEN vtype = 'deferred' THEN 'delay'
                WHEN vtype IN ('blocked', 'invalid_email', 'error') THEN 'reject'
                WHEN vtype IN ('spam', 'complaint') THEN 'complaint'
                WHEN vtype IN ('opened', 'unique_opened', 'first_opening', 'proxy_open', 'unique_proxy_open') THEN 'open'
                WHEN vtype = 'click' THEN 'click'
                WHEN vtype IN ('unsubscribe', 'unsubscribed') THEN 'unsubscribe'
                ELSE 'unknown' END AS etype
    FROM m
)
SELECT __file, CASE WHEN single THEN i1 ELSE __line END AS __line,
       coalesce(bad, j::VARCHAR) AS __raw,
       CASE WHEN etype = 'error' THEN perr END AS __error,
       etype, vtype,
       NULL::VARCHAR AS note,
       coalesce(k[4], regexp_replace(x[3], '^<|>$', '', 'g') || ':' || rcpt) AS message_id,
       rcpt AS recipient,
       dlv_ts(coalesce(x[4], x[14], x[5])) AS ts,
       NULL::VARCHAR AS sent_at,
       k[1] AS account_id,
       k[2] AS list_id,
       coalesce(k[3], x[9], tag1) AS campaign_id,
       -- a dotted quad with octets up to 255, or an IPv6 form; placeholders such as xxx.xxx.xxx.xxx are dropped
       CASE WHEN regexp_full_match(coalesce(x[8], ''), '((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])')
                 OR regexp_full_match(coalesce(x[8], ''), '[0-9a-fA-F]*:[0-9a-fA-F:.]*') THEN x[8] END AS sending_ip,
       k[5] AS sending_domain,
       CASE WHEN etype = 'bounce' THEN CASE WHEN vtype = 'hard_bounce' THEN 'hard' ELSE 'soft' END END AS bounce_class,
       CASE WHEN etype IN ('bounce', 'delay') THEN dlv_smtp_code(reason) END AS smtp_code,
       CASE WHEN etype IN ('bounce', 'delay') THEN dlv_enhanced(reason) END AS enhanced_status,
       CASE WHEN etype IN ('bounce', 'delay', 'reject') THEN reason END AS bounce_reason,
       CASE WHEN etype IN ('open', 'click') THEN x[13] END AS user_agent,
       CASE WHEN etype IN ('open', 'click') THEN x[12] END AS ip,
       CASE WHEN etype = 'click' THEN x[7] END AS url,
       NULL::VARCHAR AS event_id,
       CASE WHEN etype = 'open' THEN CASE WHEN vtype IN ('proxy_open', 'unique_proxy_open') THEN 'true' END END AS is_machine,
       CASE WHEN etype = 'complaint' THEN 'brevo_fbl' WHEN etype = 'unsubscribe' THEN 'link' END AS source
FROM t;
