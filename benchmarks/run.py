"""Benchmarks: each goal of the performance issue against its baseline, in the same run.

    python benchmarks/run.py --sends 1M                 # or: make bench (every step but `memory`)
    python benchmarks/run.py --sends 1M,10M --repeat 3 --only simulate,ingest,metrics,incremental
    python benchmarks/run.py --only memory --memory-sends 50M --memory-months 5

Steps (``--only``, comma-separated; default: all but ``memory``), with the goal of
docs/performance.md each one measures:

  simulate     goal 7: simulator sends/s (13 monthly drops, CSV; Parquet once, for the ingest step)
  ingest       goal 1: `ingest_paths` of the 12-month drop vs bare DuckDB
               CREATE TABLE AS SELECT * FROM read_csv/read_parquet (preserve_insertion_order=false)
               into a fresh file; ratio <= 2
  metrics      goal 2: the four metric tables for the year, four `dlvstats metrics` processes
               (start included) vs one reference DuckDB pass (sends left-joined to per-message open
               and click counts, grouped by domain and campaign) on the same database; ratio <= 6;
               and `dlvstats metrics all --out DIR` (every registered table, one process, start
               included) vs the same pass, with each table's seconds from its progress lines
  startup      goal 2: `dlvstats --help` (and `dlvstats metrics --help`) vs `python -c pass`; < 1 s
  pandas       goal 3: hidden-images and engagement-by-age by dlvstats' metric functions vs the
               hand-written pandas of benchmarks/pandas_baseline.py; time ratio <= 0.1, RSS <= 1/3
  incremental  goal 5: month 13 into the database holding months 1-12 vs month 1 into an empty one;
               ratio <= 1.5
  report       goal 6: `dlvstats report` of the last month of the year database (absolute: <= 90 s
               at 10M sends a month, which only the memory step's data reaches)
  memory       goals 4 and 6: --memory-sends over --memory-months months (10M sends a month by
               default), ingested month by month; then the four metrics and the monthly report with
               DLVSTATS_MEMORY_LIMIT=2GB (peak RSS < 3 GB), and the report without a limit

Every measurement runs in a fresh process; several runs, interleaved with the baseline (the order
alternates run by run), and the table shows the median wall seconds, the median CPU seconds
(user + sys of the process and its children, from os.wait4 / resource.getrusage), the ratios to the
baseline's medians, rows per second and peak RSS: the largest single process (ru_maxrss), and the
largest sum over the process tree sampled every 0.2 s (the report runs notebooks side by side).
(ru_maxrss also counts the launching process's own size at fork time, about 20 MB here: the
parent imports nothing heavy, so only the smallest processes are affected.)
Results also go to WORKDIR/results.json. Not part of `make test`: these machines are noisy, so
goals are ratios measured in the same run; CPU seconds are the steadier figure under load.
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
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: the simulator sends ~4.95 messages per contact per month (measured: 1M sends / 12 months / 16.8k contacts)
SENDS_PER_CONTACT_MONTH = 4.95
#: 13 monthly drops: months 1-12 are "the year" (2025-11 .. 2026-10); month 13 (2026-11) is the incremental load
END_MONTH = "2026-11"
YEAR_FROM, YEAR_TO = "2025-11-01", "2026-11-01"
REPORT_MONTH = "2026-10"
METRICS = ("engagement-by-age", "gift-campaigns", "hidden-images", "sender-health")
ALL_STEPS = ("simulate", "ingest", "metrics", "startup", "pandas", "incremental", "report", "memory")
DEFAULT_STEPS = tuple(s for s in ALL_STEPS if s != "memory")

REFERENCE_SQL = """
SELECT s.recipient_domain, s.campaign_id,
       count(*) AS sends,
       count(*) FILTER (s.status = 'delivered') AS delivered,
       count(o.message_id) AS opened, sum(coalesce(o.opens, 0)) AS opens,
       count(c.message_id) AS clicked, sum(coalesce(c.clicks, 0)) AS clicks
FROM sends AS s
LEFT JOIN (SELECT message_id, count(*) AS opens FROM opens GROUP BY message_id) AS o USING (message_id)
LEFT JOIN (SELECT message_id, count(*) AS clicks FROM clicks GROUP BY message_id) AS c USING (message_id)
WHERE s.sent_at >= $date_from AND s.sent_at < $date_to
GROUP BY s.recipient_domain, s.campaign_id
"""


def parse_size(text: str) -> int:
    text = text.strip().upper()
    factor = {"K": 1_000, "M": 1_000_000, "G": 1_000_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("KMG")) * factor)


def source_fingerprint() -> str:
    """The code measured: git HEAD and a hash of src/dlvstats as it is on disk (others edit it meanwhile)."""
    import hashlib

    root = HERE.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=False).stdout.strip() or "?"
    except OSError:
        head = "?"
    digest = hashlib.sha256()
    for path in sorted((root / "src" / "dlvstats").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".sql", ".ipynb", ".j2", ".csv"):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return f"git {head}, src/dlvstats sha256 {digest.hexdigest()[:12]}"


def dlvstats_cmd() -> list[str]:
    script = Path(sys.executable).parent / "dlvstats"
    return [str(script)] if script.exists() else [sys.executable, "-m", "dlvstats.cli"]


# ----------------------------------------------------------------------------------------------
# worker side: one operation in a fresh process; prints one JSON line
# {"seconds": wall inside the process, "cpu": user+sys inside it, "rows": ..., "extra": {...}}


def _cpu_now() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _worker(op: str, args: list[str]) -> dict:
    extra: dict = {}
    rows = None
    # imports first, outside the timed part (both sides of every comparison pay their own)
    if op in ("bare_load", "reference_pass", "count_month"):
        import duckdb

        # the same DuckDB memory limit as dlvstats when one is set (run.py --db-memory-limit)
        limit = os.environ.get("DLVSTATS_MEMORY_LIMIT")
        config = {"memory_limit": limit} if limit else {}
    elif op == "simulate":
        from dlvstats.simulate import simulate
    elif op == "ingest":
        from dlvstats.ingest import ingest_paths
    elif op.startswith("pandas_"):
        import pandas_baseline  # (benchmarks/ is on sys.path: this file's directory)
    elif op == "empty_notebook":
        import nbformat
        import papermill
    elif op.startswith("dlvstats_"):
        from dlvstats.metrics.engagement import engagement_by_age  # noqa: F401
        from dlvstats.metrics.hidden_images import hidden_images  # noqa: F401
    started, cpu0 = time.perf_counter(), _cpu_now()

    if op == "simulate":
        out, contacts, months, end_month, fmt = args
        truth = simulate(Path(out), seed=1, contacts=int(contacts), months=int(months), end_month=end_month, fmt=fmt)
        rows = truth["rows"]["sends"]
        extra["rows_all_kinds"] = sum(truth["rows"].values())
    elif op == "ingest":
        db_path, *drops = args
        marks: dict[str, float] = {}

        def progress(stage, done, total, detail=""):
            marks[stage] = time.perf_counter() - started

        summary = ingest_paths(Path(db_path), [Path(d) for d in drops], progress=progress)
        rows = sum(c.read for c in summary.counts.values())
        extra["sends_read"] = summary.counts["sends"].read if "sends" in summary.counts else 0
        # phases: read (stage every file) | convert+validate+merge | classify + message_facts + commit
        extra["phase_read"] = marks.get("read", 0.0)
        extra["phase_merge"] = marks.get("merge", 0.0) - marks.get("read", 0.0)
        extra["phase_classify_commit"] = time.perf_counter() - started - marks.get("merge", 0.0)
    elif op == "bare_load":
        db_path, fmt, *drops = args
        con = duckdb.connect(db_path, config=config)
        con.execute("SET preserve_insertion_order = false")
        rows = 0
        files: dict[str, list[str]] = {}
        for d in drops:
            for p in sorted(Path(d).iterdir()):
                if p.is_file() and not p.name.startswith(("truth", ".")):
                    files.setdefault(p.name.split(".")[0], []).append(str(p))
        reader = "read_parquet" if fmt == "parquet" else "read_csv"
        for kind, paths in sorted(files.items()):
            con.execute(f"CREATE TABLE {kind} AS SELECT * FROM {reader}($files)", {"files": paths})
            rows += con.execute(f"SELECT count(*) FROM {kind}").fetchone()[0]
        con.close()
    elif op == "reference_pass":
        db_path, date_from, date_to = args
        con = duckdb.connect(db_path, read_only=True, config=config)
        q0 = time.perf_counter()
        result = con.execute(REFERENCE_SQL, {"date_from": date_from, "date_to": date_to}).fetchall()
        extra["query_seconds"] = time.perf_counter() - q0
        extra["groups"] = len(result)
        rows = con.execute("SELECT count(*) FROM sends WHERE sent_at >= $f AND sent_at < $t",
                           {"f": date_from, "t": date_to}).fetchone()[0]
        con.close()
    elif op == "count_month":
        db_path, month = args
        con = duckdb.connect(db_path, read_only=True)
        rows = con.execute("SELECT count(*) FROM sends WHERE strftime(sent_at, '%Y-%m') = $m", {"m": month}).fetchone()[0]
        con.close()
    elif op == "empty_notebook":
        # the fixed cost of one report notebook: kernel start, the usual imports, shutdown
        (work,) = args
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("import pandas, plotly.graph_objects, dlvstats.metrics.engagement")]
        source, output = Path(work) / "empty.ipynb", Path(work) / "empty.out.ipynb"
        nbformat.write(nb, source)
        papermill.execute_notebook(str(source), str(output), kernel_name="python3", progress_bar=False)
        rows = 1
    elif op in ("pandas_hidden_images", "pandas_engagement_by_age"):
        db_path, date_from, date_to = args
        r0 = time.perf_counter()
        tables = pandas_baseline.read_tables(db_path)
        extra["read_seconds"] = time.perf_counter() - r0
        func = getattr(pandas_baseline, op.removeprefix("pandas_"))
        frame = func(db_path, date_from, date_to, tables)
        rows = int(tables["sends"]["sent_at"].between(date_from, date_to, inclusive="left").sum())
        extra["result_rows"] = len(frame)
    elif op in ("dlvstats_hidden_images", "dlvstats_engagement_by_age"):
        from dlvstats import metrics

        db_path, date_from, date_to = args
        func = metrics.get(op.removeprefix("dlvstats_").replace("_", "-"))
        frame = func(db_path, date_from, date_to)
        extra["result_rows"] = len(frame)
    else:
        raise SystemExit(f"unknown op {op}")
    return {"seconds": time.perf_counter() - started, "cpu": _cpu_now() - cpu0, "rows": rows, "extra": extra}


# ----------------------------------------------------------------------------------------------
# parent side: run a process, wait4 it for CPU and peak RSS, sample the process tree's RSS


class _TreeSampler(threading.Thread):
    """Samples the summed RSS and the CPU of a process and its descendants (psutil, every 0.2 s)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_sum_mb, self.cpu = pid, 0.0, {}
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            import psutil
        except ImportError:  # pragma: no cover - psutil ships with jupyter's dependencies
            return
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self.stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                break
            total = 0
            for p in procs:
                try:
                    with p.oneshot():
                        total += p.memory_info().rss
                        t = p.cpu_times()
                        self.cpu[p.pid] = t.user + t.system
                except psutil.Error:
                    pass
            self.peak_sum_mb = max(self.peak_sum_mb, total / 2**20)
            self.stop.wait(0.2)


def run_process(argv: list[str], env: dict | None = None, cwd: Path | None = None) -> dict:
    """Run one process to its end: wall, CPU (user+sys incl. reaped children), peak RSS, its JSON line."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env={**os.environ, **(env or {})}, cwd=cwd)
        sampler = _TreeSampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        sampler.stop.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} failed ({proc.returncode}):\n{stderr[-3000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    run = {
        "wall": wall, "seconds": wall, "cpu": max(cpu, sum(sampler.cpu.values())),
        "peak_rss_mb": usage.ru_maxrss / 1024, "tree_rss_mb": max(sampler.peak_sum_mb, usage.ru_maxrss / 1024),
        "rows": None, "extra": {}, "stdout_tail": stdout[-2000:], "stderr_tail": stderr[-6000:],
    }
    lines = stdout.strip().splitlines()
    if lines and lines[-1].startswith("{"):
        try:
            payload = json.loads(lines[-1])
        except json.JSONDecodeError:
            payload = None
        if payload and "seconds" in payload:
            run.update(seconds=payload["seconds"], rows=payload["rows"], extra=payload["extra"],
                       cpu_inside=payload["cpu"])
    return run


def measure(op: str, *args: str, env: dict | None = None) -> dict:
    """A worker operation in a fresh process; seconds = its own timing (imports excluded)."""
    return run_process([sys.executable, str(Path(__file__).resolve()), "--worker", op, *map(str, args)], env=env)


def measure_sequence(commands: list[list[str]], env: dict | None = None, rows: int | None = None) -> dict:
    """Several processes one after the other (process start included): summed wall and CPU, max RSS."""
    runs = [run_process(c, env=env) for c in commands]
    total = {
        "wall": sum(r["wall"] for r in runs), "seconds": sum(r["wall"] for r in runs),
        "cpu": sum(r["cpu"] for r in runs), "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "tree_rss_mb": max(r["tree_rss_mb"] for r in runs), "rows": rows,
        "extra": {"parts": [round(r["wall"], 3) for r in runs], "parts_cpu": [round(r["cpu"], 3) for r in runs],
                  "parts_rss_mb": [round(r["peak_rss_mb"]) for r in runs]},
    }
    return total


def _table_seconds(runs: list[dict]) -> dict[str, float]:
    """Median seconds per table from `dlvstats metrics all`'s progress lines on stderr."""
    import re

    times: dict[str, list[float]] = {}
    for r in runs:
        for m in re.finditer(r"^\[\s*\d+/\d+\] (\S+)\s+([\d.]+) s", r["stderr_tail"], re.MULTILINE):
            times.setdefault(m.group(1), []).append(float(m.group(2)))
    return {name: statistics.median(v) for name, v in times.items()}


def interleaved(repeat: int, pairs: list[tuple[list, callable]]) -> None:
    """Run each (runs list, thunk) ``repeat`` times, interleaved; the order alternates run by run."""
    for i in range(repeat):
        order = pairs if i % 2 == 0 else list(reversed(pairs))
        for runs, thunk in order:
            runs.append(thunk())


def fresh_db(path: Path) -> Path:
    for suffix in ("", ".wal", ".tmp"):
        p = Path(str(path) + suffix)
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    return path


# ----------------------------------------------------------------------------------------------
# the table


class Table:
    HEADER = (f"{'operation':<46}{'size':>7}{'n':>3}{'median s':>10}{'CPU s':>9}{'ratio':>7}{'CPU r':>7}"
              f"{'rows/s':>12}{'peak RSS MB':>12}{'Σ RSS MB':>10}{'RSS r':>7}")

    def __init__(self, path: Path):
        self.rows: list[dict] = []
        self.path = path
        print(self.HEADER, flush=True)

    def add(self, name: str, size: str, runs: list[dict], baseline: list[dict] | None = None,
            note: str = "", rows: int | None = None, key: str = "seconds") -> dict:
        med = statistics.median(r[key] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        rss = max(r["peak_rss_mb"] for r in runs)
        tree = max(r.get("tree_rss_mb", r["peak_rss_mb"]) for r in runs)
        ratio = cpu_ratio = rss_ratio = None
        if baseline:
            ratio = med / statistics.median(r["seconds"] for r in baseline)
            cpu_ratio = cpu / statistics.median(r["cpu"] for r in baseline)
            rss_ratio = rss / max(r["peak_rss_mb"] for r in baseline)
        nrows = rows if rows is not None else (runs[0].get("rows") or 0)
        row = {"operation": name, "size": size, "n": len(runs), "median_s": med, "cpu_s": cpu, "ratio": ratio,
               "cpu_ratio": cpu_ratio, "rows": nrows, "rows_per_s": nrows / med if med and nrows else None,
               "peak_rss_mb": rss, "tree_rss_mb": tree, "rss_ratio": rss_ratio, "note": note,
               "runs_s": [round(r[key], 3) for r in runs], "runs_cpu": [round(r["cpu"], 3) for r in runs],
               "extra": [r.get("extra", {}) for r in runs]}
        self.rows.append(row)

        def f(v, spec):
            return format(v, spec) if v is not None else ""

        print(f"{name:<46}{size:>7}{len(runs):>3}{med:>10.2f}{cpu:>9.2f}{f(ratio, '>7.2f')}{f(cpu_ratio, '>7.2f')}"
              f"{f(row['rows_per_s'], '>12,.0f')}{rss:>12,.0f}{tree:>10,.0f}{f(rss_ratio, '>7.2f')}"
              + (f"  {note}" if note else ""), flush=True)
        self.path.write_text(json.dumps(self.rows, indent=1, default=str))
        return row


# ----------------------------------------------------------------------------------------------
# the steps


class Bench:
    def __init__(self, args, table: Table):
        self.args, self.table, self.work = args, table, args.workdir
        self.made: set[Path] = set()  # data made in this run (reused by later steps)
        self.steps: list[str] = []

    def _have(self, path: Path, marker: Path) -> bool:
        return path in self.made or (self.args.reuse and marker.exists())

    # data -------------------------------------------------------------------------------------
    def sim_dir(self, size: str, fmt: str) -> Path:
        return self.work / f"sim-{size}-{fmt}"

    def contacts(self, sends: int, months: int = 12) -> int:
        return max(1000, round(sends / (SENDS_PER_CONTACT_MONTH * months)))

    def ensure_sim(self, size: str, fmt: str, timed: list | None = None) -> Path:
        out = self.sim_dir(size, fmt)
        if timed is None and self._have(out, out / "truth.json"):
            return out
        shutil.rmtree(out, ignore_errors=True)
        run = measure("simulate", out, self.contacts(parse_size(size)), 13, END_MONTH, fmt)
        self.made.add(out)
        if timed is not None:
            timed.append(run)
        return out

    def drops(self, size: str, fmt: str) -> list[Path]:
        return sorted(p for p in (self.sim_dir(size, fmt) / "drops").iterdir() if p.is_dir())

    def year_db(self, size: str) -> Path:
        db = self.work / f"year-{size}.duckdb"
        if not self._have(db, db):
            self.ensure_sim(size, "csv")
            measure("ingest", fresh_db(db), *self.drops(size, "csv")[:12])
            self.made.add(db)
        return db

    # steps ------------------------------------------------------------------------------------
    def simulate(self, size: str) -> None:
        runs: list[dict] = []
        for _ in range(self.args.repeat):
            self.ensure_sim(size, "csv", timed=runs)
        self.table.add("simulate 13 months (csv) [goal 7]", size, runs, note="goal >= 200,000 sends/s")
        if "ingest" in self.steps and "parquet" in self.args.formats:
            pq: list[dict] = []
            self.ensure_sim(size, "parquet", timed=pq)
            self.table.add("simulate 13 months (parquet)", size, pq)

    def ingest(self, size: str) -> None:
        for fmt in self.args.formats:
            self.ensure_sim(size, fmt)
            year = [str(p) for p in self.drops(size, fmt)[:12]]
            ours, bare = [], []
            db_ours, db_bare = self.work / f"ingest-{fmt}.duckdb", self.work / f"bare-{fmt}.duckdb"
            interleaved(self.args.repeat, [
                (bare, lambda db_bare=db_bare, fmt=fmt, year=year: measure("bare_load", fresh_db(db_bare), fmt, *year)),
                (ours, lambda db_ours=db_ours, year=year: measure("ingest", fresh_db(db_ours), *year)),
            ])
            self.table.add(f"bare DuckDB CTAS read_{'parquet' if fmt == 'parquet' else 'csv'} ({fmt})", size, bare)
            phases = {k: statistics.median(r["extra"][k] for r in ours)
                      for k in ("phase_read", "phase_merge", "phase_classify_commit")}
            self.table.add(f"dlvstats ingest 12 drops ({fmt}) [goal 1]", size, ours, bare,
                           note="goal ratio <= 2; phases read/merge/classify+commit "
                                + "/".join(f"{v:.1f}" for v in phases.values()) + " s")
            if fmt == "csv":
                fresh_db(self.work / f"year-{size}.duckdb")
                shutil.move(str(db_ours), self.work / f"year-{size}.duckdb")
                self.made.add(self.work / f"year-{size}.duckdb")
            fresh_db(db_bare)
            fresh_db(db_ours)

    def metrics(self, size: str, env: dict | None = None, label: str = "", db: Path | None = None,
                date_from: str = YEAR_FROM, date_to: str = YEAR_TO) -> None:
        db = db or self.year_db(size)
        commands = [dlvstats_cmd() + ["-q", "metrics", m, "--db", str(db), "--from", date_from, "--to", date_to,
                                      "--format", "csv"] for m in METRICS]
        out_all = self.work / "metrics-all-tables"
        command_all = dlvstats_cmd() + ["metrics", "all", "--db", str(db), "--from", date_from, "--to", date_to,
                                        "--out", str(out_all)]
        ours, ref, every = [], [], []

        def run_all():
            shutil.rmtree(out_all, ignore_errors=True)
            return run_process(command_all, env=env)

        interleaved(self.args.repeat, [
            (ref, lambda: measure("reference_pass", db, date_from, date_to, env=env)),
            (ours, lambda: measure_sequence(commands, env=env)),
            (every, run_all),
        ])
        sends = ref[0]["rows"]
        for r in ours:
            r["rows"] = sends
        query = [{**r, "seconds": r["extra"]["query_seconds"]} for r in ref]
        for r in ref:
            r["seconds"] = r["wall"]
        self.table.add(f"reference DuckDB pass, process{label}", size, ref)
        self.table.add(f"reference DuckDB pass, query only{label}", size, query)
        self.table.add(f"4 x `dlvstats metrics` CLI{label} [goal 2]", size, ours, ref,
                       note="goal ratio <= 6 (vs process); vs query only: "
                            f"{statistics.median(r['seconds'] for r in ours) / statistics.median(r['seconds'] for r in query):.1f}x")
        for i, name in enumerate(METRICS):
            parts = [{"seconds": r["extra"]["parts"][i], "cpu": r["extra"]["parts_cpu"][i],
                      "peak_rss_mb": r["extra"]["parts_rss_mb"][i], "rows": sends} for r in ours]
            self.table.add(f"  dlvstats metrics {name}{label}", size, parts)
        tables = _table_seconds(every)
        for r in every:
            r["rows"] = sends
            r["extra"] = {"tables_s": tables}
        slowest = sorted(tables.items(), key=lambda kv: -kv[1])[:4]
        self.table.add(f"`metrics all` ({len(tables)} tables, 1 proc){label} [goal 2]", size, every, ref,
                       note="goal ratio <= 6 (vs process); "
                            f"{statistics.median(r['seconds'] for r in every) / statistics.median(r['seconds'] for r in ours):.2f}x"
                            " the 4 calls; slowest tables (median s): "
                            + ", ".join(f"{n} {t:.2f}" for n, t in slowest))

    def startup(self, size: str) -> None:
        python, help_, metrics_help, imports = [], [], [], []
        n = max(5, self.args.repeat * 2)
        interleaved(n, [
            (python, lambda: run_process([sys.executable, "-c", "pass"])),
            (imports, lambda: run_process([sys.executable, "-c", "import duckdb, pandas"])),
            (help_, lambda: run_process(dlvstats_cmd() + ["--help"])),
            (metrics_help, lambda: run_process(dlvstats_cmd() + ["metrics", "--help"])),
        ])
        self.table.add("python -c pass", "-", python)
        self.table.add("python -c 'import duckdb, pandas'", "-", imports, python)
        self.table.add("dlvstats --help [goal 2]", "-", help_, python, note="goal well under 1 s")
        self.table.add("dlvstats metrics --help", "-", metrics_help, python)

    def pandas(self, size: str) -> None:
        db = self.year_db(size)
        for metric in ("hidden_images", "engagement_by_age"):
            ours, theirs = [], []
            interleaved(self.args.repeat, [
                (theirs, lambda metric=metric: measure(f"pandas_{metric}", db, YEAR_FROM, YEAR_TO)),
                (ours, lambda metric=metric: measure(f"dlvstats_{metric}", db, YEAR_FROM, YEAR_TO)),
            ])
            rows = theirs[0]["rows"]
            for r in ours:
                r["rows"] = rows
            read = statistics.median(r["extra"]["read_seconds"] for r in theirs)
            self.table.add(f"pandas by hand: {metric}", size, theirs, note=f"of which reading tables {read:.1f} s")
            self.table.add(f"dlvstats {metric} [goal 3]", size, ours, theirs,
                           note="goal ratio <= 0.1, RSS ratio <= 0.33")

    def incremental(self, size: str) -> None:
        year = self.year_db(size)
        drops = self.drops(size, "csv")
        month1, month13 = drops[0], drops[12]
        db13, db1 = self.work / "incr-13.duckdb", self.work / "incr-1.duckdb"

        def load13():
            fresh_db(db13)
            shutil.copyfile(year, db13)  # not timed
            return measure("ingest", db13, month13)

        first, later = [], []
        interleaved(self.args.repeat, [
            (first, lambda: measure("ingest", fresh_db(db1), month1)),
            (later, load13),
        ])
        self.table.add(f"ingest month 1 ({month1.name}) into empty db", size, first)
        per_row = ((statistics.median(r["seconds"] for r in later) / later[0]["rows"])
                   / (statistics.median(r["seconds"] for r in first) / first[0]["rows"]))
        phases = "/".join(f"{statistics.median(r['extra'][k] for r in later):.1f}"
                          for k in ("phase_read", "phase_merge", "phase_classify_commit"))
        self.table.add(f"ingest month 13 ({month13.name}) into 12 months [goal 5]", size, later, first,
                       note=f"goal ratio <= 1.5; per-row ratio {per_row:.2f}; phases {phases} s")
        fresh_db(db13)
        fresh_db(db1)

    def report(self, size: str, db: Path | None = None, month: str = REPORT_MONTH, env: dict | None = None,
               label: str = "", repeat: int | None = None, rows: int | None = None) -> None:
        db = db or self.year_db(size)
        if rows is None:  # (in a worker: the parent stays small, see run_process)
            rows = measure("count_month", db, month)["rows"]
        runs, empty = [], []
        for i in range(repeat or self.args.repeat):
            out = self.work / f"reports-{i}"
            shutil.rmtree(out, ignore_errors=True)
            empty.append(measure("empty_notebook", self.work))
            try:
                runs.append(run_process(dlvstats_cmd() + ["-q", "report", "--month", month, "--db", str(db),
                                                          "--out", str(out), "--force"], env=env))
            except RuntimeError as exc:
                print(f"  report failed: {str(exc)[-1500:]}", flush=True)
                self.table.rows.append({"operation": f"dlvstats report {month}{label}", "size": size,
                                        "failed": str(exc)[-3000:]})
                return
            finally:
                shutil.rmtree(out, ignore_errors=True)
        self.table.add("papermill: one notebook, imports only", "-", empty)
        self.table.add(f"dlvstats report {month}{label} [goal 6]", size, runs, empty, rows=rows,
                       note=f"{rows:,} sends in the month; goal <= 90 s at 10M sends/month")

    def memory(self, size: str) -> None:
        """Goals 4 and 6 at --memory-sends over --memory-months months, Parquet drops."""
        total = parse_size(self.args.memory_sends)
        months = self.args.memory_months
        label_size = self.args.memory_sends
        out = self.work / f"sim-{label_size}-{months}m-parquet"
        if not self._have(out, out / "truth.json"):
            shutil.rmtree(out, ignore_errors=True)
            sim = measure("simulate", out, self.contacts(total, months), months, REPORT_MONTH, "parquet")
            self.table.add(f"simulate {months} months (parquet)", label_size, [sim])
        drops = sorted(p for p in (out / "drops").iterdir() if p.is_dir())
        db = self.work / f"memory-{label_size}.duckdb"
        limit = {"DLVSTATS_MEMORY_LIMIT": self.args.memory_limit}
        ingest_limit = {"DLVSTATS_MEMORY_LIMIT": self.args.memory_ingest_limit}
        if not self._have(db, db):
            fresh_db(db)
            for drop in drops:
                run = measure("ingest", db, drop, env=ingest_limit)
                self.table.add(f"ingest {drop.name} (monthly, {self.args.memory_ingest_limit} limit)", label_size, [run],
                               note="phases " + "/".join(f"{run['extra'][k]:.1f}" for k in
                                                         ("phase_read", "phase_merge", "phase_classify_commit")))
        first_month = drops[0].name + "-01"
        self.metrics(label_size, env=limit, label=f" ({self.args.memory_limit} limit)", db=db,
                     date_from=first_month, date_to=YEAR_TO)
        self.report(label_size, db=db, month=REPORT_MONTH, env=limit, label=f" ({self.args.memory_limit} limit)",
                    repeat=1)
        self.report(label_size, db=db, month=REPORT_MONTH, label=" (no limit)", repeat=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sends", default="1M", help="comma-separated sizes, e.g. 1M,10M (sends in the 12 months)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement, interleaved (median shown)")
    parser.add_argument("--only", default=",".join(DEFAULT_STEPS),
                        help=f"comma-separated steps among {', '.join(ALL_STEPS)} (default: all but memory)")
    parser.add_argument("--formats", default="csv,parquet", help="drop formats for the ingest step")
    parser.add_argument("--memory-sends", default="50M", help="memory step: total sends (default 50M)")
    parser.add_argument("--memory-months", type=int, default=5, help="memory step: months (default 5: 10M a month)")
    parser.add_argument("--memory-limit", default="2GB",
                        help="memory step: DLVSTATS_MEMORY_LIMIT for the metrics and the report (default 2GB)")
    parser.add_argument("--memory-ingest-limit", default="4GB",
                        help="memory step: DLVSTATS_MEMORY_LIMIT for the monthly ingests that make its database "
                             "(default 4GB; goal 4 is about metrics and the report)")
    parser.add_argument("--db-memory-limit", default=None,
                        help="DuckDB memory_limit for every step but `memory` (DLVSTATS_MEMORY_LIMIT for dlvstats, "
                             "the same setting for the bare DuckDB baselines), e.g. 6GB on a shared machine")
    parser.add_argument("--workdir", type=Path, default=None, help="where to write data (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse simulated drops and databases found in --workdir (steps other than "
                             "simulate then skip making them)")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        sys.path.insert(0, str(HERE))
        print(json.dumps(_worker(args.worker[0], args.worker[1:])))
        return

    steps = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(steps) - set(ALL_STEPS)
    if unknown:
        parser.error(f"unknown step(s) {', '.join(sorted(unknown))}; choose among {', '.join(ALL_STEPS)}")
    args.formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    temporary = args.workdir is None
    args.workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="dlvstats-bench-"))).resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DLVSTATS_LOCK_TIMEOUT", "5")
    if args.db_memory_limit:
        os.environ["DLVSTATS_MEMORY_LIMIT"] = args.db_memory_limit
    print(f"# dlvstats benchmarks: steps {', '.join(steps)}; sizes {args.sends}; {args.repeat} runs each; "
          f"workdir {args.workdir}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
          f"DuckDB memory limit {os.environ.get('DLVSTATS_MEMORY_LIMIT', 'default')}; {source_fingerprint()}",
          flush=True)
    table = Table(args.workdir / "results.json")
    bench = Bench(args, table)
    bench.steps = steps
    try:
        for size in args.sends.split(","):
            for step in steps:
                if step in ("startup", "memory"):
                    continue
                getattr(bench, step)(size.strip())
        if "startup" in steps:
            bench.startup("-")
        if "memory" in steps:
            bench.memory(args.memory_sends)
    finally:
        print(f"# load average at the end {os.getloadavg()[0]:.1f}; results in {table.path}", flush=True)
        if temporary and not args.keep:
            shutil.rmtree(args.workdir, ignore_errors=True)
    print("\nratio = median seconds / the baseline's median seconds (the row above it), in the same run; "
          "CPU r = the same for CPU seconds (user+sys); RSS r = peak RSS / the baseline's peak RSS.")


if __name__ == "__main__":
    main()
