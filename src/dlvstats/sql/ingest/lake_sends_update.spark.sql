-- Spark SQL (no DuckDB form: the DuckDB ingest runs update_sends_status.sql, an UPDATE, which a lake
-- of Parquet files has not). The stored sends a drop settles, as the rows they become: the same rule
-- as update_sends_status.sql — `bounced` or `delivered` replace `deferred` or `sent`; a settled status
-- is never undone — with the same column rules (the drop's delivery facts fill gaps, the stored
-- sending ip/domain win, the earliest sent_at, the drop's drop_id). `previous_month` is the month
-- partition the stored row sits in (its sent_at may move the row to an earlier month).
-- Reads the lake's `sends` and the drop's validated, deduplicated sends (__new_sends).
-- Grain: one row per stored message_id the drop settles.
CREATE OR REPLACE TEMP VIEW __settled_sends AS
SELECT s.message_id, least(s.sent_at, n.sent_at) AS sent_at, s.account_id, s.list_id, s.campaign_id,
       s.recipient, s.recipient_domain, s.provider, n.status,
       coalesce(n.delivered_at, s.delivered_at) AS delivered_at,
       coalesce(n.bounce_class, s.bounce_class) AS bounce_class,
       coalesce(n.smtp_code, s.smtp_code) AS smtp_code,
       coalesce(n.enhanced_status, s.enhanced_status) AS enhanced_status,
       coalesce(n.bounce_reason, s.bounce_reason) AS bounce_reason,
       coalesce(s.sending_ip, n.sending_ip) AS sending_ip,
       coalesce(s.sending_domain, n.sending_domain) AS sending_domain,
       n.drop_id,
       coalesce(date_format(s.sent_at, 'yyyy-MM'), 'unknown') AS previous_month
FROM sends AS s
JOIN __new_sends AS n ON s.message_id = n.message_id
WHERE s.status IN ('deferred', 'sent')
  AND n.status IN ('delivered', 'bounced');
