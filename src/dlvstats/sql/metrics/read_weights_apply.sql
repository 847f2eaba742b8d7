-- read_weights_apply: give every message of __eng_msg the read weight of its stratum.
-- Grain: updates __eng_msg (engagement_base.sql) in place, one weight per weight_key (provider|device).
-- Parameters: $weight_keys, $weight_values: aligned lists stratum -> 1 / (1 - image_blocked_share_used
-- of the stratum) from the stratified estimator (metrics/read_strata.py); $default_weight: for the
-- strata of providers without any human clicker (they take the overall share: said in the statuses).
UPDATE __eng_msg SET read_weight = $default_weight;
UPDATE __eng_msg AS m SET read_weight = w.read_weight
FROM (SELECT unnest($weight_keys) AS weight_key, unnest($weight_values) AS read_weight) AS w
WHERE m.weight_key = w.weight_key;
