-- Accounts: the account ids that have at least one send, to name them when --account matches none.
-- Grain: one row per account_id. Parameters: none.
SELECT account_id, count(*) AS sends
FROM sends
GROUP BY account_id
ORDER BY account_id;
