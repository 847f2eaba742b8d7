"""The packaged SQL macros expanded inline for Spark (dlvstats.spark.macros): on DuckDB the expanded SQL
gives what calling the macro gives, and its Spark form names no macro (sqlglot only, no Spark session)."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlglot

from dlvstats import db
from dlvstats import spark as spark_engine
from dlvstats.spark import macros as spark_macros

ROWS = ("CREATE TABLE f AS SELECT * FROM (VALUES (TIMESTAMP '2026-01-05', 'a', 'x', 1, 2), "
        "(TIMESTAMP '2026-01-31 23:59:59', 'b', 'x', 0, 3), (TIMESTAMP '2026-02-01', 'a', 'y', 2, 2), "
        "(TIMESTAMP '2025-12-31', 'a', 'y', 0, 0), (NULL, 'a', 'x', 1, 1)) t(ts, account_id, g, y, n)")
PARAMS = {"f": datetime(2026, 1, 1), "t": datetime(2026, 2, 1)}

#: one small statement per packaged macro (and the struct spread), over the rows of ROWS
CALLS = {
    "dlv_in_period": "SELECT ts, account_id FROM f WHERE dlv_in_period(ts, $f, $t) ORDER BY ALL",
    "dlv_of_account": "SELECT ts, account_id, NOT dlv_of_account(account_id, $w) AS dropped FROM f ORDER BY ALL",
    "dlv_in_scope": "SELECT count(*), sum(y) FROM f WHERE dlv_in_scope(ts, account_id, $f, $t, $w) OR y = 2",
    "dlv_cluster_sums": "SELECT g, dlv_cluster_sums(CAST(y AS BIGINT), n + 0) AS r FROM f GROUP BY g ORDER BY g",
    "dlv_health_counts": "WITH c AS (SELECT g, dlv_health_counts(n, y, n, y, y, 0, n, y, y + 1, n, y, n, y, n, y) "
                         "AS counts FROM f GROUP BY g) SELECT g, COLUMNS(counts.*) AS '\\0' FROM c ORDER BY g",
    "dlv_cluster_stored": "WITH s AS (SELECT g, dlv_cluster_stored(y, n, y * y, y * n, n * n, 1) AS r FROM f) "
                          "SELECT g, COLUMNS(r.*) AS 'r__\\0' FROM s ORDER BY ALL",
    "spread": "WITH s AS (SELECT g, dlv_cluster_sums(y, n) AS rate FROM f GROUP BY g) "
              "SELECT g, COLUMNS(rate.*) AS 'rate__\\0' FROM s ORDER BY g",
}


@pytest.fixture
def con():
    c = db.connect(":memory:")  # has the packaged macros (db.session_settings)
    c.execute(ROWS)
    yield c
    c.close()


def expanded(statement: str, macros=None) -> str:
    return spark_macros.expand(sqlglot.parse_one(statement, read="duckdb"), macros).sql(dialect="duckdb")


def test_every_packaged_macro_is_parsed():
    macros = spark_macros.packaged_macros()
    assert set(macros) == {"dlv_in_period", "dlv_of_account", "dlv_in_scope", "dlv_cluster_sums", "dlv_cluster_stored",
                           "dlv_health_counts"}
    assert macros["dlv_in_scope"].params == ("ts", "acct", "d_from", "d_to", "wanted")
    assert macros["dlv_cluster_sums"].fields == macros["dlv_cluster_stored"].fields == ("num", "den", "y2", "yn", "n2", "k")
    assert macros["dlv_health_counts"].fields[:3] == ("recipients", "sends", "delivered")
    assert not any(m.table for m in macros.values())


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("wanted", [None, "a", "z"])
def test_expanded_sql_gives_the_macro_call_result_on_duckdb(con, name, wanted):
    statement = CALLS[name]
    inline = expanded(statement)
    assert "dlv_" not in inline.lower() and "COLUMNS(" not in inline.upper()
    params = dict(PARAMS, w=wanted)
    used = {k: v for k, v in params.items() if f"${k}" in statement}
    called = con.execute(statement, used)
    names = [d[0] for d in called.description]
    rows = called.fetchall()
    assert rows, "the call keeps some rows: the comparison can fail"
    again = con.execute(inline, used)
    assert [d[0] for d in again.description] == names and again.fetchall() == rows


@pytest.mark.parametrize("name", sorted(CALLS))
def test_expanded_sql_translates_to_spark_without_the_macros(name):
    spark_sql, *_ = spark_engine.translate(CALLS[name])
    assert "dlv_" not in spark_sql.lower() and "COLUMNS(" not in spark_sql.upper() and "$" not in spark_sql
    sqlglot.parse_one(spark_sql, read="spark")  # valid Spark SQL for sqlglot


def test_spread_names_each_field():
    spark_sql, *_ = spark_engine.translate(CALLS["spread"])
    for field in ("num", "den", "y2", "yn", "n2", "k"):
        assert f"rate.{field} AS rate__{field}" in spark_sql


def test_a_table_macro_becomes_a_subquery(con):
    definition = ("CREATE OR REPLACE TEMP MACRO dlv_t_rows(lo, acct) AS TABLE "
                  "SELECT g, y + lo AS z FROM f WHERE y >= lo AND account_id = acct;\n")
    con.execute(definition)
    macros = dict(spark_macros.packaged_macros(), **spark_macros.parse_macros(definition))
    assert macros["dlv_t_rows"].table
    statement = ("SELECT q.g, sum(q.z) AS z, count(r.z) AS r FROM dlv_t_rows(1, 'a') AS q "
                 "LEFT JOIN dlv_t_rows(0, 'b') AS r ON r.g = q.g WHERE dlv_of_account(q.g, $w) "
                 "GROUP BY q.g ORDER BY q.g")
    inline = expanded(statement, macros)
    assert "dlv_t_rows(" not in inline and inline.count("(SELECT g, y +") == 2
    for wanted in (None, "x"):
        rows = con.execute(statement, {"w": wanted}).fetchall()
        assert rows and con.execute(inline, {"w": wanted}).fetchall() == rows


def test_argument_precedence_does_not_leak():
    text = expanded("SELECT NOT dlv_of_account(a OR b, c) AS v, dlv_in_period(x, 1 + 1, 2) AND y AS w FROM t")
    assert "NOT (c IS NULL OR (a OR b) = c)" in text and "x >= (1 + 1)" in text


@pytest.mark.parametrize("statement, why", [
    ("SELECT dlv_in_period(a, b) FROM t", "takes 3 arguments"),
    ("SELECT COLUMNS(nothing.*) AS 'x\\0' FROM t", "no struct macro"),
    ("SELECT dlv_ts(x) FROM t", "dlv_ts"),  # an adapter's macro, not a packaged one
])
def test_what_cannot_be_expanded_is_said(statement, why):
    with pytest.raises(spark_engine.SparkTranslationError, match=why):
        spark_engine.translate(statement)
