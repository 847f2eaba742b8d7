-- Mandrill (Mailchimp Transactional) message-event webhooks from __adp_items(__file, __line,
-- single, bad, j, i1) to __adp_events (see ingest/adapters/common.py). Grain: one row per event
-- object of the `mandrill_events` array (the JSON value of the POST form field).
-- Rules: `event` send -> delivery (Mandrill has no separate delivery event: `send` is its report
-- that the receiving server took the message, `msg.state` sent, the final state unless a bounce
-- follows; read as accepted-only, no Mandrill message would ever count as delivered); deferral -> delay; hard_bounce / soft_bounce -> bounce hard / soft;
-- reject -> reject; open, click; spam -> complaint; unsub -> unsubscribe. Sync events (`type`
-- whitelist/blacklist, no `event`) -> ignore. Others -> unknown.
-- message_id: the metadata key `message_id` (configurable) when present, else `<_id>:<recipient>`
-- (Mandrill documents one _id per recipient; public samples reuse one across recipients). ts: the event's `ts` (epoch seconds); sent_at: `msg.ts` (the send call).
-- Parameters: JSONPaths into `msg.metadata` (e.g. '$."account_id"'): $p_account, $p_list,
-- $p_campaign, $p_message_id, $p_sending_domain.
CREATE OR REPLACE TEMP TABLE __adp_events AS
WITH e AS (
    SELECT __file, __line, single, i1, bad, j,
           CASE WHEN bad IS NOT NULL THEN 'not valid JSON'
                WHEN j IS NULL OR NOT starts_with(ltrim(j::VARCHAR, ' ' || chr(9) || chr(10) || chr(13)), '{')
                    THEN 'a JSON object expected, found ' || coalesce(lower(json_type(j)), 'nothing')
           END AS perr,
           json_extract_string(j, [
               '$.event', '$._id', '$.ts', '$.msg.ts', '$.msg.email',                     -- 1-5
               '$.msg.tags[0]', '$.msg.sender', '$.msg.diag', '$.msg.bounce_description', -- 6-9
               '$.user_agent', '$.ip', '$.url', '$.type', '$.reject.email', '$.msg._id'   -- 10-15
           ]) AS x,
           json_extract(j, '$.msg.metadata') AS meta
    FROM __adp_items
), m AS (
    SELECT *,
           lower(x[1]) AS vtype0,
           dlv_addr(coalesce(x[5], x[14])) AS rcpt,
           NULLIF(regexp_replace(coalesce(x[8], ''), '^\s*smtp;\s*', ''), '') AS diag,
           json_extract_string(meta, [$p_account, $p_list, $p_campaign, $p_message_id, $p_sending_domain]) AS k
    FROM e
), t AS (
    SELECT *,
           coalesce(vtype0, CASE WHEN x[13] IS NOT NULL THEN 'sync/' || lower(x[13]) END) AS vtype,
           CASE WHEN perr IS NOT NULL THEN 'error'
                WHEN vtype0 = 'send' THEN 'delivery'
                WHEN vtype0 = 'deferral' THEN 'delay'
                WHEN vtype0 IN ('hard_bounce', 'soft_bounce') THEN 'bounce'
                WHEN vtype0 = 'reject' THEN 'reject'
                WHEN vtype0 = 'open' THEN 'open'
                WHEN vtype0 = 'click' THEN 'click'
                WHEN vtype0 = 'spam' THEN 'complaint'
                WHEN vtype0 = 'unsub' THEN 'unsubscribe'
                WHEN vtype0 IS NULL AND x[13] IS NOT NULL THEN 'ignore'
                ELSE 'unknown' END AS etype
    FROM m
)
SELECT __file, CASE WHEN single THEN i1 ELSE __line END AS __line,
       coalesce(bad, j::VARCHAR) AS __raw,
       CASE WHEN etype = 'error' THEN perr END AS __error,
       etype, vtype,
       CASE WHEN etype = 'ignore' THEN 'a sync event (an address added to or removed from the allow or deny list), not about a sent message' END AS note,
       coalesce(k[4], coalesce(x[2], x[15]) || ':' || rcpt) AS message_id,
       rcpt AS recipient,
       dlv_ts(x[3]) AS ts,
       dlv_ts(x[4]) AS sent_at,
       k[1] AS account_id,
       k[2] AS list_id,
       coalesce(k[3], x[6]) AS campaign_id,
       NULL::VARCHAR AS sending_ip,
       coalesce(k[5], NULLIF(split_part(x[7], '@', 2), '')) AS sending_domain,
       CASE WHEN etype = 'bounce' THEN CASE WHEN vtype0 = 'hard_bounce' THEN 'hard' ELSE 'soft' END END AS bounce_class,
       CASE WHEN etype IN ('bounce', 'delay') THEN dlv_smtp_code(diag) END AS smtp_code,
       CASE WHEN etype IN ('bounce', 'delay') THEN dlv_enhanced(diag) END AS enhanced_status,
       CASE WHEN etype IN ('bounce', 'delay', 'reject') THEN coalesce(diag, x[9]) END AS bounce_reason,
       CASE WHEN etype IN ('open', 'click') THEN x[10] END AS user_agent,
       CASE WHEN etype IN ('open', 'click') THEN x[11] END AS ip,
       CASE WHEN etype = 'click' THEN x[12] END AS url,
       NULL::VARCHAR AS event_id,
       NULL::VARCHAR AS is_machine,
       CASE WHEN etype = 'complaint' THEN 'mandrill_fbl' WHEN etype = 'unsubscribe' THEN 'link' END AS source
FROM t;
