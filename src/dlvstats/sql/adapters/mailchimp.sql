-- Mailchimp Marketing API campaign reports from __adp_items(__file, __line, single, bad, j, i1) to
-- __adp_events (see ingest/adapters/common.py). Grain: one row per action of a report member.
-- Documents read (a response page as Mailchimp returns it, or one of its members):
--   GET /reports/{id}/email-activity  `emails[].activity[]`: action open, click (url), bounce (type
--                                     hard / soft), timestamp, ip -> open, click, bounce;
--   GET /reports/{id}/open-details    `members[].opens[]`: timestamp, is_proxy_open -> open with
--                                     is_machine (Apple Mail Privacy Protection and other proxies);
--                                     an open also listed by email-activity (same message and
--                                     second) is one open: it keeps email-activity's ip and takes
--                                     the proxy flag, the open-details copy is counted, not loaded;
--   GET /reports/{id}/sent-to         `sent_to[]`: status sent -> delivery (Mailchimp counts it a
--                                     successful delivery; no delivery time), hard / soft -> bounce;
--   GET /reports/{id}/unsubscribed    `unsubscribes[]` -> unsubscribe (source `admin` when the
--                                     reason says an admin did it, else `link`);
--   GET /reports/{id}/abuse-reports   `abuse_reports[]` -> complaint (source `mailchimp_abuse`);
--   GET /reports/{id}, /reports, GET /campaigns/{id}, /campaigns (`id`, `send_time`, `emails_sent`):
--                                     the campaign's send time, the `sent_at` of its sent-to rows;
--                                     the document itself is counted, not loaded.
-- message_id: `<campaign_id>:<md5 of the lower-cased address>` (Mailchimp's own `email_id`, the
-- subscriber hash; Mailchimp has no per-message id). sent_at: the campaign's `send_time`; a
-- sent-to row of a campaign whose report is not in the same path is refused with that reason.
-- Timestamps are ISO 8601 with offset. Mailchimp gives no user agent, SMTP code nor sending IP.
-- Position: the member's number in its page (one page per file), or the JSON-lines line.
CREATE OR REPLACE TEMP TABLE __adp_mc_members AS
WITH n AS (
    SELECT __file, count(*) AS n_items FROM __adp_items GROUP BY __file
), d AS (
    SELECT i.*, n.n_items,
           CASE WHEN i.bad IS NOT NULL OR i.j IS NULL OR json_type(i.j) <> 'OBJECT' THEN NULL
                WHEN json_type(i.j, '$.emails') = 'ARRAY' THEN 'emails'
                WHEN json_type(i.j, '$.sent_to') = 'ARRAY' THEN 'sent_to'
                WHEN json_type(i.j, '$.unsubscribes') = 'ARRAY' THEN 'unsubscribes'
                WHEN json_type(i.j, '$.abuse_reports') = 'ARRAY' THEN 'abuse_reports'
                WHEN json_type(i.j, '$.members') = 'ARRAY' THEN 'members'
                WHEN json_type(i.j, '$.reports') = 'ARRAY' THEN 'reports'
                WHEN json_type(i.j, '$.campaigns') = 'ARRAY' THEN 'campaigns'
           END AS collection
    FROM __adp_items AS i JOIN n USING (__file)
), l AS (
    SELECT *,
           CASE collection WHEN 'emails' THEN json_extract(j, '$.emails[*]') WHEN 'sent_to' THEN json_extract(j, '$.sent_to[*]')
                           WHEN 'unsubscribes' THEN json_extract(j, '$.unsubscribes[*]')
                           WHEN 'abuse_reports' THEN json_extract(j, '$.abuse_reports[*]')
                           WHEN 'members' THEN json_extract(j, '$.members[*]') WHEN 'reports' THEN json_extract(j, '$.reports[*]')
                           WHEN 'campaigns' THEN json_extract(j, '$.campaigns[*]') ELSE [j] END AS ms
    FROM d
), u AS (
    SELECT __file, __line, single, bad, i1, n_items, collection, j, unnest(ms) AS m, generate_subscripts(ms, 1) AS i2
    FROM l
)
SELECT *,
       -- which report a member belongs to: its collection, else (an instance) its own fields
       CASE WHEN bad IS NOT NULL OR m IS NULL OR json_type(m) <> 'OBJECT' THEN NULL
            WHEN collection IN ('emails') OR (collection IS NULL AND json_type(m, '$.activity') = 'ARRAY') THEN 'email-activity'
            WHEN (collection = 'members' OR collection IS NULL) AND json_type(m, '$.opens') = 'ARRAY' THEN 'open-details'
            WHEN collection = 'sent_to' OR (collection IS NULL AND json_exists(m, '$.status')
                 AND json_exists(m, '$.email_address') AND NOT json_exists(m, '$.timestamp')) THEN 'sent-to'
            WHEN collection = 'unsubscribes' OR (collection IS NULL AND json_exists(m, '$.reason')
                 AND json_exists(m, '$.email_address')) THEN 'unsubscribed'
            WHEN collection = 'abuse_reports' OR (collection IS NULL AND json_exists(m, '$.date')
                 AND json_exists(m, '$.email_address')) THEN 'abuse-reports'
            WHEN collection IN ('reports', 'campaigns') OR (collection IS NULL AND json_exists(m, '$.send_time')
                 AND json_exists(m, '$.emails_sent')) THEN 'report'
       END AS endpoint,
       CASE WHEN NOT single THEN __line WHEN n_items = 1 THEN i2 ELSE i1 END AS pos
FROM u;

-- send times of the campaigns whose report (or campaign) document is in this path
CREATE OR REPLACE TEMP TABLE __adp_mc_send AS
SELECT json_extract_string(m, '$.id') AS campaign_id, min(NULLIF(json_extract_string(m, '$.send_time'), '')) AS send_time
FROM __adp_mc_members WHERE endpoint = 'report' GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE __adp_mc_ev AS
WITH a AS (
    SELECT *, CASE endpoint WHEN 'email-activity' THEN json_extract(m, '$.activity[*]')
                            WHEN 'open-details' THEN json_extract(m, '$.opens[*]')
                            ELSE [NULL::JSON] END AS acts
    FROM __adp_mc_members
), x AS (
    SELECT *, unnest(acts) AS act,
           json_extract_string(m, ['$.campaign_id', '$.list_id', '$.email_address', '$.email_id', '$.status',
                                   '$.timestamp', '$.reason', '$.date']) AS f,
           json_extract_string(j, '$.campaign_id') AS page_campaign
    FROM a
), y AS (
    SELECT *,
           json_extract_string(act, ['$.action', '$.timestamp', '$.url', '$.ip', '$.type', '$.is_proxy_open']) AS g,
           dlv_addr(f[3]) AS rcpt,
           coalesce(NULLIF(f[1], ''), NULLIF(page_campaign, '')) AS camp
    FROM x
)
SELECT y.__file, y.pos AS __line, coalesce(y.bad, y.m::VARCHAR) AS __raw,
       CASE WHEN y.bad IS NOT NULL THEN 'not valid JSON'
            WHEN y.m IS NULL OR json_type(y.m) <> 'OBJECT'
                THEN 'a JSON object expected, found ' || coalesce(lower(json_type(y.m)), 'nothing')
            WHEN y.endpoint = 'sent-to' AND lower(y.f[5]) IN ('sent', 'hard', 'soft') AND s.send_time IS NULL
                THEN 'no send time for campaign ' || to_json(coalesce(y.camp, '?'))::VARCHAR || ': put the campaign''s '
                     || 'report (GET /reports/{campaign_id}) or the campaign (GET /campaigns/{campaign_id}) beside its sent-to file'
       END AS __error,
       y.endpoint,
       CASE y.endpoint WHEN 'email-activity' THEN lower(y.g[1]) WHEN 'open-details' THEN 'open-details open'
                       WHEN 'sent-to' THEN 'sent-to ' || coalesce(lower(y.f[5]), '(no status)')
                       WHEN 'unsubscribed' THEN 'unsubscribe' WHEN 'abuse-reports' THEN 'abuse report'
                       WHEN 'report' THEN 'campaign report' END AS vtype,
       y.camp || ':' || coalesce(md5(NULLIF(y.rcpt, '')), lower(y.f[4])) AS message_id,
       y.rcpt AS recipient,
       CASE WHEN y.endpoint IN ('email-activity', 'open-details') THEN y.g[2]
            WHEN y.endpoint = 'unsubscribed' THEN y.f[6] WHEN y.endpoint = 'abuse-reports' THEN y.f[8] END AS ts,
       s.send_time AS sent_at,
       NULLIF(y.f[2], '') AS list_id, y.camp AS campaign_id,
       CASE WHEN y.endpoint = 'email-activity' AND lower(y.g[1]) = 'bounce' THEN lower(y.g[5])
            WHEN y.endpoint = 'sent-to' AND lower(y.f[5]) IN ('hard', 'soft') THEN lower(y.f[5]) END AS bounce_class,
       NULLIF(y.g[4], '') AS ip, NULLIF(y.g[3], '') AS url,
       CASE WHEN y.endpoint = 'open-details' THEN lower(y.g[6]) END AS is_machine,
       CASE WHEN y.endpoint = 'abuse-reports' THEN 'mailchimp_abuse'
            WHEN y.endpoint = 'unsubscribed' THEN CASE WHEN regexp_matches(coalesce(y.f[7], ''), '(?i)\badmin') THEN 'admin' ELSE 'link' END
       END AS source,
       row_number() OVER ()::BIGINT AS __mc_seq
FROM y LEFT JOIN __adp_mc_send AS s ON s.campaign_id = y.camp;

-- an open listed by both email-activity and open-details is one open: pair them (same message,
-- same instant, in order) so that the email-activity row takes the proxy flag
CREATE OR REPLACE TEMP TABLE __adp_mc_pairs AS
WITH o AS (
    SELECT __mc_seq, endpoint, message_id, is_machine, try_cast(ts AS TIMESTAMPTZ) AS t,
           row_number() OVER (PARTITION BY endpoint, message_id, try_cast(ts AS TIMESTAMPTZ) ORDER BY __mc_seq) AS k
    FROM __adp_mc_ev
    WHERE __error IS NULL AND vtype IN ('open', 'open-details open') AND try_cast(ts AS TIMESTAMPTZ) IS NOT NULL
)
SELECT a.__mc_seq AS activity_seq, p.__mc_seq AS details_seq, p.is_machine
FROM o AS a JOIN o AS p ON a.endpoint = 'email-activity' AND p.endpoint = 'open-details'
     AND a.message_id = p.message_id AND a.t = p.t AND a.k = p.k;

CREATE OR REPLACE TEMP TABLE __adp_events AS
SELECT e.__file, e.__line, e.__raw, e.__error,
       CASE WHEN e.__error IS NOT NULL THEN 'error'
            WHEN e.endpoint IS NULL THEN 'unknown'
            WHEN dp.details_seq IS NOT NULL OR e.endpoint = 'report' THEN 'ignore'
            WHEN e.vtype IN ('open', 'open-details open') THEN 'open'
            WHEN e.vtype = 'click' THEN 'click'
            WHEN e.vtype = 'bounce' THEN 'bounce'
            WHEN e.vtype = 'sent-to sent' THEN 'delivery'
            WHEN e.vtype IN ('sent-to hard', 'sent-to soft') THEN 'bounce'
            WHEN e.vtype = 'unsubscribe' THEN 'unsubscribe'
            WHEN e.vtype = 'abuse report' THEN 'complaint'
            ELSE 'unknown' END AS etype,
       e.vtype,
       CASE WHEN e.endpoint = 'report' THEN 'the campaign''s send time, read as the sent_at of its sent-to rows'
            WHEN dp.details_seq IS NOT NULL THEN 'the same open as listed by email-activity, which takes its proxy flag' END AS note,
       e.message_id, e.recipient, e.ts, e.sent_at,
       NULL::VARCHAR AS account_id, e.list_id, e.campaign_id,
       NULL::VARCHAR AS sending_ip, NULL::VARCHAR AS sending_domain,
       e.bounce_class, NULL::VARCHAR AS smtp_code, NULL::VARCHAR AS enhanced_status, NULL::VARCHAR AS bounce_reason,
       NULL::VARCHAR AS user_agent, e.ip, e.url, NULL::VARCHAR AS event_id,
       coalesce(ap.is_machine, e.is_machine) AS is_machine,
       e.source
FROM __adp_mc_ev AS e
LEFT JOIN __adp_mc_pairs AS ap ON ap.activity_seq = e.__mc_seq
LEFT JOIN __adp_mc_pairs AS dp ON dp.details_seq = e.__mc_seq
ORDER BY e.__mc_seq;

DROP TABLE __adp_mc_members;
DROP TABLE __adp_mc_send;
DROP TABLE __adp_mc_ev;
DROP TABLE __adp_mc_pairs;
