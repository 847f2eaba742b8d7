"""The DuckDB -> Spark SQL translation of spark_engine, statement by statement (sqlglot only, no Spark
session): the rewrites sqlglot does not do, and clear refusals of what has no Spark form."""

from __future__ import annotations

import pytest

from dlvstats import db
from dlvstats import spark as spark_engine


def test_temp_table_parameters_and_rewrites():
    text, temp, reads, steps = spark_engine.translate(
        "CREATE OR REPLACE TEMP TABLE __t AS SELECT timezone($tz, timezone('UTC', sent_at)) AS local_at, "
        "timezone('UTC', timezone($tz, day)) AS utc_at, hash(account_id, recipient) AS person, "
        "sent_at - to_days(CAST($days AS INTEGER)) AS before FROM sends WHERE account_id = $account_id")
    assert temp == "__t" and reads == [] and steps == []
    upper = text.upper()
    assert "FROM_UTC_TIMESTAMP(SENT_AT, :TZ)" in upper and "TO_UTC_TIMESTAMP(DAY, :TZ)" in upper
    assert "XXHASH64(ACCOUNT_ID, RECIPIENT)" in upper and "MAKE_DT_INTERVAL(" in upper
    assert "account_id = :account_id" in text and "$" not in text and "CREATE" not in upper


def test_duckdb_pivot_becomes_spark_pivot():
    text, *_ = spark_engine.translate(
        "SELECT * FROM (PIVOT rate_sums ON rate IN ('a_rate', 'b_rate') USING first(num) AS _num, "
        "first(den) AS _den GROUP BY account_id)")
    upper = " ".join(text.upper().split())
    assert "PIVOT(FIRST(NUM) AS _NUM, FIRST(DEN) AS _DEN FOR RATE IN ('A_RATE', 'B_RATE'))" in upper
    assert "SELECT ACCOUNT_ID, RATE, NUM, DEN FROM RATE_SUMS" in upper


def test_a_cte_used_twice_becomes_its_own_cached_step():
    text, _, _, steps = spark_engine.translate(
        "WITH a AS (SELECT 1 AS x), b AS (SELECT x FROM a) SELECT * FROM a JOIN b ON a.x = b.x")
    assert [cached for _, _, cached in steps] == [True, False]
    (a_view, _, _), (b_view, b_sql, _) = steps
    assert a_view in b_sql and a_view in text and b_view in text and "WITH" not in text.upper()


def test_csv_read_becomes_a_registered_view():
    text, _, reads, steps = spark_engine.translate(
        db.split_statements(db.sql_text("relations/bounce_category"))[0])
    ((view, param, schema, options),) = reads
    everything = " ".join([text] + [sql for _, sql, _ in steps])
    assert param == "rules_path" and view in everything and "READ_CSV" not in everything.upper()
    assert schema.startswith("`priority` int") and options["header"] == "true"


def test_asof_join_becomes_a_range_join():
    """Each right row is the match up to the next one of its keys: lead() bounds the range in the ON clause."""
    text, *_ = spark_engine.translate("SELECT a.x, b.y FROM a ASOF LEFT JOIN b ON a.k = b.k AND a.t >= b.t WHERE b.y > 0")
    assert "ASOF JOIN" not in text.upper() and "LEFT JOIN (SELECT *, LEAD(`t`) OVER (PARTITION BY k ORDER BY `t`)" in text
    assert "(b.__asof_next IS NULL OR a.t < b.__asof_next)" in text and text.endswith("WHERE b.y > 0")
    strict, *_ = spark_engine.translate("SELECT 1 FROM a ASOF JOIN b ON b.k = a.k AND b.t < a.t")
    assert "a.t <= b.__asof_next" in strict and " LEFT " not in strict


@pytest.mark.parametrize("statement, why", [
    ("SELECT * FROM a ASOF JOIN b ON a.k = b.k AND a.t <= b.t", "ASOF joins on 'left > right'"),
    ("ATTACH IF NOT EXISTS ':memory:' AS scratch (READ_WRITE)", "ATTACH"),
    ("CREATE TABLE kept AS SELECT 1", "temporary"),
])
def test_no_spark_form_is_said(statement, why):
    with pytest.raises(spark_engine.SparkTranslationError, match=why):
        spark_engine.translate(statement)


def test_duckdb_settings_are_nothing_to_do():
    assert spark_engine.translate("SET enable_progress_bar = false") == (None, None, [], [])


def test_division_by_a_decimal_literal_is_in_double_as_in_duckdb():
    """Spark divides by 3600.0 in DECIMAL, rounded to 6 places (92.575833 for DuckDB's 92.57583333...)."""
    text, *_ = spark_engine.translate("SELECT date_diff('second', a, b) / 3600.0 AS h, n / 2 AS half FROM t")
    assert "/ CAST(3600.0 AS DOUBLE) AS h" in text and "n / 2 AS half" in text
