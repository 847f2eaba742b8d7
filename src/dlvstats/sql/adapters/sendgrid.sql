-- SendGrid Event Webhook events from __adp_items(__file, __line, single, bad, j, i1) to
-- __adp_events (see ingest/adapters/common.py). A file holds webhook POST bodies (arrays of
-- events), one per line or one per file, or single bare event objects.
-- message_id: the custom argument `message_id` (configurable) when present, else
-- `<X-Message-Id>:<email>`, where X-Message-Id is sg_message_id without its `.filter...` /
-- `.recvd-...` suffix (else the local part of smtp-id): one SendGrid request can carry several
-- recipients, each of which is one `sends` row.
-- timestamp: epoch seconds or milliseconds, number or string (dlv_ts), or an ISO string.
-- Each event's JSON is parsed once (multi-path json_extract_string).
-- Parameters: JSONPaths of the custom arguments: $p_account, $p_list, $p_campaign,
-- $p_message_id, $p_sending_domain (top-level keys, e.g. '$."account_id"'; also looked for under
-- `unique_args`, as older integrations send them).
CREATE OR REPLACE TEMP TABLE __adp_events AS
WITH e AS (
    SELECT __file, __line, single, i1, bad, j,
           CASE WHEN bad IS NOT NULL THEN 'not valid JSON'
                WHEN j IS NULL OR NOT starts_with(ltrim(j::VARCHAR, ' ' || chr(9) || chr(10) || chr(13)), '{')
                    THEN 'a JSON object expected, found ' || coalesce(lower(json_type(j)), 'nothing')
           END AS perr,
           json_extract_string(j, [
               '$.event', '$.email', '$.timestamp', '$.sg_message_id', '$."smtp-id"', '$.sg_event_id',   -- 1-6
               $p_account, $p_list, $p_campaign, $p_message_id, $p_sending_domain,                       -- 7-11
               '$.unique_args' || substr($p_account, 2), '$.unique_args' || substr($p_list, 2),
               '$.unique_args' || substr($p_campaign, 2), '$.unique_args' || substr($p_message_id, 2),
               '$.unique_args' || substr($p_sending_domain, 2),                                         -- 12-16
               '$.marketing_campaign_id', '$.category', '$.asm_group_id',                                -- 17-19
               '$.reason', '$.response', '$.status', '$.type',                                           -- 20-23
               '$.ip', '$.useragent', '$.url', '$.sg_machine_open'                                       -- 24-27
           ]) AS x
    FROM __adp_items
), m AS (
    SELECT *,
           lower(x[1]) AS vtype,
           dlv_addr(x[2]) AS rcpt,
           coalesce(NULLIF(regexp_replace(x[4], '\.(filter|recvd).*$', ''), ''),
                    NULLIF(regexp_extract(x[5], '<?([^<@>]+)', 1), '')) AS xid,
           CASE WHEN starts_with(x[18], '[') THEN try_cast(x[18] AS JSON) ->> '$[0]' ELSE x[18] END AS category
    FROM e
), t AS (
    SELECT *,
           CASE WHEN perr IS NOT NULL THEN 'error'
                WHEN vtype = 'processed' THEN 'send'
                WHEN vtype = 'delivered' THEN 'delivery'
                WHEN vtype = 'deferred' THEN 'delay'
                WHEN vtype = 'bounce' THEN 'bounce'
                WHEN vtype = 'dropped' THEN 'reject'
                WHEN vtype = 'open' THEN 'open'
                WHEN vtype = 'click' THEN 'click'
                WHEN vtype = 'spamreport' THEN 'complaint'
                WHEN vtype IN ('unsubscribe', 'group_unsubscribe') THEN 'unsubscribe'
                WHEN vtype = 'group_resubscribe' THEN 'subscribe'
                ELSE 'unknown' END AS etype
    FROM m
)
SELECT __file, CASE WHEN single THEN i1 ELSE __line END AS __line,
       coalesce(bad, j::VARCHAR) AS __raw,
       CASE WHEN etype = 'error' THEN perr END AS __error,
       etype, vtype,
       NULL::VARCHAR AS note,
       coalesce(x[10], x[15], xid || ':' || rcpt) AS message_id,
       rcpt AS recipient,
       dlv_ts(x[3]) AS ts,
       NULL::VARCHAR AS sent_at,
       coalesce(x[7], x[12]) AS account_id,
       coalesce(x[8], x[13],
                CASE WHEN vtype IN ('group_unsubscribe', 'group_resubscribe') AND x[19] IS NOT NULL
                     THEN 'asm_group:' || x[19] END) AS list_id,
       coalesce(x[9], x[14], x[17], category) AS campaign_id,
       CASE WHEN etype IN ('delivery', 'delay', 'bounce') THEN x[24] END AS sending_ip,
       coalesce(x[11], x[16]) AS sending_domain,
       CASE WHEN etype = 'bounce' THEN CASE WHEN lower(coalesce(x[23], 'bounce')) = 'blocked' THEN 'soft' ELSE 'hard' END END AS bounce_class,
       CASE WHEN etype = 'bounce' THEN dlv_smtp_code(x[20]) WHEN etype = 'delay' THEN dlv_smtp_code(x[21]) END AS smtp_code,
       CASE WHEN etype = 'bounce' THEN coalesce(dlv_enhanced(x[22]), dlv_enhanced(x[20]))
            WHEN etype = 'delay' THEN coalesce(dlv_enhanced(x[22]), dlv_enhanced(x[21])) END AS enhanced_status,
       CASE WHEN etype = 'bounce' THEN x[20] WHEN etype = 'delay' THEN x[21] END AS bounce_reason,
       CASE WHEN etype IN ('open', 'click') THEN x[25] END AS user_agent,
       CASE WHEN etype IN ('open', 'click') THEN x[24] END AS ip,
       CASE WHEN etype = 'click' THEN x[26] END AS url,
       x[6] AS event_id,
       CASE WHEN etype = 'open' THEN x[27] END AS is_machine,
       CASE WHEN etype = 'complaint' THEN 'sendgrid_fbl'
            WHEN vtype IN ('unsubscribe', 'group_unsubscribe') THEN 'link'
            WHEN vtype = 'group_resubscribe' THEN 'resubscribe' END AS source
FROM t;
