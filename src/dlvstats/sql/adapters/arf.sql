-- ARF reports parsed by ingest/adapters/arf.py (__adp_arf, one row per message) matched to their
-- sends (__adp_arf_sends: the database's `sends` plus sends staged by the same ingest) and
-- turned into __adp_events (see ingest/adapters/common.py).
-- Match order (the first that finds a send wins; ambiguous matches are not used):
--   1. own id header (X-Message-Id by default) = sends.message_id;
--   2. original Message-ID (without <>), or its part before '@' (SES) = sends.message_id;
--   3. `<that id>:<recipient>` (ids derived by the adapters), the recipient as reported or, when
--      redacted, the only recipient with that id;
--   4. recipient (not redacted) and date: the latest send to the recipient in the $match_days
--      days before the report.
-- Unmatched complaints keep the id they carry (an orphan, shown by `dlvstats info`) or the
-- recipient. account_id: the X-Account-Id header of the original, else the matched send's.
-- Parameters: $match_days.
CREATE OR REPLACE TEMP TABLE __adp_arf_r AS
SELECT row_number() OVER () AS rid, *,
       timezone('UTC', try_cast(ts AS TIMESTAMPTZ)) AS tsu,
       NULLIF(split_part(msgid, '@', 1), msgid) AS msgid_local
FROM __adp_arf;

CREATE OR REPLACE TEMP TABLE __adp_arf_keys AS
SELECT DISTINCT k FROM (
    SELECT own_id AS k FROM __adp_arf_r UNION ALL SELECT msgid FROM __adp_arf_r UNION ALL SELECT msgid_local FROM __adp_arf_r
) WHERE k IS NOT NULL;

CREATE OR REPLACE TEMP TABLE __adp_arf_cand AS
SELECT message_id, recipient, account_id, sent_at,
       regexp_replace(message_id, ':[^:]*$', '') AS base
FROM __adp_arf_sends
WHERE message_id IN (SELECT k FROM __adp_arf_keys)
   OR regexp_replace(message_id, ':[^:]*$', '') IN (SELECT k FROM __adp_arf_keys)
   OR recipient IN (SELECT recipient FROM __adp_arf_r WHERE recipient IS NOT NULL);

CREATE OR REPLACE TEMP TABLE __adp_arf_match AS
WITH c AS (
    SELECT r.rid, s.message_id, s.recipient, s.account_id, 1 AS rank, s.sent_at
    FROM __adp_arf_r AS r JOIN __adp_arf_cand AS s ON s.message_id = r.own_id
    UNION ALL
    SELECT r.rid, s.message_id, s.recipient, s.account_id, 2, s.sent_at
    FROM __adp_arf_r AS r JOIN __adp_arf_cand AS s ON s.message_id = r.msgid OR s.message_id = r.msgid_local
    UNION ALL
    SELECT r.rid, s.message_id, s.recipient, s.account_id, 3, s.sent_at
    FROM __adp_arf_r AS r JOIN __adp_arf_cand AS s
      ON s.message_id <> s.base AND (s.base = r.msgid OR s.base = r.msgid_local OR s.base = r.own_id)
     AND (r.recipient IS NULL OR s.recipient = r.recipient)
    UNION ALL
    SELECT r.rid, s.message_id, s.recipient, s.account_id, 4, s.sent_at
    FROM __adp_arf_r AS r JOIN __adp_arf_cand AS s ON s.recipient = r.recipient
     AND s.sent_at <= r.tsu AND s.sent_at >= r.tsu - to_days($match_days)
), best AS (
    SELECT *, min(rank) OVER (PARTITION BY rid) AS best_rank FROM c
), ranked AS (
    SELECT *, count(DISTINCT message_id) OVER (PARTITION BY rid) AS n,
           row_number() OVER (PARTITION BY rid ORDER BY sent_at DESC, message_id) AS k
    FROM best WHERE rank = best_rank
)
SELECT rid, message_id, recipient, account_id FROM ranked
WHERE k = 1 AND (n = 1 OR rank = 4);

CREATE OR REPLACE TEMP TABLE __adp_events AS
SELECT r.__file, r.__line, r.__raw, r.__error,
       CASE WHEN r.__error IS NOT NULL AND r.etype <> 'complaint' THEN 'error' ELSE r.etype END AS etype,
       r.vtype, r.note,
       coalesce(m.message_id, r.own_id, r.msgid) AS message_id,
       coalesce(r.recipient, m.recipient) AS recipient,
       r.ts, NULL::VARCHAR AS sent_at,
       coalesce(r.account_id, m.account_id) AS account_id,
       r.list_id, r.campaign_id,
       NULL::VARCHAR AS sending_ip, NULL::VARCHAR AS sending_domain,
       NULL::VARCHAR AS bounce_class, NULL::VARCHAR AS smtp_code, NULL::VARCHAR AS enhanced_status,
       NULL::VARCHAR AS bounce_reason, NULL::VARCHAR AS user_agent, NULL::VARCHAR AS ip, NULL::VARCHAR AS url,
       NULL::VARCHAR AS event_id, NULL::VARCHAR AS is_machine, r.source
FROM __adp_arf_r AS r LEFT JOIN __adp_arf_match AS m USING (rid);

DROP TABLE IF EXISTS __adp_arf_r;
DROP TABLE IF EXISTS __adp_arf_keys;
DROP TABLE IF EXISTS __adp_arf_cand;
DROP TABLE IF EXISTS __adp_arf_match;
DROP TABLE IF EXISTS __adp_arf;
