-- What is loaded (temp __networks): one row per (network, kind) with its prefixes, addresses,
-- snapshot date, age in days (today's date minus the snapshot's) and source. Grain: network, kind.
SELECT network, kind, count(DISTINCT cidr) AS prefixes,
       sum(end_int - start_int + 1)::BIGINT AS addresses,
       min(snapshot_date) AS snapshot_date,
       date_diff('day', min(try_cast(snapshot_date AS DATE)), current_date) AS age_days,
       any_value(source) AS source
FROM __networks GROUP BY ALL ORDER BY kind, network;
