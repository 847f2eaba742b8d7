-- The networks to match, from the shipped snapshot and any user files ($files, a list of CSV paths;
-- columns cidr, network, kind[, source, snapshot_date]; checked line by line beforehand by
-- dlvstats.networks.check_file). Grain: one row per (prefix, /8 bucket): a prefix shorter than /8
-- is split into the /8s it covers, so matching is an equi-join on the first octet plus a range test
-- (see match.sql). prefix_len lets the most specific range win when lists overlap (an Apple relay
-- block inside Cloudflare's ranges is Apple egress).
CREATE OR REPLACE TEMP TABLE __networks AS
WITH raw AS (
    SELECT trim(cidr) AS cidr, trim(network) AS network, trim(kind) AS kind,
           source, snapshot_date::VARCHAR AS snapshot_date, filename AS file
    FROM read_csv($files, header = true, union_by_name = true, all_varchar = true, filename = true)
),
ranges AS (
    SELECT *, string_split(cidr, '/')[2]::INTEGER AS prefix_len,
           ip4_int(string_split(cidr, '/')[1]) AS start_int
    FROM raw
),
bounded AS (
    SELECT *, start_int + (1::UBIGINT << (32 - prefix_len)) - 1 AS end_int FROM ranges
)
SELECT cidr, network, kind, source, snapshot_date, file, prefix_len,
       greatest(start_int, bucket::UBIGINT << 24) AS start_int,
       least(end_int, ((bucket::UBIGINT + 1) << 24) - 1) AS end_int,
       bucket::UTINYINT AS bucket
FROM bounded, LATERAL (SELECT unnest(range((start_int >> 24)::BIGINT, (end_int >> 24)::BIGINT + 1)) AS bucket);
