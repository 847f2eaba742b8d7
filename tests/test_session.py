"""One connection for many metrics: every metric takes a path or an open DuckDB connection, and
``with dlvstats.open(path) as s:`` runs every call on one read-only connection, reusing the relation
temp tables one metric built for the next. Same frames as the path calls, one connection, read-only.

The database is conftest's ``lake_sim`` (1,500 addresses, three months, complaints, orders, a
blocklisting, GPT and SNDS imports): small enough to run every metric in seconds."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd
import polars as pl
import pytest

import dlvstats
from dlvstats import db
from dlvstats.metrics.engagement import engagement_by_age
from dlvstats.metrics.headlines import headline_rates
from dlvstats.metrics.hidden_images import hidden_images
from dlvstats.metrics.sender_health import bounce_categories, sender_health
from dlvstats.metrics.sensitivity import classification_sensitivity

MONTH = "2026-10"
FROM, TO = "2026-10-01", "2026-11-01"

#: (function, keyword options): the metrics compared path against session connection
METRICS = [
    (sender_health, {"by": "provider", "grain": "period"}),
    (sender_health, {"by": "account", "grain": "week", "source": "raw"}),
    (headline_rates, {}),
    (engagement_by_age, {}),
    (hidden_images, {}),
    (bounce_categories, {"by": "all", "grain": "period"}),
    (classification_sensitivity, {}),  # attaches and USEs a scratch database: the next metric must not see it
]


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    # DuckDB sums doubles in parallel: two runs of one table may differ in their last digits
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9)


def _counting_connects(monkeypatch) -> list:
    calls = []
    real = duckdb.connect

    def connect(*args, **kwargs):
        calls.append(args[0] if args else kwargs.get("database"))
        return real(*args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", connect)
    return calls


def test_every_metric_equals_its_path_call_on_a_session_connection(lake_sim):
    wants = [func(lake_sim.db_path, FROM, TO, **options) for func, options in METRICS]
    assert len(wants[0]) > 1 and wants[2]["delivered"].iloc[0] > 1000  # real tables, not empty ones
    with dlvstats.open(lake_sim.db_path) as s:
        for (func, options), want in zip(METRICS, wants):
            _same(func(s.connection, FROM, TO, **options), want)
        # by name: the same as the function, on the same connection (hidden-images again: relations reused)
        _same(s.metric("hidden-images", MONTH), wants[4])
        _same(s.metric("sender-health", MONTH, by="provider", grain="period"), wants[0])
        assert s.sql("SELECT current_database() AS d")["d"][0] == "sim"  # sensitivity's USE was undone
        assert "sens_scratch" not in set(s.sql("SELECT database_name FROM duckdb_databases()")["database_name"])


def test_a_session_opens_one_connection_for_all_its_metrics(lake_sim, monkeypatch):
    calls = _counting_connects(monkeypatch)
    s = dlvstats.open(lake_sim.db_path)  # checks the database (and the account) on a short connection
    assert len(calls) == 1
    with s:
        s.metric("sender-health", MONTH, by="provider", grain="period")
        s.metric("hidden-images", MONTH)
        s.metric("engagement-by-age", MONTH)
        s.metric("bounce-categories", MONTH, by="all", grain="period")
        headline_rates(s.connection, FROM, TO)
        s.sql("SELECT count(*) FROM sends")
    assert len(calls) == 2, calls  # the block's one connection, whatever it ran
    s.metric("hidden-images", MONTH)  # after the block: one connection per call again, closed after it
    s.metric("sender-health", MONTH, by="provider", grain="period")
    assert len(calls) == 4, calls


def test_the_session_reuses_relations_built_with_the_same_parameters(lake_sim, monkeypatch):
    built = []
    real = db.run

    def run(con, name, **params):
        if name.startswith("relations/"):
            built.append((name, params.get("date_from")))
        return real(con, name, **params)

    monkeypatch.setattr(db, "run", run)
    want_images = hidden_images(lake_sim.db_path, FROM, TO)
    want_age = engagement_by_age(lake_sim.db_path, "2026-09-01", TO)
    built.clear()

    def ages() -> list:
        return [start for name, start in built if name == "relations/address_age"]

    october, september = datetime(2026, 10, 1), datetime(2026, 9, 1)
    with dlvstats.open(lake_sim.db_path) as s:
        images = s.metric("hidden-images", MONTH)
        assert ages() == [october]
        s.metric("engagement-by-age", MONTH)  # the same period: __address_age and __reader_device reused
        assert ages() == [october]
        age = s.metric("engagement-by-age", date_from="2026-09-01", date_to=TO)  # another period: built again
        assert ages() == [october, september]
        again = s.metric("hidden-images", MONTH)  # back to October: built again, not the September table
        assert ages() == [october, september, october]
    _same(images, want_images)
    _same(again, want_images)
    _same(age, want_age)
    built.clear()
    hidden_images(lake_sim.db_path, FROM, TO)
    hidden_images(lake_sim.db_path, FROM, TO)  # without a session every call builds its own
    assert [b[0] for b in built].count("relations/address_age") == 2


def test_the_session_connection_is_read_only(lake_sim):
    with dlvstats.open(lake_sim.db_path) as s:
        with pytest.raises(duckdb.Error, match="read-only"):
            s.sql("DELETE FROM sends")
        with pytest.raises(duckdb.Error, match="read-only"):
            s.connection.execute("CREATE TABLE scratch AS SELECT 1 AS x")
        with pytest.raises(RuntimeError, match="already open"):
            s.__enter__()
        con = s.connection
    with pytest.raises(duckdb.Error, match="closed"):
        con.execute("SELECT 1")  # the block closed it
    with pytest.raises(RuntimeError, match="no connection outside"):
        _ = s.connection


def test_a_connection_of_your_own_is_used_and_left_open(lake_sim):
    want = headline_rates(lake_sim.db_path, FROM, TO)
    con = duckdb.connect(str(lake_sim.db_path), read_only=True)  # no dlvstats settings nor macros yet
    try:
        _same(headline_rates(con, FROM, TO), want)
        _same(hidden_images(con, FROM, TO), hidden_images(lake_sim.db_path, FROM, TO))
        assert con.execute("SELECT count(*) FROM sends").fetchone()[0] > 0  # still open
    finally:
        con.close()
    memory = duckdb.connect()
    try:
        with pytest.raises(db.DatabaseError, match="not a dlvstats database"):
            headline_rates(memory, FROM, TO)
    finally:
        memory.close()


def test_polars_frames_from_the_session(lake_sim):
    with dlvstats.open(lake_sim.db_path, frame="polars") as s:
        health = s.metric("sender-health", MONTH, by="provider", grain="period")
        pandas_health = s.metric("sender-health", MONTH, by="provider", grain="period", frame="pandas")
        sends = s.sql("SELECT provider, count(*) AS n FROM sends GROUP BY ALL ORDER BY provider")
    assert isinstance(health, pl.DataFrame) and health.columns == list(pandas_health.columns)
    assert health["delivered"].to_list() == pandas_health["delivered"].tolist()
    assert isinstance(sends, pl.DataFrame) and sends["n"].sum() > 1000
    assert sends["provider"].to_list() == sorted(sends["provider"].to_list())


def test_start_and_close_hold_the_connection_across_calls_as_a_notebook_does(lake_sim, monkeypatch):
    from dlvstats import overview

    want = overview.coverage(lake_sim.db_path)
    s = dlvstats.open(lake_sim.db_path)
    calls = _counting_connects(monkeypatch)
    assert s.start() is s and "open" in repr(s)
    _same(overview.coverage(s.connection), want)  # the data-overview readers take the connection too
    _same(s.metric("hidden-images", MONTH), hidden_images(s.connection, FROM, TO))
    assert len(calls) == 1
    s.close()
    s.close()  # twice: nothing more to close
    assert "open" not in repr(s)
    with pytest.raises(RuntimeError, match="no connection outside"):
        _ = s.connection


def test_a_connection_keys_the_report_cache_as_its_file_does(lake_sim, tmp_path):
    from dlvstats.metrics import cache

    with cache.configured(str(tmp_path)):
        want = hidden_images(lake_sim.db_path, FROM, TO)
        stored = sorted(tmp_path.glob("hidden_images-*.pkl"))
        assert len(stored) == 1
        with dlvstats.open(lake_sim.db_path) as s:
            assert cache.db_identity(s.connection) == cache.db_identity(lake_sim.db_path)
            _same(hidden_images(s.connection, FROM, TO), want)  # read from the run's cache: the same key
        assert sorted(tmp_path.glob("hidden_images-*.pkl")) == stored
    memory = duckdb.connect()
    try:
        with pytest.raises(TypeError, match="in-memory"):
            cache.db_identity(memory)
    finally:
        memory.close()
