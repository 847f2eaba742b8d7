-- bounce_category: the category of every bounced message in scope, read from its SMTP reply, so a
-- blocklisting or a content block is not mistaken for dead addresses.
-- Grain: one row per bounced message (status = 'bounced', hard or soft) sent in
--        [$date_from, $date_to) (sent_at, UTC), of account $account_id (NULL = every account).
--        A TEMP table (__bounce_category), rebuilt by each metric call on its read-only connection.
-- Parameters: $date_from, $date_to, $account_id, $rules_path (a CSV with columns priority, field,
--             pattern, category, note; default dlvstats/data/bounce_categories.csv).
-- Columns: message_id, bounce_class, category, matched_by (the field of the rule that fired:
--          reason | enhanced_status | smtp_code | none), enhanced_status.
-- Rules: a rule applies when its RE2 pattern matches its field (bounce_reason; enhanced_status,
--   trimmed; smtp_code as text); the applicable rule with the lowest priority wins. The default
--   rules read the wording first: content ("554 5.7.1 content policy violation (URL reputation)" is
--   content), then blocklist/reputation ("550 5.1.1 blocked using Spamhaus" is a policy_block),
--   then authentication/policy; then the enhanced status code (RFC 3463: 5.1.1 invalid mailbox, 5.1.2 bad
--   domain, x.2.2 mailbox full, x.7.x policy, x.6.x content), then the remaining wording, then
--   the basic code. No rule: 'other'. Categories: invalid_mailbox, bad_domain, mailbox_full,
--   policy_block, content, other.
--   Patterns are evaluated once per distinct (smtp_code, enhanced_status, bounce_reason), not per
--   message.
CREATE OR REPLACE TEMP TABLE __bounce_category AS
WITH rules AS (
    SELECT *
    FROM read_csv($rules_path, header = true, auto_detect = false, quote = '"', escape = '"',
                  columns = {'priority': 'INTEGER', 'field': 'VARCHAR', 'pattern': 'VARCHAR',
                             'category': 'VARCHAR', 'note': 'VARCHAR'})
),
bounced AS (
    SELECT message_id, bounce_class, smtp_code, trim(enhanced_status) AS enhanced_status, bounce_reason
    FROM sends
    -- the scope written out (not dlv_in_scope): the bounce rules are also tried on bare DuckDB connections
    WHERE status = 'bounced'
      AND sent_at >= $date_from AND sent_at < $date_to
      AND ($account_id IS NULL OR account_id = $account_id)
),
replies AS (
    SELECT DISTINCT smtp_code, enhanced_status, bounce_reason FROM bounced
),
decided AS (
    SELECT p.smtp_code, p.enhanced_status, p.bounce_reason,
           arg_min(r.category, r.priority) AS category,
           arg_min(r.field, r.priority) AS matched_by
    FROM replies AS p
    JOIN rules AS r
      ON regexp_matches(
             CASE r.field
                 WHEN 'reason' THEN p.bounce_reason
                 WHEN 'enhanced_status' THEN p.enhanced_status
                 WHEN 'smtp_code' THEN CAST(p.smtp_code AS VARCHAR)
             END,
             r.pattern)
    GROUP BY ALL
)
SELECT b.message_id, b.bounce_class,
       coalesce(d.category, 'other') AS category,
       coalesce(d.matched_by, 'none') AS matched_by,
       b.enhanced_status
FROM bounced AS b
LEFT JOIN decided AS d
       ON d.smtp_code IS NOT DISTINCT FROM b.smtp_code
      AND d.enhanced_status IS NOT DISTINCT FROM b.enhanced_status
      AND d.bounce_reason IS NOT DISTINCT FROM b.bounce_reason;
