"""The Spark session: the active one (spark-submit, Databricks, a test's), or a new local one; DuckDB's
semantics set on it."""

from __future__ import annotations

import os


class SparkUnavailable(RuntimeError):
    """pyspark, sqlglot or Java is missing."""



def _imports():
    try:
        import pyspark  # noqa: F401
        import sqlglot  # noqa: F401
    except ImportError as exc:
        raise SparkUnavailable(
            f"the Spark engine needs pyspark and sqlglot ({exc}): pip install 'dlvstats[spark]' "
            "(and Java 17: apt-get install openjdk-17-jre-headless)"
        ) from exc


def session(master: str | None = None, cores: int | None = None):
    """The active Spark session (spark-submit, Databricks, a test's shared one), or a new local one.

    A new one runs ``$DLVSTATS_SPARK_MASTER`` (default ``local[2]``, or ``local[cores]``), bound to
    loopback unless SPARK_LOCAL_IP says otherwise, UI off, few shuffle partitions (the metrics' results
    are small)."""
    _imports()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from dlvstats.config import settings

    master = master or (f"local[{cores}]" if cores else settings().spark_master)
    try:
        builder = (SparkSession.builder.master(master).appName("dlvstats")
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.shuffle.partitions", "4")
                   .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                   .config("spark.driver.bindAddress", os.environ["SPARK_LOCAL_IP"]))
        spark = builder.getOrCreate()
    except Exception as exc:  # no java: pyspark raises PySparkRuntimeError (JAVA_GATEWAY_EXITED)
        raise SparkUnavailable(f"could not start Spark ({exc}); is Java 17 installed "
                               "(apt-get install openjdk-17-jre-headless, or set JAVA_HOME)?") from exc
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _configure(spark) -> None:
    """DuckDB's semantics where Spark's defaults differ: timestamps without zone, UTC, ANSI off."""
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.conf.set("spark.sql.timestampType", "TIMESTAMP_NTZ")
    spark.conf.set("spark.sql.sources.partitionColumnTypeInference.enabled", "false")


