-- Insert staged orders not stored yet. Grain: one row per (account_id, order_id); first seen wins.
-- Parameters: $drop_id.
INSERT INTO orders
SELECT ts, account_id, recipient, order_id, amount, campaign_id, $drop_id
FROM __new_orders AS n
ANTI JOIN orders AS existing
    ON existing.account_id = n.account_id AND existing.order_id = n.order_id;
