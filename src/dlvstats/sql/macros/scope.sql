-- Period and account filters (temporary macros: created on every dlvstats connection by
-- db.session_settings, never stored in the database file). Scalar macros returning BOOLEAN:
-- dlv_in_period(ts, d_from, d_to): ts in the half-open period [d_from, d_to), i.e.
--   ts >= d_from AND ts < d_to (NULL ts: NULL, so the row is not kept by a WHERE).
-- dlv_of_account(acct, wanted): the row's account acct is the one asked for, or every account
--   when wanted is NULL: wanted IS NULL OR acct = wanted.
-- dlv_in_scope(ts, acct, d_from, d_to, wanted): both of the above, the filter of a metric's rows
--   for its $date_from, $date_to and $account_id (metric files pass their $named parameters).
-- The Spark engine has no DuckDB macros: its translator (dlvstats.spark.macros) writes these out inline.
CREATE OR REPLACE TEMP MACRO dlv_in_period(ts, d_from, d_to) AS
    ts >= d_from AND ts < d_to;

CREATE OR REPLACE TEMP MACRO dlv_of_account(acct, wanted) AS
    wanted IS NULL OR acct = wanted;

CREATE OR REPLACE TEMP MACRO dlv_in_scope(ts, acct, d_from, d_to, wanted) AS
    (ts >= d_from AND ts < d_to) AND (wanted IS NULL OR acct = wanted);
