"""The Spark engine in local mode: every metric of ``spark_engine.SPARK_METRICS`` computed by Spark from the
same SQL files over the lake equals DuckDB's table (counts exact, rates within 1e-9), and the ones that do
not run there yet are refused clearly.

One Spark session for the whole test session (the ``spark`` fixture of conftest.py: local[2], loopback, UI off, 2 shuffle partitions); the data is the
small simulated ESP of ``lake_sim``. pyspark, sqlglot and Java 17 are test requirements (``make test``
installs them): without them these tests fail saying so, they are not skipped.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from tests.helpers import assert_same_table

from dlvstats import metrics
from dlvstats import spark as spark_engine
from dlvstats.cli import main


@pytest.fixture(scope="module")
def spark_lake(spark, lake_sim):
    return spark_engine.SparkLake(lake_sim.lake_dir, spark=spark)


@pytest.mark.parametrize("name", spark_engine.SPARK_METRICS)
def test_metric_on_spark_equals_duckdb(spark_lake, lake_sim, name):
    func = metrics.get(name)
    on_duckdb = func(lake_sim.lake_dir, lake_sim.date_from, lake_sim.date_to)
    on_spark = func(spark_lake, lake_sim.date_from, lake_sim.date_to)
    assert_same_table(on_spark, on_duckdb)
    assert len(on_duckdb)  # not two empty tables


@pytest.mark.parametrize("name", ["headline_rates", "headline_trend"])
def test_headlines_on_spark_equal_duckdb(spark_lake, lake_sim, name):
    """The headline files call the packaged macros (dlv_in_scope, dlv_cluster_sums and its COLUMNS spread):
    the translator expands them, and Spark's table is DuckDB's over the same lake."""
    from dlvstats.metrics import headlines

    func = getattr(headlines, name)
    on_duckdb = func(lake_sim.lake_dir, lake_sim.date_from, lake_sim.date_to, source="raw")
    on_spark = func(spark_lake, lake_sim.date_from, lake_sim.date_to)
    assert_same_table(on_spark, on_duckdb)
    assert len(on_duckdb) and not [c for c in on_duckdb.columns if "__" in c]  # finished rates, no sums left


def test_sender_health_by_account_and_week_in_paris(spark_lake, lake_sim):
    """The reporting zone's week edges (DuckDB's timezone() pairs, Spark's from/to_utc_timestamp) and an
    account filter."""
    options = {"account_id": "acct_modeparis", "grain": "week", "timezone": "Europe/Paris", "by": ["all", "provider"]}
    func = metrics.get("sender-health")
    on_duckdb = func(lake_sim.lake_dir, lake_sim.date_from, lake_sim.date_to, **options)
    on_spark = func(spark_lake, lake_sim.date_from, lake_sim.date_to, **options)
    assert len(on_duckdb) > 10 and (on_duckdb["period_start"].dt.hour != 0).any()  # Paris midnight in UTC
    assert_same_table(on_spark, on_duckdb)


def test_a_lake_given_as_a_uri(spark, lake_sim):
    """Object-storage paths (s3a://, abfss://, dbfs:/) go through Spark's filesystems; file:// is one."""
    uri = spark_engine.SparkLake(f"file://{lake_sim.lake_dir.resolve()}", spark=spark)
    func = metrics.get("gift-migration")
    assert_same_table(func(uri, lake_sim.date_from, lake_sim.date_to),
                      func(lake_sim.lake_dir, lake_sim.date_from, lake_sim.date_to))
    missing = spark_engine.SparkLake(f"file://{lake_sim.lake_dir.resolve()}/nowhere", spark=spark)
    with pytest.raises(Exception, match="dlvstats_lake.json"):
        func(missing, lake_sim.date_from, lake_sim.date_to)


def test_parameters_are_bound_not_pasted(spark_lake):
    con = spark_lake.connect()
    try:
        hostile = "x' OR '1'='1"
        count = con.execute("SELECT count(*) FROM sends WHERE account_id = $account_id", {"account_id": hostile})
        assert count.fetchone() == (0,)
        total = con.execute("SELECT count(*) FROM sends WHERE $account_id IS NULL OR account_id = $account_id",
                            {"account_id": None}).fetchone()[0]
        assert total > 1000
    finally:
        con.close()


def test_cli_spark_prints_the_duckdb_table(spark, lake_sim, capsys):
    args = ["metrics", "bounce-categories", "--lake", str(lake_sim.lake_dir), "--from", lake_sim.date_from,
            "--to", lake_sim.date_to, "--format", "csv"]
    assert main(args) == 0
    on_duckdb = capsys.readouterr().out
    assert main(args + ["--engine", "spark"]) == 0
    assert capsys.readouterr().out == on_duckdb and on_duckdb.count("\n") > 3


def test_cli_refuses_a_metric_not_on_spark(lake_sim, capsys):
    name = min(spark_engine.NOT_ON_SPARK)
    code = main(["metrics", name, "--engine", "spark", "--lake", str(lake_sim.lake_dir),
                 "--from", lake_sim.date_from, "--to", lake_sim.date_to])
    err = capsys.readouterr().err
    assert code == 2 and "does not run on Spark yet" in err and spark_engine.NOT_ON_SPARK[name] in err
    assert "sender-health" in err  # what does run there
    code = main(["metrics", "sender-health", "--engine", "spark", "--from", "2026-10-01", "--to", "2026-11-01"])
    assert code == 2 and "--lake DIR" in capsys.readouterr().err


def test_every_metric_is_either_on_spark_or_says_why():
    assert set(spark_engine.SPARK_METRICS) | set(spark_engine.NOT_ON_SPARK) == set(metrics.REGISTRY)
    assert not set(spark_engine.SPARK_METRICS) & set(spark_engine.NOT_ON_SPARK)


def test_help_does_not_load_pyspark():
    code = ("import sys, contextlib, io\nfrom dlvstats.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        main(['metrics', '--help'])\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyspark', 'sqlglot', 'py4j')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"
