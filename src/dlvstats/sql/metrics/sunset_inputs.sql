-- sunset_inputs: what the sunset recommendation rests on, counted, so it can refuse rather than guess.
-- Grain: one row. Parameters: $date_from, $date_to (half-open, UTC), $account_id (NULL = all accounts).
-- Columns: orders_loaded (orders of the account in all loaded data: 0 means no order file was ever
-- loaded, so lost revenue cannot be counted); orders_in_period (orders dated in the period);
-- complaints_in_period (delivered messages sent in the period that drew a complaint).
SELECT
    (SELECT count(*) FROM orders WHERE $account_id IS NULL OR account_id = $account_id) AS orders_loaded,
    (SELECT count(*) FROM orders WHERE dlv_of_account(account_id, $account_id)
        AND dlv_in_period(ts, $date_from, $date_to)) AS orders_in_period,
    (SELECT count(*) FROM message_facts WHERE dlv_of_account(account_id, $account_id)
        AND dlv_in_period(sent_at, $date_from, $date_to) AND is_delivered AND has_complaint) AS complaints_in_period;
