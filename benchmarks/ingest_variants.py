"""Alternatives to the slow statements of the ingest and of message_facts, measured side by side.

    python benchmarks/ingest_variants.py staging  SIM_DIR [--kind sends] [--repeat 3]
    python benchmarks/ingest_variants.py convert  SIM_DIR [--kind sends] [--repeat 3]
    python benchmarks/ingest_variants.py dedupe   SIM_DIR [--repeat 3]
    python benchmarks/ingest_variants.py facts    YEAR_DB [--month 2026-10] [--repeat 3]

Each variant is a statement (or a few) run in the same process on the same data, interleaved run by
run, timed in wall and CPU seconds (getrusage: every DuckDB thread). The "current" variant is the
SQL dlvstats runs today (copied from dlvstats/ingest/canonical.py and core.py, or read from the
packaged SQL files); the others are the changes proposed in docs/performance.md, so the expected
gain of each proposal is a measured ratio, not a guess. Nothing here is used by dlvstats itself.

staging   one kind's CSV files of the 12 monthly drops of SIM_DIR (as `run.py` writes them):
          current per-file staging (reject store, row_number() OVER () for __line, json_object for
          __raw) against the same without __raw, without the window, and one read_csv over all files.
convert   the per-row validation and conversion of one kind (core._conversion_sql, over a UNION ALL
          of the per-file staged tables as today) against one staged table and against converting
          each value once (trim once, cast once, reasons derived from the converted values).
dedupe    the within-drop deduplication of sends (QUALIFY row_number() OVER (PARTITION BY
          message_id ...) = 1) against DISTINCT ON and against windowing only duplicated ids.
facts     message_facts: the full rebuild against the refresh an ingest runs (the messages the
          last drop of YEAR_DB can have changed), both as dlvstats does them, on a copy of YEAR_DB.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb


def cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def timed(con, statements: list[str], params: dict | None = None) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), cpu()
    for sql in statements:
        con.execute(sql, params if params and "$" in sql else None)
    return time.perf_counter() - w0, cpu() - c0


def compare(con, variants: dict[str, callable], repeat: int) -> None:
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    names = list(variants)
    for i in range(repeat):
        for name in (names if i % 2 == 0 else names[::-1]):
            results[name].append(variants[name]())
    base = names[0]
    bw = statistics.median(w for w, _ in results[base])
    bc = statistics.median(c for _, c in results[base])
    print(f"{'variant':<62}{'wall s':>9}{'CPU s':>9}{'wall r':>8}{'CPU r':>8}")
    for name in names:
        w = statistics.median(x for x, _ in results[name])
        c = statistics.median(x for _, x in results[name])
        print(f"{name:<62}{w:>9.2f}{c:>9.2f}{w / bw:>8.2f}{c / bc:>8.2f}", flush=True)


# ----------------------------------------------------------------------------------------------


def kind_files(sim: Path, kind: str) -> list[Path]:
    drops = sorted(p for p in (sim / "drops").iterdir() if p.is_dir())[:12]
    return [f for d in drops for f in sorted(d.iterdir()) if f.name.split(".")[0] == kind]


def header_of(path: Path) -> list[str]:
    import csv

    with open(path, encoding="utf-8", newline="") as handle:
        return [h.strip().lower() for h in next(csv.reader(handle))]


def staging(args) -> None:
    from dlvstats.ingest.schema import KINDS

    files = kind_files(args.path, args.kind)
    header = header_of(files[0])
    cols = KINDS[args.kind].column_names
    select = ", ".join(f'c{header.index(c)} AS "{c}"' if c in header else f'NULL::VARCHAR AS "{c}"' for c in cols)
    raw = ", ".join(f"'{h}', c{i}" for i, h in enumerate(header))
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    reader = ("read_csv('{src}', columns=" + columns + ", header=true, auto_detect=false, delim=',', quote='\"', "
              "escape='\"', strict_mode=true, encoding='utf-8', store_rejects=true, ignore_errors=true, "
              "rejects_scan='reject_scans', rejects_table='reject_errors')")
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")

    def per_file(line: bool, raw_json: bool):
        def run():
            stmts = []
            for i, f in enumerate(files):
                extra = ", '" + str(f) + "' AS __file"
                extra += ", (row_number() OVER () + 1)::BIGINT AS __line" if line else ", NULL::BIGINT AS __line"
                extra += f", json_object({raw})::VARCHAR AS __raw" if raw_json else ", NULL::VARCHAR AS __raw"
                stmts.append(f"CREATE OR REPLACE TEMP TABLE __s{i} AS SELECT {select}{extra}, NULL::VARCHAR AS __error "
                             f"FROM {reader.replace('{src}', str(f))}")
                stmts.append(f"SELECT count(*) FROM __s{i}")
                stmts.append("DELETE FROM reject_errors")
                stmts.append("DELETE FROM reject_scans")
            return timed(con, stmts)
        return run

    def one_read():
        src = "[" + ", ".join(f"'{f}'" for f in files) + "]"
        r = reader.replace("'{src}'", src).replace("encoding='utf-8',", "encoding='utf-8', filename=true,")
        return timed(con, [f"CREATE OR REPLACE TEMP TABLE __all AS SELECT {select}, filename AS __file, "
                           f"NULL::BIGINT AS __line, NULL::VARCHAR AS __raw, NULL::VARCHAR AS __error FROM {r}",
                           "DELETE FROM reject_errors", "DELETE FROM reject_scans"])

    # the reject tables exist after a first read
    con.execute(f"CREATE TEMP TABLE __warm AS SELECT * FROM {reader.replace('{src}', str(files[0]))} LIMIT 1")
    assert all(c in header for c in cols if KINDS[args.kind].column(c).required), header
    print(f"staging {args.kind}: {len(files)} files, "
          f"{sum(f.stat().st_size for f in files) / 1e6:.0f} MB")
    compare(con, {
        "current: per file, row_number() OVER () __line, json_object __raw": per_file(True, True),
        "per file, __line, no __raw (raw rebuilt on the error path)": per_file(True, False),
        "per file, no __line (rowid), no __raw": per_file(False, False),
        "one read_csv over all files (filename=true), no __line/__raw": one_read,
    }, args.repeat)


def dedupe(args) -> None:
    files = kind_files(args.path, "sends")
    con = duckdb.connect()
    src = "[" + ", ".join(f"'{f}'" for f in files) + "]"
    con.execute(f"CREATE TEMP TABLE __conv_sends AS SELECT *, filename AS __file, "
                f"(row_number() OVER (PARTITION BY filename) + 1)::BIGINT AS __line, NULL::VARCHAR AS __reason "
                f"FROM read_csv({src}, filename=true)")
    n, dups = con.execute("SELECT count(*), count(*) - count(DISTINCT message_id) FROM __conv_sends").fetchone()
    print(f"dedupe sends: {n:,} rows, {dups:,} repeated message ids")
    rank = "CASE WHEN coalesce(status, 'delivered') IN ('delivered', 'bounced') THEN 2 ELSE 1 END"
    good = "(SELECT * FROM __conv_sends WHERE __reason IS NULL)"
    current = (f"CREATE OR REPLACE TEMP TABLE __new_sends AS SELECT * REPLACE (coalesce(status, 'delivered') AS status) "
               f"FROM {good} QUALIFY row_number() OVER (PARTITION BY message_id ORDER BY {rank} DESC, __file, __line) = 1")
    distinct_on = (f"CREATE OR REPLACE TEMP TABLE __new_sends AS SELECT DISTINCT ON (message_id) "
                   f"* REPLACE (coalesce(status, 'delivered') AS status) FROM {good} "
                   f"ORDER BY message_id, {rank} DESC, __file, __line")
    dup_only = (f"CREATE OR REPLACE TEMP TABLE __new_sends AS "
                f"WITH g AS (SELECT *, count(*) OVER (PARTITION BY message_id) AS __n FROM {good}) "
                f"SELECT * EXCLUDE (__n) REPLACE (coalesce(status, 'delivered') AS status) FROM g WHERE __n = 1 "
                f"UNION ALL "
                f"SELECT * EXCLUDE (__n) REPLACE (coalesce(status, 'delivered') AS status) FROM g WHERE __n > 1 "
                f"QUALIFY row_number() OVER (PARTITION BY message_id ORDER BY {rank} DESC, __file, __line) = 1")
    dup_semi = (f"CREATE OR REPLACE TEMP TABLE __new_sends AS "
                f"WITH d AS (SELECT message_id FROM {good} GROUP BY message_id HAVING count(*) > 1) "
                f"SELECT * REPLACE (coalesce(status, 'delivered') AS status) FROM {good} ANTI JOIN d USING (message_id) "
                f"UNION ALL "
                f"(SELECT * REPLACE (coalesce(status, 'delivered') AS status) FROM {good} SEMI JOIN d USING (message_id) "
                f"QUALIFY row_number() OVER (PARTITION BY message_id ORDER BY {rank} DESC, __file, __line) = 1)")
    compare(con, {
        "current: QUALIFY row_number() OVER (PARTITION BY message_id ...)": lambda: timed(con, [current]),
        "DISTINCT ON (message_id) ORDER BY ...": lambda: timed(con, [distinct_on]),
        "window only over duplicated ids (count(*) OVER)": lambda: timed(con, [dup_only]),
        "window only over duplicated ids (GROUP BY HAVING, anti/semi)": lambda: timed(con, [dup_semi]),
    }, args.repeat)
    for sql in (current, distinct_on, dup_only, dup_semi):  # same rows?
        con.execute(sql)
        print(con.execute("SELECT count(*), sum(hash(message_id, status, __file, __line)) FROM __new_sends").fetchone())


def convert(args) -> None:
    """The per-row validation and conversion (core._conversion_sql) against converting each value once."""
    from dlvstats.ingest import core
    from dlvstats.ingest.schema import KINDS

    files = kind_files(args.path, args.kind)
    spec = KINDS[args.kind]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    src = "[" + ", ".join(f"'{f}'" for f in files) + "]"
    header = header_of(files[0])
    columns = "{" + ", ".join(f"'{h}': 'VARCHAR'" for h in header) + "}"
    select = ", ".join(f'"{c}"' if c in header else f'NULL::VARCHAR AS "{c}"' for c in spec.column_names)
    con.execute(f"CREATE TEMP TABLE __stage_all AS SELECT {select}, filename AS __file, "
                f"(row_number() OVER (PARTITION BY filename) + 1)::BIGINT AS __line, NULL::VARCHAR AS __raw, "
                f"NULL::VARCHAR AS __error FROM read_csv({src}, columns={columns}, header=true, auto_detect=false, "
                f"filename=true)")
    for i, f in enumerate(files):  # the per-file layout the loader converts today (a UNION ALL of files)
        con.execute(f"CREATE TEMP TABLE __stage_{i} AS SELECT * FROM __stage_all WHERE __file = '{f}'")
    n = con.execute("SELECT count(*) FROM __stage_all").fetchone()[0]
    print(f"convert {args.kind}: {n:,} rows in {len(files)} files")
    current_union = ("CREATE OR REPLACE TEMP TABLE __conv AS "
                     + " UNION ALL ".join(core._conversion_sql(args.kind, f"__stage_{i}") for i in range(len(files))))
    current_one = "CREATE OR REPLACE TEMP TABLE __conv AS " + core._conversion_sql(args.kind, "__stage_all")

    # convert once: trim once (t_*), convert once from the trimmed value, derive each reason from the
    # converted value (NULL where the text was not NULL) instead of converting a second time
    trimmed = ", ".join(f"NULLIF(trim(\"{c}\"), '') AS \"t_{c}\"" for c in spec.column_names)
    converted = []
    for c in spec.columns:
        expr = core._converted(c).replace(f"NULLIF(trim(\"{c.name}\"), '')", f'"t_{c.name}"')
        converted.append(f'{expr} AS "{c.name}"')
    reason_parts = ["__error"]
    for c in spec.columns:
        if c.required:
            reason_parts.append(f"CASE WHEN \"t_{c.name}\" IS NULL THEN 'missing required value for {c.name}' END")
        if c.type != "varchar" or c.enum:
            reason_parts.append(f"CASE WHEN \"t_{c.name}\" IS NOT NULL AND \"{c.name}\" IS NULL THEN "
                                f"'{c.name}: ' || to_json(left(\"t_{c.name}\", 60))::VARCHAR || ' is not valid' END")
    lean = ("CREATE OR REPLACE TEMP TABLE __conv AS SELECT " + ", ".join(f'"{c}"' for c in spec.column_names)
            + f", __file, __line, NULLIF(concat_ws('; ', {', '.join(reason_parts)}), '') AS __reason FROM ("
            f"SELECT *, {', '.join(converted)} FROM (SELECT {trimmed}, __file, __line, __error FROM __stage_all))")
    compare(con, {
        f"current: _conversion_sql, UNION ALL of {len(files)} staged files": lambda: timed(con, [current_union]),
        "current _conversion_sql over one staged table": lambda: timed(con, [current_one]),
        "trim once, convert once, reasons from the converted values": lambda: timed(con, [lean]),
    }, args.repeat)
    con.execute(current_one)
    a = con.execute("SELECT count(*), count(__reason), any_value(__reason) FROM __conv").fetchone()
    con.execute(lean)
    b = con.execute("SELECT count(*), count(__reason), any_value(__reason) FROM __conv").fetchone()
    print(f"rows, bad rows: current {a}, convert-once {b}")


def facts(args) -> None:
    """message_facts: the full rebuild against the refresh dlvstats runs after an ingest (the
    messages the database's last drop can have changed), both through classify.update_message_facts."""
    from dlvstats import db
    from dlvstats.classify import update_message_facts

    work = Path(tempfile.mkdtemp(prefix="dlvstats-facts-"))
    copy = work / "facts.duckdb"
    shutil.copyfile(args.path, copy)
    con = duckdb.connect(str(copy))
    drop_id = con.execute("SELECT max(drop_id) FROM drops").fetchone()[0]
    db.run(con, "classify/scope", scope_drop_id=drop_id, scope_from=None, scope_to=None)
    total, scoped = con.execute("SELECT (SELECT count(*) FROM sends), (SELECT count(*) FROM __scope)").fetchone()
    print(f"message_facts: {total:,} messages in the database, {scoped:,} touched by drop {drop_id}")

    def run(drop):
        w0, c0 = time.perf_counter(), cpu()
        update_message_facts(con, drop)
        return time.perf_counter() - w0, cpu() - c0

    con.execute("BEGIN")
    compare(con, {
        "full rebuild (all history)": lambda: run(None),
        f"refresh: the messages drop {drop_id} can have changed": lambda: run(drop_id),
    }, args.repeat)
    con.execute("ROLLBACK")
    con.close()
    shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["staging", "dedupe", "convert", "facts"])
    parser.add_argument("path", type=Path)
    parser.add_argument("--kind", default="sends")
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    {"staging": staging, "dedupe": dedupe, "convert": convert, "facts": facts}[args.what](args)


if __name__ == "__main__":
    main()
