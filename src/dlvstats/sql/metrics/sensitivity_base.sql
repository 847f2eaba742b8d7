-- sensitivity_base: a private in-memory scratch database holding only what the sensitivity table
-- relabels, so that each rule set's preview costs what the period's events cost, not the whole file.
-- Grain: scratch tables (catalog sens_scratch, made the default by USE at the end):
--   people  one row per recipient: n_delivered = delivered messages sent in [$date_from, $date_to)
--           (UTC, sent_at), of $account_id when given;
--   sends   the delivered messages of the period that have at least one open or click (the columns
--           the classifier reads);
--   opens, clicks  every event of those messages (all columns).
-- Parameters: $date_from, $date_to, $account_id (NULL = all accounts).
-- Rules: the stored database is only read (it is attached read-only); the classifier's SQL
-- (sql/classify) then runs unchanged against the scratch tables. A campaign's link count (used by
-- the burst rule) is counted over the period's clicks only.
ATTACH IF NOT EXISTS ':memory:' AS sens_scratch (READ_WRITE);
CREATE OR REPLACE TABLE sens_scratch.people AS
SELECT recipient, count(*) AS n_delivered
FROM sends
WHERE sent_at >= $date_from AND sent_at < $date_to
  AND ($account_id IS NULL OR account_id = $account_id)
  AND status = 'delivered'
GROUP BY recipient;
CREATE OR REPLACE TABLE sens_scratch.sends AS
WITH with_events AS (SELECT message_id FROM opens UNION SELECT message_id FROM clicks)
SELECT s.message_id, s.sent_at, s.delivered_at, s.account_id, s.campaign_id, s.recipient, s.status, s.drop_id
FROM sends AS s
SEMI JOIN with_events USING (message_id)
WHERE s.sent_at >= $date_from AND s.sent_at < $date_to
  AND ($account_id IS NULL OR s.account_id = $account_id)
  AND s.status = 'delivered';
CREATE OR REPLACE TABLE sens_scratch.opens AS
SELECT o.* FROM opens AS o SEMI JOIN sens_scratch.sends AS s USING (message_id);
CREATE OR REPLACE TABLE sens_scratch.clicks AS
SELECT k.* FROM clicks AS k SEMI JOIN sens_scratch.sends AS s USING (message_id);
USE sens_scratch;
