-- sensitivity_base: a private in-memory scratch database holding only what the sensitivity table
-- relabels, so that each rule set's preview costs what the period's events cost, not the whole file.
-- Grain: scratch tables (catalog sens_scratch, made the default by USE at the end):
--   people  one row per recipient: n_delivered = delivered messages sent in [$date_from, $date_to)
--           (UTC, sent_at), of $account_id when given;
--   sends   the delivered messages of the period that have at least one open or click (the columns
--           the classifier reads);
--   opens, clicks  every event of those messages (all columns);
--   people_keys, msg_keys, open_keys, click_keys  integer keys of recipients and messages (pid, msg)
--           and the msg of every open and click, for sensitivity.sql.
-- Parameters: $date_from, $date_to, $account_id (NULL = all accounts).
-- Rules: the stored database is only read (it is attached read-only); the classifier's SQL
-- (sql/classify) then runs unchanged against the scratch tables. A campaign's link count (used by
-- the burst rule) is counted over the period's clicks only.
ATTACH IF NOT EXISTS ':memory:' AS sens_scratch (READ_WRITE);
CREATE OR REPLACE TABLE sens_scratch.people AS
SELECT recipient, count(*) AS n_delivered
FROM sends
WHERE dlv_in_scope(sent_at, account_id, $date_from, $date_to, $account_id)
  AND status = 'delivered'
GROUP BY recipient;
CREATE OR REPLACE TABLE sens_scratch.sends AS
WITH with_events AS (SELECT message_id FROM opens UNION SELECT message_id FROM clicks)
SELECT s.message_id, s.sent_at, s.delivered_at, s.account_id, s.campaign_id, s.recipient, s.status, s.drop_id
FROM sends AS s
SEMI JOIN with_events USING (message_id)
WHERE dlv_in_scope(s.sent_at, s.account_id, $date_from, $date_to, $account_id)
  AND s.status = 'delivered';
CREATE OR REPLACE TABLE sens_scratch.opens AS
SELECT o.* FROM opens AS o SEMI JOIN sens_scratch.sends AS s USING (message_id);
CREATE OR REPLACE TABLE sens_scratch.clicks AS
SELECT k.* FROM clicks AS k SEMI JOIN sens_scratch.sends AS s USING (message_id);
-- integer keys, built once for every rule set: pid per recipient, msg per scratch message, and the
-- message of every open and click event (sensitivity.sql groups and joins on these, not on strings)
CREATE OR REPLACE TABLE sens_scratch.people_keys AS
SELECT recipient, CAST(row_number() OVER () AS INTEGER) AS pid FROM sens_scratch.people;
CREATE OR REPLACE TABLE sens_scratch.msg_keys AS
SELECT s.message_id, CAST(row_number() OVER () AS INTEGER) AS msg, p.pid
FROM sens_scratch.sends AS s JOIN sens_scratch.people_keys AS p USING (recipient);
CREATE OR REPLACE TABLE sens_scratch.open_keys AS
SELECT o.event_key, m.msg FROM sens_scratch.opens AS o JOIN sens_scratch.msg_keys AS m USING (message_id);
CREATE OR REPLACE TABLE sens_scratch.click_keys AS
SELECT k.event_key, m.msg FROM sens_scratch.clicks AS k JOIN sens_scratch.msg_keys AS m USING (message_id);
USE sens_scratch;
