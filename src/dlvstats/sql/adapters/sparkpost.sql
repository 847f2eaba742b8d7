-- SparkPost (Bird) event webhooks from __adp_items(__file, __line, single, bad, j, i1) to
-- __adp_events (see ingest/adapters/common.py). Grain: one row per batch element
-- {"msys": {"<class>_event": {...}}}; an empty `msys` (SparkPost's test ping) is ignored.
-- Rules: `type` injection -> send; delivery -> delivery; bounce, out_of_band -> by bounce_class
-- (10, 25, 30, 90 hard; 20-24, 40, 50-54, 70, 1 soft; 60, 80, 100 auto-reply/subscribe/challenge
-- -> ignore); delay -> delay; policy_rejection, generation_rejection, generation_failure -> reject;
-- spam_complaint -> complaint; open, amp_open -> open; initial_open, amp_initial_open -> ignore
-- (the top-of-message pixel of the same view); click, amp_click -> click; list_unsubscribe,
-- link_unsubscribe -> unsubscribe; relay_* and sms_status -> ignore; others -> unknown.
-- message_id: the rcpt_meta key `message_id` (configurable) when present, else
-- `<transmission_id>:<rcpt_to>`, else `message_id`. timestamp: epoch seconds or ISO 8601.
-- Parameters: JSONPaths into `rcpt_meta` (e.g. '$."account_id"'): $p_account, $p_list,
-- $p_campaign, $p_message_id, $p_sending_domain.
CREATE OR REPLACE TEMP TABLE __adp_events AS
WITH e AS (
    SELECT __file, __line, single, i1, bad, j,
           CASE WHEN bad IS NOT NULL THEN 'not valid JSON'
                WHEN j IS NULL OR NOT starts_with(ltrim(j::VARCHAR, ' ' || chr(9) || chr(10) || chr(13)), '{')
                    THEN 'a JSON object expected, found ' || coalesce(lower(json_type(j)), 'nothing')
           END AS perr,
           CASE WHEN json_type(j, '$.msys') = 'OBJECT' THEN json_keys(j, '$.msys') END AS classes
    FROM __adp_items
), ev AS (
    SELECT *,
           CASE WHEN len(classes) >= 1 THEN json_extract(j, '$.msys."' || classes[1] || '"') END AS ed
    FROM e
), x AS (
    SELECT *,
           json_extract_string(ed, [
               '$.type', '$.rcpt_to', '$.raw_rcpt_to', '$.transmission_id', '$.message_id',   -- 1-5
               '$.timestamp', '$.campaign_id', '$.sending_ip', '$.bounce_class',              -- 6-9
               '$.raw_reason', '$.reason', '$.error_code', '$.user_agent', '$.ip_address',    -- 10-14
               '$.target_link_url', '$.event_id', '$.friendly_from', '$.fbtype'               -- 15-18
           ]) AS x,
           json_extract(ed, '$.rcpt_meta') AS meta
    FROM ev
), m AS (
    SELECT *,
           lower(x[1]) AS vtype,
           dlv_addr(coalesce(x[2], x[3])) AS rcpt,
           try_cast(x[9] AS INTEGER) AS bclass,
           NULLIF(coalesce(x[10], x[11]), '') AS diag,
           json_extract_string(meta, [$p_account, $p_list, $p_campaign, $p_message_id, $p_sending_domain]) AS k
    FROM x
), t AS (
    SELECT *,
           CASE WHEN perr IS NOT NULL THEN 'error'
                WHEN classes IS NOT NULL AND len(classes) = 0 THEN 'ignore'
                WHEN vtype = 'injection' THEN 'send'
                WHEN vtype = 'delivery' THEN 'delivery'
                WHEN vtype IN ('bounce', 'out_of_band') AND bclass IN (60, 80, 100) THEN 'ignore'
                WHEN vtype IN ('bounce', 'out_of_band') THEN 'bounce'
                WHEN vtype = 'delay' THEN 'delay'
                WHEN vtype IN ('policy_rejection', 'generation_rejection', 'generation_failure') THEN 'reject'
                WHEN vtype = 'spam_complaint' THEN 'complaint'
                WHEN vtype IN ('open', 'amp_open') THEN 'open'
                WHEN vtype IN ('initial_open', 'amp_initial_open') THEN 'ignore'
                WHEN vtype IN ('click', 'amp_click') THEN 'click'
                WHEN vtype IN ('list_unsubscribe', 'link_unsubscribe') THEN 'unsubscribe'
                WHEN starts_with(coalesce(vtype, ''), 'relay_') OR vtype = 'sms_status' THEN 'ignore'
                ELSE 'unknown' END AS etype
    FROM m
)
SELECT __file, CASE WHEN single THEN i1 ELSE __line END AS __line,
       coalesce(bad, j::VARCHAR) AS __raw,
       CASE WHEN etype = 'error' THEN perr END AS __error,
       etype,
       CASE WHEN classes IS NOT NULL AND len(classes) = 0 THEN 'ping'
            WHEN vtype IN ('bounce', 'out_of_band') AND bclass IN (60, 80, 100) THEN vtype || '/' || bclass
            ELSE vtype END AS vtype,
       CASE WHEN etype = 'ignore' THEN
                CASE WHEN vtype IN ('initial_open', 'amp_initial_open') THEN 'the top-of-message pixel; the `open` event of the same view is loaded'
                     WHEN vtype IN ('bounce', 'out_of_band') THEN 'an auto-reply, subscribe request or challenge-response, not a delivery failure'
                     ELSE 'not about a sent message (test ping, inbound relay, SMS)' END END AS note,
       coalesce(k[4], x[4] || ':' || rcpt, x[5]) AS message_id,
       rcpt AS recipient,
       dlv_ts(x[6]) AS ts,
       NULL::VARCHAR AS sent_at,
       k[1] AS account_id,
       k[2] AS list_id,
       coalesce(k[3], NULLIF(x[7], '')) AS campaign_id,
       x[8] AS sending_ip,
       coalesce(k[5], NULLIF(split_part(x[17], '@', 2), '')) AS sending_domain,
       CASE WHEN etype = 'bounce' THEN CASE WHEN bclass IN (10, 25, 30, 90) THEN 'hard' ELSE 'soft' END END AS bounce_class,
       CASE WHEN etype IN ('bounce', 'delay') THEN coalesce(CASE WHEN regexp_full_match(coalesce(x[12], ''), '[245][0-9][0-9]') THEN x[12] END,
                                                            dlv_smtp_code(diag)) END AS smtp_code,
       CASE WHEN etype IN ('bounce', 'delay') THEN dlv_enhanced(diag) END AS enhanced_status,
       CASE WHEN etype IN ('bounce', 'delay', 'reject') THEN diag END AS bounce_reason,
       CASE WHEN etype IN ('open', 'click') THEN x[13] END AS user_agent,
       CASE WHEN etype IN ('open', 'click') THEN x[14] END AS ip,
       CASE WHEN etype = 'click' THEN x[15] END AS url,
       x[16] AS event_id,
       NULL::VARCHAR AS is_machine,
       CASE WHEN etype = 'complaint' THEN 'sparkpost_' || coalesce(NULLIF(lower(x[18]), ''), 'fbl')
            WHEN vtype = 'list_unsubscribe' THEN 'list_unsubscribe'
            WHEN etype = 'unsubscribe' THEN 'link' END AS source
FROM t;
