-- Exim mainlog lines (__adp_lines(__file, __line, raw)) to __adp_events (see
-- ingest/adapters/common.py). Grain: one event per delivery line of a message, by its flag
-- (Exim specification, "Log files"): `=>` delivered and `->` another recipient of the same
-- delivery -> delivery; `**` failed -> bounce; `==` deferred -> delay; `*>` delivery suppressed
-- (-N) -> ignore. The arrival line `<=` of the same Exim id gives the context: its time is
-- sent_at, its `id=` the message's Message-ID. Not sends, counted and skipped (notes): deliveries
-- of a bounce message Exim generated (arrival sender `<>`), and local recipients without a domain
-- (`=> root <root@host> R=system_aliases`). Other lines (Completed, queue runs, rejections of
-- incoming mail) are context or nothing and are not events.
-- Timestamps: `YYYY-MM-DD hh:mm:ss`, with an offset when Exim logs `+tz` (else local time: pass
-- --timezone), an optional `[pid]` (+pid). message_id: `<Message-ID>:<recipient>`, else
-- `exim:<exim id>:<recipient>`. sending_ip: `I=[ip]` (+outgoing_interface). bounce_class: hard
-- for 5.1.x / 5.2.1 or an unknown-user reply, else soft (a `**` failure can be a policy block).
-- Exim ids are unique for years on one host; a log merged from several hosts may reuse one.
-- Parameters: none.
CREATE OR REPLACE TEMP TABLE __adp_ex AS
SELECT __file, __line, raw,
       regexp_extract(raw, '^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)(?: ([+-]\d\d)(\d\d))?(?: \[\d+\])? ([0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}) (<=|=>|->|>>|\*>|\*\*|==) (.*)$',
                      ['d', 't', 'oh', 'om', 'eid', 'flag', 'rest']) AS s
FROM __adp_lines
WHERE raw IS NOT NULL;

CREATE OR REPLACE TEMP TABLE __adp_ex_arr AS
SELECT s.eid AS eid,
       arg_min(s.d || 'T' || s.t || CASE WHEN s.oh <> '' THEN s.oh || ':' || s.om ELSE '' END, __line) AS arrived,
       arg_min(split_part(s.rest, ' ', 1), __line) AS sender,
       arg_min(NULLIF(regexp_extract(s.rest, '\bid=<?([^<>\s]+)>?', 1), ''), __line) AS msgid
FROM __adp_ex
WHERE s.flag = '<='
GROUP BY s.eid;

CREATE OR REPLACE TEMP TABLE __adp_events AS
WITH d AS (
    SELECT e.__file, e.__line, e.raw, e.s.eid AS eid, e.s.flag AS flag, e.s.rest AS rest,
           e.s.d || 'T' || e.s.t || CASE WHEN e.s.oh <> '' THEN e.s.oh || ':' || e.s.om ELSE '' END AS ts,
           rtrim(split_part(e.s.rest, ' ', 1), ':') AS first_token,
           a.arrived, a.sender, a.msgid
    FROM __adp_ex AS e LEFT JOIN __adp_ex_arr AS a ON a.eid = e.s.eid
    WHERE e.s.flag IN ('=>', '->', '>>', '*>', '**', '==')
), k AS (
    SELECT *,
           dlv_addr(first_token) AS rcpt,
           NULLIF(coalesce(NULLIF(regexp_extract(rest, '\]:\s+(.*)$', 1), ''), regexp_extract(rest, '^\S+:\s+(.*)$', 1)), '') AS detail,
           CASE WHEN sender = '<>' THEN 'bounce-message'
                WHEN NOT regexp_full_match(dlv_addr(first_token), '[^@\s]+@[^@\s]+') THEN 'local'
                WHEN flag IN ('=>', '->', '>>') THEN 'delivery'
                WHEN flag = '**' THEN 'bounce'
                WHEN flag = '==' THEN 'delay'
                ELSE 'suppressed' END AS kind
    FROM d
)
SELECT __file, __line, raw AS __raw, NULL::VARCHAR AS __error,
       CASE WHEN kind IN ('delivery', 'bounce', 'delay') THEN kind ELSE 'ignore' END AS etype,
       CASE kind WHEN 'bounce-message' THEN 'bounce-message' WHEN 'local' THEN 'local-recipient'
                 WHEN 'suppressed' THEN 'suppressed (*>)' ELSE flag END AS vtype,
       CASE kind WHEN 'bounce-message' THEN 'a delivery of a bounce message Exim generated (sender <>), not a send'
                 WHEN 'local' THEN 'a local recipient without a domain (not an outbound delivery)'
                 WHEN 'suppressed' THEN 'a delivery suppressed by -N (nothing was sent)' END AS note,
       coalesce(msgid || ':' || rcpt, 'exim:' || eid || ':' || rcpt) AS message_id,
       rcpt AS recipient,
       ts,
       arrived AS sent_at,
       NULL::VARCHAR AS account_id, NULL::VARCHAR AS list_id, NULL::VARCHAR AS campaign_id,
       NULLIF(regexp_extract(rest, '\bI=\[([0-9A-Fa-f.:]+)\]', 1), '') AS sending_ip,
       NULLIF(split_part(sender, '@', 2), '') AS sending_domain,
       CASE WHEN kind = 'bounce' THEN
                CASE WHEN regexp_matches(coalesce(dlv_enhanced(detail), ''), '^5\.(1\.[0-9]+|2\.1)$') THEN 'hard'
                     WHEN regexp_matches(coalesce(detail, ''), '(?i)user unknown|unknown user|no such (user|mailbox)|does not exist|mailbox unavailable|invalid recipient') THEN 'hard'
                     ELSE 'soft' END END AS bounce_class,
       CASE WHEN kind IN ('bounce', 'delay') THEN dlv_smtp_code(detail) END AS smtp_code,
       CASE WHEN kind IN ('bounce', 'delay') THEN dlv_enhanced(detail) END AS enhanced_status,
       CASE WHEN kind IN ('bounce', 'delay') THEN coalesce(detail, rest) END AS bounce_reason,
       NULL::VARCHAR AS user_agent, NULL::VARCHAR AS ip, NULL::VARCHAR AS url,
       NULL::VARCHAR AS event_id, NULL::VARCHAR AS is_machine, NULL::VARCHAR AS source
FROM k;

DROP TABLE IF EXISTS __adp_ex_arr;
