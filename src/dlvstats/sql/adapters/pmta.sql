-- PowerMTA accounting records from __adp_pmta (one row per CSV record, logical column names,
-- built by ingest/adapters/pmta.py) to __adp_events (see ingest/adapters/common.py).
-- Record types: d -> delivery; b, rb -> bounce; t, tq -> delay; r -> send (received, accepted);
-- rs -> by dsnAction (delivered/relayed/expanded -> delivery, delayed -> delay, failed -> bounce);
-- f -> complaint when feedbackType is abuse (or empty), else a note.
-- bounce_class: bounceCat bad-mailbox, bad-domain, inactive-mailbox -> hard; any other
-- category -> soft; no category -> hard for enhanced status 5.1.x / 5.2.1, else soft.
-- message_id: the tag column (default header_x-message-id) when present; else
-- `<header_message-id>:<rcpt>`; else the derived key `pmta:<jobId>:<rcpt>[:<timeQueued>]`; with
-- neither jobId nor timeQueued, `pmta::<rcpt>:logged:<timeLogged>` (each record its own message:
-- records of one message are then not linked, but no two messages are merged).
-- sent_at: timeQueued. sending_ip: dlvSourceIp. sending_domain: the tag column, else the domain
-- of orig (the envelope sender).
CREATE OR REPLACE TEMP TABLE __adp_events AS
WITH m AS (
    SELECT *,
           lower(trim("type")) AS vtype,
           dlv_addr(rcpt) AS rc,
           lower(trim(dsnaction)) AS action,
           lower(trim(bouncecat)) AS cat,
           dlv_enhanced(dsnstatus) AS enh
    FROM __adp_pmta
), t AS (
    SELECT *,
           CASE WHEN __perr IS NOT NULL THEN 'error'
                WHEN vtype IN ('d', 'delivery') THEN 'delivery'
                WHEN vtype IN ('b', 'bounce', 'rb') THEN 'bounce'
                WHEN vtype IN ('t', 'tq', 'transient') THEN 'delay'
                WHEN vtype IN ('r', 'receive') THEN 'send'
                WHEN vtype = 'rs' AND action IN ('delivered', 'relayed', 'expanded') THEN 'delivery'
                WHEN vtype = 'rs' AND action = 'delayed' THEN 'delay'
                WHEN vtype = 'rs' AND action = 'failed' THEN 'bounce'
                WHEN vtype = 'rs' THEN 'ignore'
                WHEN vtype IN ('f', 'feedback-loop') AND coalesce(NULLIF(lower(trim(feedbacktype)), ''), 'abuse') = 'abuse' THEN 'complaint'
                WHEN vtype IN ('f', 'feedback-loop') THEN 'ignore'
                ELSE 'unknown' END AS etype
    FROM m
)
SELECT __file, __line, __raw, CASE WHEN etype = 'error' THEN __perr END AS __error,
       etype, vtype,
       CASE WHEN vtype = 'rs' THEN 'remote status with DSN action ' || coalesce(action, '?')
            ELSE 'feedback type ' || coalesce(feedbacktype, '?') || ' is not a spam complaint (only abuse is)' END AS note,
       coalesce(NULLIF(trim(tag_message_id), ''),
                regexp_replace(NULLIF(trim(header_message_id), ''), '^<|>$', '', 'g') || ':' || rc,
                'pmta:' || coalesce(trim(jobid), '') || ':' || rc || coalesce(':' || NULLIF(trim(timequeued), ''),
                    -- neither jobId nor timeQueued (the User's Guide example): the record's own
                    -- log time keeps two messages to one recipient apart
                    CASE WHEN NULLIF(trim(jobid), '') IS NULL
                         THEN ':logged:' || coalesce(NULLIF(trim(timelogged), ''), NULLIF(trim(arrivaldate), ''), __file || ':' || __line) END,
                    '')) AS message_id,
       CASE WHEN etype = 'complaint' AND regexp_matches(coalesce(rc, ''), '^(\[?redacted\]?|x{3,}|\*+)@') THEN NULL ELSE rc END AS recipient,
       dlv_ts(coalesce(NULLIF(trim(timelogged), ''), NULLIF(trim(arrivaldate), ''))) AS ts,
       dlv_ts(timequeued) AS sent_at,
       NULLIF(trim(tag_account_id), '') AS account_id,
       NULLIF(trim(tag_list_id), '') AS list_id,
       coalesce(NULLIF(trim(tag_campaign_id), ''), NULLIF(trim(jobid), '')) AS campaign_id,
       NULLIF(trim(dlvsourceip), '') AS sending_ip,
       coalesce(NULLIF(trim(tag_sending_domain), ''), NULLIF(split_part(dlv_addr(orig), '@', 2), '')) AS sending_domain,
       CASE WHEN etype = 'bounce' THEN
                CASE WHEN cat IN ('bad-mailbox', 'bad-domain', 'inactive-mailbox') THEN 'hard'
                     WHEN cat IS NOT NULL AND cat <> '' THEN 'soft'
                     WHEN regexp_matches(coalesce(enh, ''), '^5\.(1\.[0-9]+|2\.1)$') THEN 'hard'
                     ELSE 'soft' END END AS bounce_class,
       CASE WHEN etype IN ('bounce', 'delay') THEN dlv_smtp_code(dsndiag) END AS smtp_code,
       CASE WHEN etype IN ('bounce', 'delay') THEN coalesce(enh, dlv_enhanced(dsndiag)) END AS enhanced_status,
       CASE WHEN etype IN ('bounce', 'delay') THEN coalesce(NULLIF(regexp_replace(dsndiag, '^\s*smtp;\s*', ''), ''), bouncecat) END AS bounce_reason,
       NULL::VARCHAR AS user_agent, NULL::VARCHAR AS ip, NULL::VARCHAR AS url,
       NULL::VARCHAR AS event_id, NULL::VARCHAR AS is_machine,
       CASE WHEN etype = 'complaint' THEN
                CASE WHEN regexp_matches(coalesce(useragent, ''), '(?i)yahoo|aol') THEN 'yahoo_cfl'
                     WHEN regexp_matches(coalesce(useragent, ''), '(?i)microsoft|hotmail|outlook|jmrp|msn') THEN 'microsoft_jmrp'
                     ELSE 'pmta_fbl' END END AS source
FROM t;

DROP TABLE IF EXISTS __adp_pmta;
