"""Statement-level profile of an ingest, a classification rebuild or a metric: where the time goes.

    python benchmarks/profile_ingest.py ingest --db COPY.duckdb DROP... [--explain REGEX] [--plans DIR]
    python benchmarks/profile_ingest.py classify --db COPY.duckdb [--explain REGEX]       # full rebuild
    python benchmarks/profile_ingest.py metric hidden-images --db DB --from 2025-11-01 --to 2026-11-01

Every statement dlvstats sends to DuckDB (through ``dlvstats.db.connect``) is timed; the slowest
are listed with their first SQL line and their share of the total. Statements whose text matches
``--explain`` are profiled by DuckDB (``enable_profiling = 'json'``, detailed: the same data as
EXPLAIN ANALYZE plus binding, optimizer and memory figures) and a readable plan with per-operator
timings and row counts is written to ``--plans`` (default: ./plans). Works on a copy:
``ingest`` and ``classify`` write to the database. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import re
import resource
import sys
import time
from pathlib import Path

TIMINGS: list[tuple[float, float, str]] = []


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every DuckDB thread included; statements run one at a time
    return usage.ru_utime + usage.ru_stime


class TimedConnection:
    """Delegates to a DuckDB connection, timing execute/executemany (and optionally explaining)."""

    def __init__(self, con, explain: re.Pattern | None, plans: Path):
        self._con, self._explain, self._plans = con, explain, plans

    def _timed(self, method: str, sql: str, *args, **kwargs):
        flat = " ".join(str(sql).split())
        profile = method == "execute" and self._explain is not None and self._explain.search(flat) \
            and not flat.upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SET ", "PRAGMA"))
        if profile:
            self._plans.mkdir(parents=True, exist_ok=True)
            n = len(list(self._plans.glob("*.txt"))) + 1
            target = self._plans / f"{n:03d}.json"
            self._con.execute("SET enable_profiling = 'json'")
            self._con.execute("SET profiling_mode = 'detailed'")
            self._con.execute(f"SET profiling_output = '{target}'")
        started, cpu0 = time.perf_counter(), _cpu()
        result = getattr(self._con, method)(sql, *args, **kwargs)
        if profile:
            columns = [d[0] for d in (result.description or [])]
            result = (_Rows(result.fetchall(), columns)
                      if flat.upper().startswith(("SELECT", "WITH", "UPDATE", "DELETE")) else None)
        TIMINGS.append((time.perf_counter() - started, _cpu() - cpu0, flat))
        if profile:
            self._con.execute("SET enable_profiling = 'no_output'")
            self._con.execute("SET profiling_output = ''")
            (self._plans / f"{n:03d}.txt").write_text(str(sql).strip() + "\n\n" + render_profile(target))
            return result if result is not None else self._con
        return result

    def execute(self, sql, *args, **kwargs):
        return self._timed("execute", sql, *args, **kwargs)

    def executemany(self, sql, *args, **kwargs):
        return self._timed("executemany", sql, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._con, name)


class _Rows:
    """The fetched rows of a profiled query, for callers that fetch after execute()."""

    def __init__(self, rows, columns):
        self.rows, self.columns = rows, columns

    def fetchone(self):
        return self.rows[0] if self.rows else None

    def fetchall(self):
        return self.rows

    def df(self):
        import pandas as pd

        return pd.DataFrame(self.rows, columns=self.columns).infer_objects()

    fetchdf = df


def render_profile(path: Path) -> str:
    """A readable summary of DuckDB's JSON profile: phases, memory, and the operator tree with timings."""
    import json

    try:
        d = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        return f"(no profile: {exc})"
    q, sysinfo = d.get("query", {}), d.get("system", {})
    lines = [
        f"total {q.get('total_time', 0):.3f} s, cpu {q.get('cpu_time', 0):.3f} s; "
        f"binding/planner {d.get('planner', {}).get('total_time', 0):.3f} s, "
        f"optimizer {d.get('optimizer', {}).get('total_time', 0):.3f} s, "
        f"physical planner {d.get('physical_planner', {}).get('total_time', 0):.3f} s; "
        f"peak buffer memory {sysinfo.get('peak_buffer_memory', 0) / 2**20:.0f} MB, "
        f"spilled {sysinfo.get('total_bytes_spilled', 0) / 2**20:.0f} MB",
    ]
    slow_opt = sorted(((v, k) for k, v in d.get("optimizer", {}).items() if k != "total_time"), reverse=True)[:3]
    if slow_opt and slow_opt[0][0] > 0.01:
        lines.append("slowest optimizer passes: " + ", ".join(f"{k} {v:.3f} s" for v, k in slow_opt))

    def walk(node, depth):
        info = node.get("extra_info") or {}
        brief = "; ".join(f"{k}: {str(v)[:90]}" for k, v in info.items()
                          if k in ("Table", "Join Type", "Conditions", "Groups", "Aggregates", "Filters",
                                   "Function", "Type", "Estimated Cardinality"))
        lines.append(f"{'  ' * depth}{node.get('name', '?'):<26} {node.get('timing', 0):8.3f} s "
                     f"{node.get('intermediate_rows', 0):>12,} rows  {brief}")
        for child in node.get("children", []):
            walk(child, depth + 1)

    for op in d.get("operator", []):
        walk(op, 0)
    return "\n".join(lines)


def install(explain: str | None, plans: Path) -> None:
    from dlvstats import db

    original = db.connect
    pattern = re.compile(explain, re.IGNORECASE) if explain else None

    def connect(*args, **kwargs):
        return TimedConnection(original(*args, **kwargs), pattern, plans)

    db.connect = connect


def summary(total: float, total_cpu: float, top: int) -> None:
    spent = sum(t for t, _, _ in TIMINGS)
    spent_cpu = sum(c for _, c, _ in TIMINGS)
    print(f"\n{len(TIMINGS)} statements, {spent:.2f} s wall / {spent_cpu:.2f} s CPU in DuckDB, of {total:.2f} s "
          f"wall / {total_cpu:.2f} s CPU (the rest: Python)")
    groups: dict[str, list[tuple[float, float]]] = {}
    for t, c, sql in TIMINGS:
        key = re.sub(r"__stage_\d+", "__stage_N", sql)
        key = re.sub(r"'[^']*'", "'…'", key)[:150]
        groups.setdefault(key, []).append((t, c))
    ranked = sorted(groups.items(), key=lambda kv: -sum(c for _, c in kv[1]))
    print(f"{'wall s':>8} {'CPU s':>7} {'CPU %':>6} {'calls':>5}  statement (first 150 characters), by CPU")
    for key, times in ranked[:top]:
        wall, cpu = sum(t for t, _ in times), sum(c for _, c in times)
        print(f"{wall:8.2f} {cpu:7.2f} {cpu / max(total_cpu, 1e-9):6.1%} {len(times):5d}  {key}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["ingest", "classify", "metric"])
    parser.add_argument("args", nargs="*", help="ingest: drops; metric: the metric's name")
    parser.add_argument("--db", required=True)
    parser.add_argument("--from", dest="date_from")
    parser.add_argument("--to", dest="date_to")
    parser.add_argument("--explain", help="regex: EXPLAIN ANALYZE the statements matching it")
    parser.add_argument("--plans", type=Path, default=Path("plans"))
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_intermixed_args()
    install(args.explain, args.plans)
    started, cpu0 = time.perf_counter(), _cpu()
    if args.what == "ingest":
        from dlvstats.ingest import ingest_paths

        summary_ = ingest_paths(Path(args.db), [Path(p) for p in args.args])
        print(f"read {sum(c.read for c in summary_.counts.values()):,} rows")
    elif args.what == "classify":
        from dlvstats import classify, db

        con = db.connect(args.db)
        con.execute("BEGIN TRANSACTION")
        classify.classify(con)
        con.execute("COMMIT")
        con.close()
    else:
        from dlvstats import metrics

        frame = metrics.get(args.args[0])(args.db, args.date_from, args.date_to)
        print(f"{len(frame)} rows")
    summary(time.perf_counter() - started, _cpu() - cpu0, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
