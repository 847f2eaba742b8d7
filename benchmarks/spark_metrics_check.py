"""Metrics on Spark beside DuckDB on an existing lake, one run each: equal tables, and the seconds.

    SPARK_LOCAL_IP=127.0.0.1 python benchmarks/spark_metrics_check.py LAKE FROM TO [NAME ...]

For each metric (default: every one of ``dlvstats.spark.SPARK_METRICS``) computes the table on DuckDB
over the lake and on Spark local[2], checks them equal (tests/helpers.assert_same_table: counts exact,
rates within 1e-9) and prints a Markdown row of wall seconds; a difference is printed, not raised, so
one run reports every metric. Lighter than benchmarks/spark_vs_duckdb.py (one process, one core count).
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    warnings.simplefilter("ignore")
    sys.path.insert(0, str(ROOT))
    from tests.helpers import assert_same_table

    from dlvstats import metrics, spark

    lake_dir, date_from, date_to, *names = sys.argv[1:]
    session = spark.session(master="local[2]")
    session.conf.set("spark.sql.shuffle.partitions", "2")
    target = spark.SparkLake(lake_dir, spark=session)
    print("| metric | DuckDB, lake | Spark local[2], lake | equal |\n|---|---:|---:|---|")
    for name in names or spark.SPARK_METRICS:
        func = metrics.get(name)
        started = time.perf_counter()
        expected = func(lake_dir, date_from, date_to)
        duckdb_seconds = time.perf_counter() - started
        started = time.perf_counter()
        actual = func(target, date_from, date_to)
        spark_seconds = time.perf_counter() - started
        try:
            assert_same_table(actual, expected)
            verdict = f"yes ({len(expected)} rows)"
        except AssertionError as exc:
            verdict = f"NO: {str(exc)[:300]}"
        print(f"| {name} | {duckdb_seconds:.2f} | {spark_seconds:.2f} | {verdict} |", flush=True)
    session.stop()


if __name__ == "__main__":
    main()
