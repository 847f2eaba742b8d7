"""The packaged SQL macros (sql/macros/): each computes what its header says, on hand-built rows, and
every dlvstats connection (and each cursor of a shared one) has them."""

from __future__ import annotations

from datetime import datetime

import pytest

from dlvstats import db
from dlvstats.metrics.common import _cursor


@pytest.fixture
def con():
    c = db.connect(":memory:")
    yield c
    c.close()


def test_cluster_sums_on_hand_built_people(con):
    # three people: (y, n) = (1, 2), (0, 3), (2, 2); a fourth with n = 0 adds nothing and is not counted
    con.execute("CREATE TABLE p AS SELECT * FROM (VALUES (1, 2), (0, 3), (2, 2), (0, 0)) t(y, n)")
    row = con.execute("SELECT dlv_cluster_sums(y::BIGINT, n::BIGINT) FROM p").fetchone()[0]
    # by hand: Σy = 3, Σn = 7, Σy² = 1 + 0 + 4, Σy·n = 2 + 0 + 4, Σn² = 4 + 9 + 4, k = 3 people with n > 0
    assert row == {"num": 3, "den": 7, "y2": 5, "yn": 6, "n2": 17, "k": 3}


def test_cluster_sums_spread_into_named_columns(con):
    con.execute("CREATE TABLE p AS SELECT * FROM (VALUES ('a', 1, 1), ('a', 0, 2), ('b', 3, 4)) t(g, y, n)")
    cur = con.execute(
        "WITH s AS (SELECT g, dlv_cluster_sums(y::BIGINT, n::BIGINT) AS rate FROM p GROUP BY g) "
        "SELECT g, COLUMNS(rate.*) AS 'rate__\\0' FROM s ORDER BY g")
    assert [d[0] for d in cur.description] == ["g", "rate__num", "rate__den", "rate__y2", "rate__yn",
                                               "rate__n2", "rate__k"]
    assert cur.fetchall() == [("a", 1, 3, 1, 1, 5, 2), ("b", 3, 4, 9, 12, 16, 1)]


def test_cluster_sums_of_no_rows(con):
    con.execute("CREATE TABLE p (y BIGINT, n BIGINT)")
    row = con.execute("SELECT dlv_cluster_sums(y, n) FROM p").fetchone()[0]
    assert row == {"num": None, "den": None, "y2": None, "yn": None, "n2": None, "k": 0}


def test_period_is_half_open(con):
    start, end = datetime(2026, 1, 1), datetime(2026, 2, 1)
    cases = [(datetime(2025, 12, 31, 23, 59, 59), False), (start, True), (datetime(2026, 1, 31, 23), True),
             (end, False), (None, None)]
    for ts, expected in cases:
        assert con.execute("SELECT dlv_in_period($ts::TIMESTAMP, $f, $t)",
                           {"ts": ts, "f": start, "t": end}).fetchone()[0] is expected, ts


def test_account_filter(con):
    q = "SELECT dlv_of_account($acct, $wanted)"
    assert con.execute(q, {"acct": "a", "wanted": None}).fetchone()[0] is True
    assert con.execute(q, {"acct": "a", "wanted": "a"}).fetchone()[0] is True
    assert con.execute(q, {"acct": "b", "wanted": "a"}).fetchone()[0] is False
    # the macro is one expression: FALSE AND (NULL IS NULL OR ...) stays FALSE (no precedence leak)
    assert con.execute("SELECT FALSE AND dlv_of_account('a', NULL)").fetchone()[0] is False


def test_scope_filter_keeps_the_rows_of_the_written_out_filter(con):
    con.execute("CREATE TABLE f AS SELECT * FROM (VALUES (TIMESTAMP '2026-01-05', 'a'), "
                "(TIMESTAMP '2026-01-31 23:59:59', 'b'), (TIMESTAMP '2026-02-01', 'a'), "
                "(TIMESTAMP '2025-12-31', 'a'), (NULL, 'a')) t(ts, account_id)")
    params = {"f": datetime(2026, 1, 1), "t": datetime(2026, 2, 1)}
    for wanted in (None, "a", "b", "z"):
        p = dict(params, w=wanted)
        macro = con.execute("SELECT ts, account_id FROM f WHERE dlv_in_scope(ts, account_id, $f, $t, $w) "
                            "ORDER BY ALL", p).fetchall()
        written = con.execute("SELECT ts, account_id FROM f WHERE ts >= $f AND ts < $t "
                              "AND ($w IS NULL OR account_id = $w) ORDER BY ALL", p).fetchall()
        assert macro == written, wanted
    assert len(con.execute("SELECT * FROM f WHERE dlv_in_scope(ts, account_id, $f, $t, NULL)",
                           params).fetchall()) == 2


def test_read_only_connections_and_cursors_have_the_macros(tmp_path):
    path = tmp_path / "x.duckdb"
    c = db.connect(path)
    db.migrate(c)
    c.close()
    ro = db.connect(path, read_only=True)
    try:
        assert ro.execute("SELECT dlv_in_period(2, 1, 3)").fetchone()[0] is True
        with _cursor(ro) as cur:
            assert cur.execute("SELECT dlv_of_account('a', 'a')").fetchone()[0] is True
    finally:
        ro.close()


def test_spark_translation_expands_the_macros():
    """Spark has no DuckDB macros: the translator writes the packaged ones out (tests/test_spark_macros.py)."""
    from dlvstats.spark.translate import SparkTranslationError, translate

    spark_sql, *_ = translate("SELECT count(*) FROM message_facts "
                              "WHERE dlv_in_scope(sent_at, account_id, $date_from, $date_to, $account_id)")
    assert "dlv_" not in spark_sql and "sent_at >= :date_from AND sent_at < :date_to" in spark_sql
    spark_sql, *_ = translate("SELECT dlv_cluster_sums(y, n) AS r FROM per_person")
    assert "dlv_" not in spark_sql and "COUNT(*) FILTER(WHERE n > 0) AS k" in spark_sql
    with pytest.raises(SparkTranslationError, match="dlv_nothing"):
        translate("SELECT dlv_nothing(y) FROM per_person")
