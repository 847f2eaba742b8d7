"""The monthly aggregates: a month's report tables read from them against the same tables from raw
messages, and a month with 12 months of history against the same month alone.

    python benchmarks/bench_aggregates.py --work /tmp/aggbench --sends-per-month 1.5M --repeat 3

Build (kept in --work, reused): a simulation of two months (Parquet drops, ingested month by month),
scaled to 12 months by benchmarks/build_scaled_db.py (copies moved back 61, 122, ... days; the
aggregates rebuilt), then three copies of it:
- ``raw``: the same database with its aggregates invalidated (every metric reads raw messages);
- ``alone``: only the report month's messages (every table's rows before it deleted, facts and
  aggregates rebuilt): the same month without history;
- ``alone-raw``: that, without aggregates.
Measured, each in a fresh process, interleaved with alternating order, wall and CPU (user + sys):
- ``report tables``: the tables of the monthly report's summary that the aggregates serve, as
  report.MetricRun asks for them (sender health pooled by all/account/provider, daily, the default
  weekly table, the headline rates of the month and the one before, the 13-month trend);
- ``dlvstats metrics all --out DIR`` for the month (every registered table, most not aggregated).
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import parse_size, run_process

MONTH, FROM, TO = "2026-10", "2026-10-01", "2026-11-01"
SHIFTS = "61,122,183,244,305"
DLVSTATS = str(Path(sys.executable).with_name("dlvstats"))

REPORT_TABLES = f"""
import sys, time
from dlvstats import report
run = report.MetricRun(sys.argv[1], None, "UTC")
health = run.health()
t = time.perf_counter()
run.health_month("{MONTH}")
run.health_month(report.previous_month("{MONTH}"))
run.table(health.sender_health, "{MONTH}", by=["account"], grain="day")
run.table(health.sender_health, "{MONTH}", by=["account"], grain="period")
run.table(health.sender_health, "{MONTH}")
from dlvstats.metrics.headlines import headline_rates
run.table(headline_rates, "{MONTH}")
run.table(headline_rates, report.previous_month("{MONTH}"))
report.headline_trend(run, "{MONTH}")
print(f"{{time.perf_counter() - t:.3f}}", file=sys.stderr)
"""


def sh(*argv) -> None:
    print("$", " ".join(map(str, argv)), flush=True)
    subprocess.run([str(a) for a in argv], check=True)


def py(code: str, *argv) -> None:
    sh(sys.executable, "-c", code, *argv)


def build(work: Path, sends_per_month: int, shifts: str) -> dict[str, Path]:
    dbs = {name: work / f"{name}.duckdb" for name in ("agg", "raw", "alone", "alone-raw")}
    if all(p.exists() for p in dbs.values()):
        return dbs
    sim, source = work / "sim", work / "source.duckdb"
    if not (sim / "truth.json").exists():
        contacts = max(1000, round(sends_per_month / 4.95))
        py("import sys; from pathlib import Path; from dlvstats.simulate import simulate; "
           "simulate(Path(sys.argv[1]), seed=1, contacts=int(sys.argv[2]), months=2, end_month='2026-10', "
           "fmt='parquet')", sim, contacts)
    if not source.exists():
        for drop in sorted(p for p in (sim / "drops").iterdir() if p.is_dir()):
            sh(DLVSTATS, "ingest", drop, "--db", source)
    if shifts:
        sh(sys.executable, Path(__file__).with_name("build_scaled_db.py"), "--source", source, "--out", dbs["agg"],
           "--shifts", shifts)
    else:  # the two simulated months as ingested (the month before is the history)
        shutil.copyfile(source, dbs["agg"])
    for copy in ("raw", "alone"):
        shutil.copyfile(dbs["agg"], dbs[copy])
    py("import sys, duckdb; from dlvstats import aggregates; c = duckdb.connect(sys.argv[1]); "
       "aggregates.invalidate(c); c.execute('CHECKPOINT')", dbs["raw"])
    py(ALONE, dbs["alone"], FROM)
    shutil.copyfile(dbs["alone"], dbs["alone-raw"])
    py("import sys, duckdb; from dlvstats import aggregates; c = duckdb.connect(sys.argv[1]); "
       "aggregates.invalidate(c); c.execute('CHECKPOINT')", dbs["alone-raw"])
    return dbs


ALONE = """
import sys, duckdb
from dlvstats import aggregates
from dlvstats.classify import update_message_facts
con = duckdb.connect(sys.argv[1])
start = sys.argv[2]
for table, column in (("sends", "sent_at"), ("opens", "ts"), ("clicks", "ts"), ("complaints", "ts"),
                      ("subscriptions", "ts"), ("orders", "ts"), ("campaigns", "sent_at"), ("blocklists", "ts")):
    con.execute(f"DELETE FROM {table} WHERE {column} < CAST($s AS TIMESTAMP)", {"s": start})
update_message_facts(con)
con.execute("VACUUM"); con.execute("CHECKPOINT")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", required=True, type=Path)
    parser.add_argument("--sends-per-month", default="1.5M")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-metrics-all", action="store_true")
    parser.add_argument("--shifts", default=SHIFTS,
                        help="build_scaled_db.py's shifts (default: 12 months); '' = the two simulated months")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    dbs = build(args.work, parse_size(args.sends_per_month), args.shifts)
    py("import sys, duckdb\nfor p in sys.argv[1:]:\n c = duckdb.connect(p, read_only=True)\n"
       " print(p, c.execute(\"SELECT count(*), count(*) FILTER (sent_at >= '2026-10-01') FROM sends\").fetchone(),"
       " c.execute(\"SELECT count(DISTINCT strftime(sent_at, '%Y-%m')) FROM sends\").fetchone())", *dbs.values())
    jobs = {f"report tables, {name}": [sys.executable, "-c", REPORT_TABLES, str(db)] for name, db in dbs.items()}
    if not args.skip_metrics_all:
        for name in ("agg", "raw"):
            out = args.work / f"all-{name}"
            jobs[f"metrics all, {name}"] = [DLVSTATS, "metrics", "all", "--db", str(dbs[name]), "--from", FROM,
                                            "--to", TO, "--out", str(out)]
    runs: dict[str, list[dict]] = {name: [] for name in jobs}
    order = list(jobs)
    for i in range(args.repeat):
        for name in (order if i % 2 == 0 else order[::-1]):
            result = run_process(jobs[name])
            if result.get("returncode", 0):
                raise SystemExit(f"{name} failed: {result.get('stderr_tail', '')[-2000:]}")
            runs[name].append(result)
            print(f"  {name:<28} wall {result['wall']:7.2f} s  CPU {result['cpu']:7.2f} s  "
                  f"peak {result['peak_rss_mb']:6.0f} MB", flush=True)
    med = {name: (statistics.median(r["wall"] for r in rs), statistics.median(r["cpu"] for r in rs),
                  max(r["peak_rss_mb"] for r in rs)) for name, rs in runs.items()}
    print(f"\n{'operation':<30}{'n':>3}{'median s':>10}{'CPU s':>9}{'peak MB':>9}")
    for name, (wall, cpu, rss) in med.items():
        print(f"{name:<30}{len(runs[name]):>3}{wall:>10.2f}{cpu:>9.2f}{rss:>9.0f}")

    def ratio(a: str, b: str) -> str:
        return f"{med[a][0] / med[b][0]:.2f}x wall, {med[a][1] / med[b][1]:.2f}x CPU"

    print(f"\nreport tables, aggregates / raw (with history): {ratio('report tables, agg', 'report tables, raw')}")
    print(f"report tables, aggregates / raw (the month alone): {ratio('report tables, alone', 'report tables, alone-raw')}")
    print(f"report tables from aggregates, history / alone: {ratio('report tables, agg', 'report tables, alone')}")
    print(f"report tables from raw, history / alone: {ratio('report tables, raw', 'report tables, alone-raw')}")
    if not args.skip_metrics_all:
        print(f"metrics all, aggregates / raw: {ratio('metrics all, agg', 'metrics all, raw')}")
        same = all((args.work / "all-agg" / f.name).read_text() == f.read_text()
                   for f in (args.work / "all-raw").glob("*.csv"))
        print(f"metrics all: every CSV file identical from aggregates and raw: {same}")


if __name__ == "__main__":
    main()
