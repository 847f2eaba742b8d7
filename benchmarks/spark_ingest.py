"""The Spark ingest job beside the DuckDB ingest: one month's drop added to the same history.

    SPARK_LOCAL_IP=127.0.0.1 python benchmarks/spark_ingest.py --contacts 5000 --months 6

Simulates an ESP (``--contacts`` addresses, ``--months`` months ending 2026-11, canonical CSV drops),
ingests every month but the last into a DuckDB file and exports it as a lake; then adds the last month's
drop once with the DuckDB ingest (into a copy of the file) and once with ``dlvstats.spark_ingest`` (into
the lake, Spark local[2]), and prints the wall seconds of each, the Spark job's stages apart (DuckDB's
validation into the scratch database is timed by the DuckDB ingest itself, which the job runs first).
Checks that both give the same accounting.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--months", type=int, default=6)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    sys.path.insert(0, str(ROOT))
    from dlvstats import db, lake, spark, spark_ingest
    from dlvstats.ingest import ingest_paths
    from dlvstats.simulate import simulate

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        simulate(out, seed=3, contacts=args.contacts, months=args.months, end_month="2026-11", fmt="csv")
        *history, last = sorted((out / "drops").iterdir())
        db_path = out / "history.duckdb"
        ingest_paths(db_path, history)
        lake.export_lake(db_path, out / "lake")
        con = db.connect(db_path, read_only=True)
        stored = con.execute("SELECT count(*) FROM sends").fetchone()[0]
        con.close()
        shutil.copy(db_path, out / "copy.duckdb")
        started = time.perf_counter()
        on_duckdb = ingest_paths(out / "copy.duckdb", [last])
        duckdb_seconds = time.perf_counter() - started
        started = time.perf_counter()
        session = spark.session(master="local[2]")
        session.conf.set("spark.sql.shuffle.partitions", "4")
        session_seconds = time.perf_counter() - started
        started = time.perf_counter()
        on_spark = spark_ingest.ingest_lake(out / "lake", [last], spark=session)
        spark_seconds = time.perf_counter() - started
        assert on_spark.as_dict() == on_duckdb.as_dict()
        print(f"{stored:,} stored sends ({len(history)} months), drop of {on_duckdb.counts['sends'].read:,} sends "
              f"and {sum(c.read for c in on_duckdb.counts.values()):,} rows in all\n")
        print("| ingest of the last month | wall seconds |\n|---|---:|")
        print(f"| DuckDB ingest into the .duckdb file (validation, merge, classification, facts) | {duckdb_seconds:.2f} |")
        print(f"| Spark session start (local[2]) | {session_seconds:.2f} |")
        print(f"| Spark ingest job into the lake (DuckDB validation + Spark merge and rewrite + classification) "
              f"| {spark_seconds:.2f} |")
        session.stop()


if __name__ == "__main__":
    main()
