"""Spark (local mode, 1 and 2 cores) beside DuckDB on the same lake: the metrics that run on Spark.

    python benchmarks/spark_vs_duckdb.py --contacts 5000 --months 6 --repeat 3

Simulates an ESP (``--contacts`` addresses, ``--months`` months ending 2026-11), ingests it, exports the
lake (``dlvstats export --lake``), then for each engine runs every metric of ``dlvstats.spark.SPARK_METRICS``
over the whole period ``--repeat`` times in one process and prints a Markdown table of the median wall
seconds per metric. Spark's session start (JVM included) is timed on its own line, once per core count
(each count runs in a fresh process: one Spark session at a time). DuckDB reads the same lake (views over
the Parquet files; ``threads`` 1 and 2) and, for reference, the .duckdb file.
Every Spark table is also checked equal to DuckDB's (tests/helpers.assert_same_table).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(out: Path, contacts: int, months: int) -> tuple[Path, Path, int]:
    from dlvstats import db, lake
    from dlvstats.ingest import ingest_paths
    from dlvstats.simulate import simulate

    simulate(out, seed=3, contacts=contacts, months=months, end_month="2026-11", fmt="parquet")
    db_path = out / "sim.duckdb"
    ingest_paths(db_path, sorted((out / "drops").iterdir()))
    lake.export_lake(db_path, out / "lake")
    con = db.connect(db_path, read_only=True)
    sends = con.execute("SELECT count(*) FROM sends").fetchone()[0]
    con.close()
    return db_path, out / "lake", sends


def period(months: int) -> tuple[str, str]:
    start_month = 11 - months + 1
    year = 2026 if start_month >= 1 else 2025
    start_month = start_month if start_month >= 1 else start_month + 12
    return f"{year}-{start_month:02d}-01", "2026-12-01"


def worker(engine: str, cores: int, source: str, months: int, repeat: int) -> dict:
    """Run in a fresh process: median seconds per metric (and the session start for Spark)."""
    import warnings

    warnings.simplefilter("ignore")
    sys.path.insert(0, str(ROOT))
    from dlvstats import metrics
    from dlvstats import spark as spark_engine

    date_from, date_to = period(months)
    result: dict = {}
    if engine == "spark":
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        started = time.perf_counter()
        spark = spark_engine.session(master=f"local[{cores}]")
        spark.conf.set("spark.sql.shuffle.partitions", str(2 * cores))
        spark.range(1).count()
        result["session start"] = time.perf_counter() - started
        target = spark_engine.SparkLake(source, spark=spark)
    else:
        os.environ["DLVSTATS_THREADS"] = str(cores)
        target = Path(source)
    for name in spark_engine.SPARK_METRICS:
        func = metrics.get(name)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            frame = func(target, date_from, date_to)
            times.append(time.perf_counter() - started)
        result[name] = statistics.median(times)
        if engine == "spark":
            from tests.helpers import assert_same_table

            assert_same_table(frame, func(Path(source), date_from, date_to))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None, help="keep the data here (default: a temp dir)")
    parser.add_argument("--worker", nargs=5, metavar=("ENGINE", "CORES", "SOURCE", "MONTHS", "REPEAT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        engine, cores, source, months, repeat = args.worker
        print(json.dumps(worker(engine, int(cores), source, int(months), int(repeat))))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="spark_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    db_path, lake_dir, sends = build(work, args.contacts, args.months)
    runs = [("DuckDB, .duckdb file", "duckdb", 1, db_path), ("DuckDB, .duckdb file", "duckdb", 2, db_path),
            ("DuckDB, lake", "duckdb", 1, lake_dir), ("DuckDB, lake", "duckdb", 2, lake_dir),
            ("Spark local, lake", "spark", 1, lake_dir), ("Spark local, lake", "spark", 2, lake_dir)]
    columns = {}
    for label, engine, cores, source in runs:
        out = subprocess.run([sys.executable, __file__, "--worker", engine, str(cores), str(source),
                              str(args.months), str(args.repeat)], capture_output=True, text=True, check=False)
        if out.returncode:  # the worker's own error (an unequal table, a refused statement), not a bare exit code
            raise SystemExit(f"{label}, {cores} core(s) failed:\n{out.stderr[-4000:]}")
        columns[f"{label}, {cores} core{'s' if cores > 1 else ''}"] = json.loads(out.stdout.strip().splitlines()[-1])
    rows = ["session start"] + [m for m in next(iter(columns.values())) if m != "session start"]
    print(f"{sends:,} sends, {args.months} months ({args.contacts:,} addresses); median of {args.repeat} runs, "
          "wall seconds per metric table\n")
    print("| metric | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for row in rows:
        cells = [f"{c[row]:.2f}" if row in c else "" for c in columns.values()]
        print(f"| {row} | " + " | ".join(cells) + " |")
    totals = [sum(v for k, v in c.items() if k != "session start") for c in columns.values()]
    print("| **all metrics** | " + " | ".join(f"**{t:.2f}**" for t in totals) + " |")


if __name__ == "__main__":
    main()
