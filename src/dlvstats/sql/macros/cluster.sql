-- Clustered-interval partial sums (a temporary macro: created on every dlvstats connection by
-- db.session_settings, never stored in the database file).
-- dlv_cluster_sums(y, n): an aggregate over one row per cluster (a person: account and recipient),
--   where y is the cluster's numerator count and n its denominator count. Returns a STRUCT
--   {num: Σy, den: Σn, y2: Σy², yn: Σy·n, n2: Σn², k: clusters with n > 0}, the inputs of
--   metrics.common.cluster_rate (R__num/den/y2/yn/n2/k). The sums keep DuckDB's types (HUGEINT for
--   sums of BIGINT counts, k BIGINT), as the written-out sums had. A metric file spreads it into
--   its R__ columns with COLUMNS(R.*) AS 'R__\0' from a CTE holding the struct as column R.
-- The Spark engine has no DuckDB macros: its translator (dlvstats.spark.macros) writes this one out
-- inline, and the spread COLUMNS(R.*) AS 'R__\0' as R.num AS R__num, ... (the struct's fields, in order).
CREATE OR REPLACE TEMP MACRO dlv_cluster_sums(y, n) AS
    struct_pack(num := sum(y), den := sum(n), y2 := sum(y * y), yn := sum(y * n), n2 := sum(n * n),
                k := count(*) FILTER (n > 0));

-- dlv_cluster_stored(num, den, y2, yn, n2, k): the same STRUCT from sums computed earlier (the monthly
--   aggregates' stored columns), so that a file reading them spreads its rates as a file summing them.
CREATE OR REPLACE TEMP MACRO dlv_cluster_stored(num, den, y2, yn, n2, k) AS
    struct_pack(num := num, den := den, y2 := y2, yn := yn, n2 := n2, k := k);
