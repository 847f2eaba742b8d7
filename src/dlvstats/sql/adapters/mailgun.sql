-- Mailgun events from __adp_items(__file, __line, single, bad, j, i1) to __adp_events (see
-- ingest/adapters/common.py). Accepted records: webhook payloads ({"signature", "event-data"}),
-- Events API pages ({"items": [...], "paging"}), or bare event objects (an Events API item).
-- message_id: the user-variable `message_id` (configurable) when present, else
-- `<message.headers.message-id>:<recipient>` (a Mailgun message may have several recipients).
-- timestamp: float epoch seconds. delivery-status.code 498, 499 and 6xx are Mailgun's internal
-- codes: no smtp_code, the reason says "Mailgun internal code ...".
-- Bot flag: client-info.bot (apple, generic -> machine; gmail ->
-- not a machine: Gmail's proxy fetches when the reader opens; empty -> false; absent -> unknown).
-- Parameters: JSONPaths into the event (e.g. '$."user-variables"."account_id"'): $p_account,
-- $p_list, $p_campaign, $p_message_id, $p_sending_domain.
CREATE OR REPLACE TEMP TABLE __adp_mg_ev AS
WITH n AS (
    SELECT __file, count(*) AS n_items FROM __adp_items GROUP BY __file
), w AS (
    SELECT __file, __line, single, bad, i1, j, json_extract(j, ['$.items', '$."event-data"']) AS w, n.n_items
    FROM __adp_items JOIN n USING (__file)
), lvl AS (
    SELECT *,
           CASE WHEN json_type(w[1]) = 'ARRAY' THEN json_extract(w[1], '$[*]')
                WHEN json_type(w[2]) = 'OBJECT' THEN [w[2]]
                ELSE [j] END AS evs,
           coalesce(json_type(w[1]) = 'ARRAY', false) AS is_page
    FROM w
)
SELECT __file, __line, single, bad, i1, is_page, n_items, unnest(evs) AS ed, generate_subscripts(evs, 1) AS i2
FROM lvl;

CREATE OR REPLACE TEMP TABLE __adp_events AS
WITH e AS (
    SELECT *,
           CASE WHEN bad IS NOT NULL THEN 'not valid JSON'
                WHEN ed IS NULL OR NOT starts_with(ltrim(ed::VARCHAR, ' ' || chr(9) || chr(10) || chr(13)), '{')
                    THEN 'a JSON object expected, found ' || coalesce(lower(json_type(ed)), 'nothing')
           END AS perr,
           json_extract_string(ed, [
               '$.event', '$.severity', '$.reason', '$.recipient', '$.timestamp', '$.id',                  -- 1-6
               '$.message.headers."message-id"', '$.tags[0]', '$.ip', '$.url',                             -- 7-10
               '$."delivery-status".code', '$."delivery-status".message', '$."delivery-status".description',
               '$."delivery-status"."enhanced-code"',                                                      -- 11-14
               '$.envelope."sending-ip"', '$.envelope.sender', '$.domain.name',                            -- 15-17
               '$."client-info"."user-agent"', '$."client-info".bot',                                      -- 18-19
               $p_account, $p_list, $p_campaign, $p_message_id, $p_sending_domain                          -- 20-24
           ]) AS x,
           json_exists(ed, '$."client-info".bot') AS has_bot,
           -- position: the physical line (JSON lines), else the record number in the batch or page
           CASE WHEN NOT single THEN __line WHEN n_items = 1 THEN i2 ELSE i1 END AS pos
    FROM __adp_mg_ev
), m AS (
    SELECT *,
           lower(x[1]) AS vtype, lower(x[2]) AS severity, lower(x[3]) AS reason,
           dlv_addr(x[4]) AS rcpt,
           NULLIF(concat_ws(' ', NULLIF(x[12], ''), NULLIF(x[13], '')), '') AS ds_text,
           -- 498/499 and 6xx are Mailgun's own codes (no MX, too old, could not connect,
           -- suppressed), not a receiving server's reply: never an smtp_code
           coalesce(x[11] IN ('498', '499') OR regexp_full_match(x[11], '6[0-9][0-9]'), false) AS mg_internal
    FROM e
), t AS (
    SELECT *,
           CASE WHEN perr IS NOT NULL THEN 'error'
                WHEN vtype = 'accepted' THEN 'send'
                WHEN vtype = 'delivered' THEN 'delivery'
                WHEN vtype = 'failed' AND starts_with(coalesce(reason, ''), 'suppress-') THEN 'reject'
                WHEN vtype = 'failed' AND severity = 'temporary' THEN 'delay'
                WHEN vtype = 'failed' THEN 'bounce'
                WHEN vtype = 'rejected' THEN 'reject'
                WHEN vtype = 'opened' THEN 'open'
                WHEN vtype = 'clicked' THEN 'click'
                WHEN vtype = 'complained' THEN 'complaint'
                WHEN vtype = 'unsubscribed' THEN 'unsubscribe'
                WHEN vtype IN ('stored', 'list_member_uploaded', 'list_member_upload_error', 'list_uploaded') THEN 'ignore'
                ELSE 'unknown' END AS etype
    FROM m
)
SELECT __file, pos AS __line, coalesce(bad, ed::VARCHAR) AS __raw,
       CASE WHEN etype = 'error' THEN perr END AS __error,
       etype, vtype,
       CASE WHEN etype = 'ignore' THEN 'storage or mailing-list event, not about a sent message' END AS note,
       coalesce(x[23], regexp_replace(x[7], '^<|>$', '', 'g') || ':' || rcpt) AS message_id,
       rcpt AS recipient,
       dlv_ts(x[5]) AS ts,
       NULL::VARCHAR AS sent_at,
       x[20] AS account_id,
       x[21] AS list_id,
       coalesce(x[22], x[8]) AS campaign_id,
       x[15] AS sending_ip,
       coalesce(x[24], x[17], NULLIF(split_part(x[16], '@', 2), '')) AS sending_domain,
       CASE WHEN etype = 'bounce' THEN CASE WHEN reason = 'espblock' THEN 'soft' ELSE 'hard' END END AS bounce_class,
       CASE WHEN etype IN ('bounce', 'delay') AND NOT mg_internal
                THEN coalesce(CASE WHEN regexp_full_match(coalesce(x[11], ''), '[245][0-9][0-9]') THEN x[11] END,
                              dlv_smtp_code(ds_text)) END AS smtp_code,
       CASE WHEN etype IN ('bounce', 'delay') THEN coalesce(x[14], dlv_enhanced(ds_text)) END AS enhanced_status,
       CASE WHEN etype IN ('bounce', 'delay') AND mg_internal
                THEN concat_ws(': ', 'Mailgun internal code ' || x[11] || ' (no SMTP reply)', coalesce(ds_text, reason))
            WHEN etype IN ('bounce', 'delay') THEN coalesce(ds_text, reason) END AS bounce_reason,
       CASE WHEN etype IN ('open', 'click') THEN x[18] END AS user_agent,
       CASE WHEN etype IN ('open', 'click') THEN x[9] END AS ip,
       CASE WHEN etype = 'click' THEN x[10] END AS url,
       x[6] AS event_id,
       CASE WHEN etype IN ('open', 'click') AND has_bot THEN
                CASE WHEN lower(coalesce(x[19], '')) IN ('', 'gmail') THEN 'false' ELSE 'true' END END AS is_machine,
       CASE WHEN etype = 'complaint' THEN 'mailgun_fbl' WHEN etype = 'unsubscribe' THEN 'link' END AS source
FROM t;

DROP TABLE IF EXISTS __adp_mg_ev;
