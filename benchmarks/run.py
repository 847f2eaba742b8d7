"""Benchmarks: throughput and peak memory of dlvstats against DuckDB's own limits.

    python benchmarks/run.py --sends 1M            # or: make bench
    python benchmarks/run.py --sends 1M,10M --repeat 3 --only simulate,ingest

Every measurement runs in a fresh subprocess (so peak RSS is that operation's own), several times,
interleaved with its baseline on the same files, and the table shows the median seconds, the ratio
to the baseline, rows per second and peak RSS. Not part of `make test`: these machines are noisy,
so goals are ratios measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SENDS_PER_CONTACT = 50  # the simulator sends ~50 messages per contact over 12 months


def parse_size(text: str) -> int:
    text = text.strip().upper()
    factor = {"K": 1_000, "M": 1_000_000, "G": 1_000_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("KMG")) * factor)


# ----------------------------------------------------------------------------------------------
# worker side: one operation, then print {"seconds": ..., "peak_rss_mb": ..., "rows": ...}


def _worker(op: str, args: list[str]) -> dict:
    started = time.perf_counter()
    rows = None
    if op == "simulate":
        from dlvstats.simulate import simulate

        out, contacts, fmt = args
        truth = simulate(Path(out), seed=1, contacts=int(contacts), months=12, end_month="2026-10", fmt=fmt)
        rows = _count_sends(Path(out))
        del truth
    elif op == "ingest":
        from dlvstats.ingest import ingest_paths

        db_path, *drops = args
        summary = ingest_paths(Path(db_path), [Path(d) for d in drops])
        rows = sum(c.read for c in summary.counts.values())
    elif op == "bare_load":
        import duckdb

        db_path, fmt, *drops = args
        con = duckdb.connect(db_path)
        con.execute("SET preserve_insertion_order = false")
        rows = 0
        kinds = sorted({p.name.split(".")[0] for d in drops for p in Path(d).iterdir() if not p.name.startswith("truth")})
        for kind in kinds:
            files = [str(p) for d in drops for p in Path(d).iterdir() if p.name.split(".")[0] == kind]
            reader = "read_parquet" if fmt == "parquet" else "read_csv"
            con.execute(f"CREATE TABLE {kind} AS SELECT * FROM {reader}($files)", {"files": files})
            rows += con.execute(f"SELECT count(*) FROM {kind}").fetchone()[0]
        con.close()
    else:
        raise SystemExit(f"unknown op {op}")
    return {
        "seconds": time.perf_counter() - started,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rows": rows,
    }


def _count_sends(out: Path) -> int:
    import duckdb

    files = [str(p) for p in (out / "drops").glob("*/sends.*")]
    fmt = "read_parquet" if files and files[0].endswith(".parquet") else "read_csv"
    # a deferred message appears again, settled, in the next month's drop: count distinct ids
    return duckdb.connect().execute(f"SELECT count(DISTINCT message_id) FROM {fmt}($f)", {"f": files}).fetchone()[0]


def measure(op: str, *args: str) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--worker", op, *args], capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{op} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sends", default="1M", help="comma-separated sizes, e.g. 1M,10M (sends)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median shown)")
    parser.add_argument("--formats", default="csv,parquet", help="drop formats to ingest")
    parser.add_argument("--workdir", type=Path, default=None, help="where to write data (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.worker[0], args.worker[1:])))
        return

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="dlvstats-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    rows_out = []
    print(f"{'operation':<34}{'size':>8}{'median s':>10}{'ratio':>8}{'rows/s':>14}{'peak RSS MB':>13}", flush=True)
    try:
        for size_text in args.sends.split(","):
            sends = parse_size(size_text)
            contacts = max(1000, sends // SENDS_PER_CONTACT)
            for fmt in args.formats.split(","):
                data = workdir / f"sim-{size_text}-{fmt}"
                sim_runs = []
                for i in range(args.repeat if fmt == args.formats.split(",")[0] else 1):
                    shutil.rmtree(data, ignore_errors=True)
                    sim_runs.append(measure("simulate", str(data), str(contacts), fmt))
                _report(rows_out, f"simulate ({fmt})", size_text, sim_runs, None)
                drops = [str(p) for p in sorted((data / "drops").iterdir())]
                ours, bare = [], []
                for i in range(args.repeat):
                    for runs, op in ((bare, "bare_load"), (ours, "ingest")):
                        db_path = workdir / f"{op}.duckdb"
                        db_path.unlink(missing_ok=True)
                        Path(str(db_path) + ".wal").unlink(missing_ok=True)
                        if op == "bare_load":
                            runs.append(measure(op, str(db_path), fmt, *drops))
                        else:
                            runs.append(measure(op, str(db_path), *drops))
                _report(rows_out, f"bare DuckDB load ({fmt})", size_text, bare, None)
                _report(rows_out, f"dlvstats ingest ({fmt})", size_text, ours, bare)
                if not args.keep:
                    shutil.rmtree(data, ignore_errors=True)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print("\nratio = median seconds / median seconds of the baseline (bare DuckDB CREATE TABLE AS "
          "SELECT * FROM read_csv/read_parquet with preserve_insertion_order = false) in the same run.")


def _report(rows_out, name, size, runs, baseline):
    median = statistics.median(r["seconds"] for r in runs)
    ratio = ""
    if baseline:
        ratio = f"{median / statistics.median(r['seconds'] for r in baseline):.2f}"
    rows = runs[0]["rows"] or 0
    rss = max(r["peak_rss_mb"] for r in runs)
    print(f"{name:<34}{size:>8}{median:>10.2f}{ratio:>8}{rows / median:>14,.0f}{rss:>13,.0f}", flush=True)
    rows_out.append((name, size, median, ratio, rows, rss))


if __name__ == "__main__":
    os.environ.setdefault("DLVSTATS_LOCK_TIMEOUT", "5")
    main()
