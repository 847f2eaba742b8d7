-- Postfix maillog lines (__adp_lines(__file, __line, raw), __adp_pf_files(__file, year, mtime))
-- to __adp_events (see ingest/adapters/common.py). Every `status=` line of a delivery agent
-- (smtp, lmtp, local, virtual, pipe, error, ...) is one event: sent -> delivery, bounced and
-- expired -> bounce, deferred -> delay; a recipient without a domain (`to=<system>`, local) and a
-- local alias `status=sent (forwarded as QID)` are counted and skipped (notes), not sends: the
-- forwarded copy's own delivery line is the send; other lines give context, joined through the queue id
-- (per host; a queue id's life ends at its `removed` line, so reused ids do not mix):
-- cleanup `message-id=`, qmgr `from=`, and headers logged by header_checks INFO/WARN actions
-- (`info: header X-Campaign-Id: ...`). Timestamps: RFC 3339 (kept) or classic syslog
-- `Mmm dd hh:mm:ss` with the year from $year or the file's modification time (a date after the
-- file was written belongs to the year before); both are local time unless they carry an offset,
-- so pass --timezone. message_id: the logged header `X-Message-Id` (configurable), else
-- `<message-id>:<recipient>`, else `postfix:<host>:<queue id>:<recipient>`.
-- Parameters: $h_message_id, $h_account, $h_list, $h_campaign, $h_sending_domain (lower-case
-- header names).
CREATE OR REPLACE TEMP TABLE __adp_pf AS
WITH p AS (
    SELECT l.__file, l.__line, l.raw, f.year, f.mtime,
           regexp_extract(l.raw, '^(\d{4}-\d\d-\d\dT\S+|[A-Z][a-z]{2}\s+\d{1,2}\s+\d\d:\d\d:\d\d)\s+(\S+)\s+(postfix[^\[:\s]*)(?:\[\d+\])?:\s+(.*)$',
                          ['stamp', 'host', 'prog', 'msg']) AS s
    FROM __adp_lines AS l JOIN __adp_pf_files AS f USING (__file)
), q AS (
    SELECT *,
           regexp_extract(s.msg, '^([0-9A-F]{6,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}):\s+(.*)$', ['qid', 'rest']) AS r,
           CASE WHEN regexp_matches(s.stamp, '^\d{4}-') THEN NULL
                ELSE strptime(year::VARCHAR || ' ' || regexp_replace(s.stamp, '\s+', ' ', 'g'), '%Y %b %d %H:%M:%S') END AS naive
    FROM p
    WHERE s.stamp <> ''
)
SELECT __file, __line, raw, s.host AS host, s.prog AS prog, NULLIF(r.qid, '') AS qid, r.rest AS rest,
       CASE WHEN naive IS NULL THEN s.stamp
            WHEN mtime IS NOT NULL AND naive > mtime + INTERVAL 1 DAY THEN strftime(naive - INTERVAL 1 YEAR, '%Y-%m-%dT%H:%M:%S')
            ELSE strftime(naive, '%Y-%m-%dT%H:%M:%S') END AS ts,
       try_cast(CASE WHEN naive IS NULL THEN s.stamp
                     WHEN mtime IS NOT NULL AND naive > mtime + INTERVAL 1 DAY THEN strftime(naive - INTERVAL 1 YEAR, '%Y-%m-%dT%H:%M:%S')
                     ELSE strftime(naive, '%Y-%m-%dT%H:%M:%S') END AS TIMESTAMPTZ) AS tsz
FROM q;

CREATE OR REPLACE TEMP TABLE __adp_pf_seg AS
SELECT *,
       coalesce(sum(CASE WHEN rest = 'removed' THEN 1 ELSE 0 END) OVER (
           PARTITION BY host, qid ORDER BY tsz, __file, __line ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS seg
FROM __adp_pf
WHERE qid IS NOT NULL;

CREATE OR REPLACE TEMP TABLE __adp_pf_hdr AS
WITH h AS (
    SELECT host, qid, seg,
           lower(regexp_extract(rest, '^(?:info|warning|hold|discard|filter|redirect): header ([A-Za-z0-9_-]+): ', 1)) AS hname,
           regexp_extract(rest, '^(?:info|warning|hold|discard|filter|redirect): header [A-Za-z0-9_-]+: (.*?) from [^;]*;', 1) AS hvalue
    FROM __adp_pf_seg
    WHERE regexp_matches(rest, '^(?:info|warning|hold|discard|filter|redirect): header ')
)
SELECT host, qid, seg,
       min(hvalue) FILTER (WHERE hname = $h_message_id) AS h_message_id,
       min(hvalue) FILTER (WHERE hname = $h_account) AS h_account,
       min(hvalue) FILTER (WHERE hname = $h_list) AS h_list,
       min(hvalue) FILTER (WHERE hname = $h_campaign) AS h_campaign,
       min(hvalue) FILTER (WHERE hname = $h_sending_domain) AS h_sending_domain
FROM h
GROUP BY host, qid, seg;

CREATE OR REPLACE TEMP TABLE __adp_pf_ctx AS
SELECT s.host, s.qid, s.seg,
       arg_min(s.ts, s.tsz) AS first_ts,
       min(NULLIF(regexp_extract(s.rest, '^message-id=<?([^<>\s]*)>?', 1), '')) AS msgid,
       min(NULLIF(regexp_extract(s.rest, '^from=<([^>]*)>', 1), '')) AS sender,
       any_value(h.h_message_id) AS h_message_id, any_value(h.h_account) AS h_account,
       any_value(h.h_list) AS h_list, any_value(h.h_campaign) AS h_campaign,
       any_value(h.h_sending_domain) AS h_sending_domain
FROM __adp_pf_seg AS s
LEFT JOIN __adp_pf_hdr AS h USING (host, qid, seg)
GROUP BY s.host, s.qid, s.seg;

CREATE OR REPLACE TEMP TABLE __adp_events AS
WITH st AS (
    SELECT s.*,
           regexp_extract(s.rest, '^to=<([^>]*)>.*?\bstatus=([a-z]+)(.*)$', ['rcpt', 'status', 'tail']) AS m,
           NULLIF(regexp_extract(s.rest, '\bdsn=([0-9.]+)', 1), '') AS dsn
    FROM __adp_pf_seg AS s
    WHERE regexp_matches(s.rest, '^to=<[^>]*>.*\bstatus=')
), ev0 AS (
    SELECT st.*, c.first_ts, c.msgid, c.sender, c.h_message_id, c.h_account, c.h_list, c.h_campaign, c.h_sending_domain,
           dlv_addr(m.rcpt) AS rcpt, m.status AS status, NULLIF(regexp_extract(m.tail, '\((.*)\)\s*$', 1), '') AS detail,
           CASE WHEN NOT regexp_full_match(dlv_addr(m.rcpt), '[^@\s]+@[^@\s]+') THEN 'local'
                WHEN m.status = 'sent' AND regexp_matches(m.tail, '\(forwarded as [0-9A-Za-z]+\)') THEN 'forward'
                WHEN m.status = 'sent' THEN 'delivery' WHEN m.status IN ('bounced', 'expired') THEN 'bounce'
                WHEN m.status = 'deferred' THEN 'delay' ELSE 'ignore' END AS kind
    FROM st LEFT JOIN __adp_pf_ctx AS c USING (host, qid, seg)
), ev AS (
    SELECT *, CASE WHEN kind IN ('local', 'forward') THEN 'ignore' ELSE kind END AS etype FROM ev0
)
SELECT __file, __line, raw AS __raw, NULL::VARCHAR AS __error,
       etype,
       CASE kind WHEN 'local' THEN 'local-recipient' WHEN 'forward' THEN 'forwarded' ELSE 'status=' || status END AS vtype,
       CASE kind WHEN 'local' THEN 'a local recipient without a domain (not an outbound delivery)'
                 WHEN 'forward' THEN 'a local alias forwarded as a new queue id (that queue id''s delivery is the send)'
                 ELSE 'a status that is not a delivery outcome (e.g. address verification)' END AS note,
       coalesce(NULLIF(trim(h_message_id), ''), msgid || ':' || rcpt, 'postfix:' || host || ':' || qid || ':' || rcpt) AS message_id,
       rcpt AS recipient,
       ts,
       first_ts AS sent_at,
       NULLIF(trim(h_account), '') AS account_id,
       NULLIF(trim(h_list), '') AS list_id,
       NULLIF(trim(h_campaign), '') AS campaign_id,
       NULL::VARCHAR AS sending_ip,
       coalesce(NULLIF(trim(h_sending_domain), ''), NULLIF(split_part(sender, '@', 2), '')) AS sending_domain,
       CASE WHEN etype = 'bounce' THEN
                CASE WHEN status = 'expired' THEN 'soft'
                     WHEN regexp_matches(coalesce(dsn, ''), '^5\.(1\.[0-9]+|2\.1)$') THEN 'hard'
                     WHEN regexp_matches(coalesce(detail, ''), '(?i)user unknown|unknown user|no such (user|mailbox)|does not exist|recipient address rejected|mailbox unavailable|invalid recipient') THEN 'hard'
                     ELSE 'soft' END END AS bounce_class,
       CASE WHEN etype IN ('bounce', 'delay') THEN dlv_smtp_code(detail) END AS smtp_code,
       CASE WHEN etype IN ('bounce', 'delay') THEN coalesce(dsn, dlv_enhanced(detail)) END AS enhanced_status,
       CASE WHEN etype IN ('bounce', 'delay') THEN coalesce(detail, 'status=' || status || m.tail) END AS bounce_reason,
       NULL::VARCHAR AS user_agent, NULL::VARCHAR AS ip, NULL::VARCHAR AS url,
       NULL::VARCHAR AS event_id, NULL::VARCHAR AS is_machine, NULL::VARCHAR AS source
FROM ev;

DROP TABLE IF EXISTS __adp_pf_seg;
DROP TABLE IF EXISTS __adp_pf_ctx;
DROP TABLE IF EXISTS __adp_pf_hdr;
