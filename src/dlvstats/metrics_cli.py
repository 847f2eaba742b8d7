"""The ``dlvstats metrics`` sub-command: print one metric table (table, csv or json), or write
tables as CSV files (``--out DIR``); ``dlvstats metrics all --out DIR`` writes every registered
table in one process, on one shared read-only open of the database."""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path

METRICS_HELP = """\
Metrics (NAME):
  engagement-by-age   open, click, complaint, bounce, unsubscribe and estimated read rates by
                      the age of the address (years since it was collected)
  gift-campaigns      per gift campaign: re-registration, A->B migration, 90-day buyers vs control
  hidden-images       per mailbox provider: how many non-openers really read (images blocked)
  sender-health       complaint and bounce rates against the 0.1%/0.3% lines, blocklists, risk
  classification-sensitivity  headline rates under alternative human/machine rule sets
  all                 every metric table (the list in `dlvstats metrics --help`'s NAME choices),
                      one CSV file each, DIR/NAME.csv: needs --out DIR

Dates are days in the reporting time zone (--report-timezone, default UTC); --to is exclusive;
a message belongs to the period of its send time.
Every rate comes with its count and a 95% interval (columns *_low, *_high); small_cell flags
cells under the minimum volume.

--out DIR writes DIR/NAME.csv instead of printing: the --format csv text (spreadsheet formulas
neutralised) with every e-mail address replaced by "[address hidden #tag]", as in the report's CSV
files. `metrics all` runs every table in one process (DuckDB and pandas imported, the database
opened once) and prints one progress line per table, with its time, on stderr (not with -q).

Examples:
  dlvstats metrics hidden-images --db data/dlvstats.duckdb --from 2026-10-01 --to 2026-11-01
  dlvstats metrics all --db data/dlvstats.duckdb --from 2026-10-01 --to 2026-11-01 --out tables/2026-10
  dlvstats metrics engagement-by-age --from 2026-01-01 --to 2026-11-01 --account acct_oldlist --format csv > age.csv
"""


#: the NAME that runs every registered metric
ALL = "all"


def spark_help() -> str:
    """The --engine spark part of the help: what runs there, and why the others do not yet."""
    import textwrap

    from dlvstats.spark import NOT_ON_SPARK, SPARK_METRICS  # constants only: pyspark is not loaded

    lines = ["", "On Spark (--engine spark --lake DIR; docs/scale-out.md):",
             textwrap.fill(", ".join(SPARK_METRICS), width=100, initial_indent="  ", subsequent_indent="  ", break_on_hyphens=False),
             "Not on Spark yet (run them on DuckDB over the same lake):"]
    for name, why in sorted(NOT_ON_SPARK.items()):
        lines.append(textwrap.fill(f"{name}: {why}", width=100, initial_indent="  ", subsequent_indent="      ", break_on_hyphens=False))
    lines += ["", "  dlvstats export --db data/dlvstats.duckdb --lake lake/",
              "  dlvstats metrics sender-health --lake lake/ --engine spark --from 2026-10-01 --to 2026-11-01"]
    return "\n".join(lines) + "\n"


def add_parser(sub) -> None:
    from dlvstats.metrics import REGISTRY

    p = sub.add_parser(
        "metrics", help="print a metric table (engagement-by-age, gift-campaigns, hidden-images, sender-health)",
        description="Print one metric table, computed in DuckDB (or Spark, over a lake) over the whole period.",
        epilog=METRICS_HELP + spark_help(), formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", metavar="NAME", choices=[*sorted(REGISTRY), ALL],
                   help=f"metric name (see below), or {ALL!r} for every table (with --out)")
    p.add_argument("--db", type=Path, default=None, help="DuckDB file (default: $DLVSTATS_DB or data/dlvstats.duckdb)")
    p.add_argument("--lake", default=None, metavar="DIR",
                   help="read a lake written by `dlvstats export --lake DIR` instead of a DuckDB file (with "
                        "--engine spark also a URI: s3a://bucket/lake, abfss://..., dbfs:/...)")
    p.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb",
                   help="duckdb (default) or spark (needs --lake and `pip install 'dlvstats[spark]'`; "
                        "the metrics it runs are listed below)")
    p.add_argument("--from", dest="date_from", required=True, type=_day,
                   help="first day, YYYY-MM-DD (inclusive; a day in --report-timezone)")
    p.add_argument("--to", dest="date_to", required=True, type=_day, help="end day, YYYY-MM-DD (exclusive)")
    p.add_argument("--report-timezone", metavar="ZONE", default=None,
                   help="read --from/--to as days in this IANA zone, e.g. Europe/Paris (default: the "
                        "DLVSTATS_REPORT_TIMEZONE setting, else UTC)")
    p.add_argument("--account", dest="account_id", help="only this account's messages")
    p.add_argument("--format", dest="output_format", choices=["table", "csv", "json"], default="table")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="metric-specific option, e.g. --option by=provider (repeatable; not with all)")
    p.add_argument("--out", metavar="DIR", type=Path, default=None,
                   help="write DIR/NAME.csv instead of printing (created if missing; needed by all)")
    p.set_defaults(handler=run)


def _day(text: str) -> str:
    """argparse type of --from/--to: a bad date is a usage error (exit 2) saying what is expected."""
    import datetime

    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: give YYYY-MM-DD, e.g. 2026-10-01") from None
    if len(text) != 10:
        raise argparse.ArgumentTypeError(f"{text!r}: give the day as YYYY-MM-DD, e.g. 2026-10-01")
    return text


def _parse_options(pairs: list[str]) -> dict:
    options = {}
    for pair in pairs:
        if "=" not in pair:
            raise SystemExit(f"dlvstats metrics: --option expects KEY=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        if value.lower() in ("true", "false"):
            options[key] = value.lower() == "true"
        else:
            try:
                options[key] = int(value)
            except ValueError:
                try:
                    options[key] = float(value)
                except ValueError:
                    options[key] = value
    return options


def _zoned(date_from: str, date_to: str, timezone: str) -> tuple[str, str]:
    """--from/--to as UTC instants with an offset, the days being cut in ``timezone``."""
    from dlvstats.metrics.common import utc_instant

    try:
        return tuple(f"{utc_instant(d, timezone):%Y-%m-%dT%H:%M:%S}+00:00" for d in (date_from, date_to))
    except ValueError as exc:
        print(f"dlvstats metrics: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


def _source(args):
    """The DuckDB file, the lake directory, or the Spark lake the metric reads (None: usage error said)."""
    from dlvstats.config import settings

    if args.lake is not None and args.db is not None:
        print("dlvstats metrics: give --db FILE or --lake DIR, not both", file=sys.stderr)
        return None
    if args.engine == "spark":
        from dlvstats import spark as spark_engine

        if args.lake is None:
            print("dlvstats metrics: --engine spark reads a lake: give --lake DIR (write one with "
                  "`dlvstats export --db DB --lake DIR`)", file=sys.stderr)
            return None
        if args.name not in spark_engine.SPARK_METRICS:
            print(f"dlvstats metrics: {args.name} does not run on Spark yet: "
                  f"{spark_engine.NOT_ON_SPARK.get(args.name, 'not translated')}. Metrics on Spark: "
                  f"{', '.join(sorted(spark_engine.SPARK_METRICS))}. Run it on DuckDB over the same lake "
                  f"(drop --engine spark); see docs/scale-out.md.", file=sys.stderr)
            return None
        return spark_engine.SparkLake(args.lake)
    if args.lake is not None:
        from dlvstats import lake

        try:
            lake.manifest(args.lake)
        except lake.LakeError as exc:
            print(f"dlvstats metrics: {exc}", file=sys.stderr)
            return None
        return Path(args.lake)
    return args.db or settings().db_path


def run(args) -> int:
    from dlvstats.config import settings
    from dlvstats.metrics.common import UnknownAccount, check_account

    db_path = _source(args)
    if db_path is None:
        return 2
    if args.date_from >= args.date_to:
        print(f"dlvstats metrics: --from {args.date_from} must come before --to {args.date_to} (the end day is "
              "exclusive: --from 2026-10-01 --to 2026-11-01 is October)", file=sys.stderr)
        return 2
    if args.name == ALL and args.out is None:
        print("dlvstats metrics all: give --out DIR (every table is written as DIR/NAME.csv)", file=sys.stderr)
        return 2
    if args.name == ALL and args.option:
        print("dlvstats metrics all: --option is metric-specific; run `dlvstats metrics NAME --option ...` "
              "for the table it applies to", file=sys.stderr)
        return 2
    if args.out is not None and args.output_format != "table":
        print("dlvstats metrics: --out writes CSV files; leave out --format", file=sys.stderr)
        return 2
    try:
        check_account(db_path, args.account_id)
    except UnknownAccount as exc:
        print(f"dlvstats metrics: {exc}", file=sys.stderr)
        return 2
    zone = args.report_timezone or settings().report_timezone
    date_from, date_to = _zoned(args.date_from, args.date_to, zone)
    if args.name == ALL:
        return _run_all(db_path, date_from, date_to, zone, args)
    frame = _table(args.name, db_path, date_from, date_to, zone, args.account_id, _parse_options(args.option))
    if args.out is not None:
        _write_csv(frame, args.out, args.name)
        return 0
    from dlvstats import export

    text = export.render(frame, args.output_format)
    sys.stdout.write(text)
    if not text.endswith("\n"):
        sys.stdout.write("\n")
    return 0


def _table(name: str, db_path, date_from: str, date_to: str, zone: str, account_id, options: dict):
    """One metric's table, called as ``dlvstats metrics NAME`` calls it."""
    from dlvstats import metrics

    func = metrics.get(name)
    if "timezone" in inspect.signature(func).parameters:
        options = {"timezone": zone, **options}  # days/weeks/months cut in the reporting zone too
    return func(db_path, date_from, date_to, account_id=account_id, **options)


def _write_csv(frame, out: Path, name: str, scrubber=None) -> Path:
    """``out/NAME.csv``: the ``--format csv`` text (export.to_csv) with every e-mail address replaced
    by a tag, as in the monthly report's CSV files (``scrubber``: one per run, so one address has
    one tag across a run's files); written whole, then renamed into place."""
    from dlvstats import export
    from dlvstats.scrub import AddressScrubber

    scrubber = scrubber or AddressScrubber()
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{name}.csv"
    partial = out / f".{name}.csv.partial"
    partial.write_text(scrubber.text(export.to_csv(frame)), encoding="utf-8")
    partial.replace(target)
    return target


def _run_all(db_path, date_from: str, date_to: str, zone: str, args) -> int:
    """Every registered table into ``args.out``, one process, one shared read-only open of the file.
    A table that fails is said on stderr (its old CSV, if any, removed) and the others still run."""
    import time

    from dlvstats.metrics import REGISTRY
    from dlvstats.metrics.common import shared_readonly
    from dlvstats.scrub import AddressScrubber

    scrubber = AddressScrubber()
    quiet = getattr(args, "quiet", False)
    names = sorted(REGISTRY)
    failed: list[str] = []
    started = time.perf_counter()
    from contextlib import nullcontext

    from dlvstats import lake

    # a lake is read through in-memory views per metric; a DuckDB file is opened once for all
    with nullcontext() if lake.is_lake(db_path) else shared_readonly(db_path):
        for i, name in enumerate(names, 1):
            t0 = time.perf_counter()
            try:
                frame = _table(name, db_path, date_from, date_to, zone, args.account_id, {})
            except Exception as exc:  # one table's failure is reported, the rest still run
                (args.out / f"{name}.csv").unlink(missing_ok=True)  # no stale table beside the new ones
                failed.append(name)
                print(f"[{i:2d}/{len(names)}] {name:<28} FAILED after {time.perf_counter() - t0:6.2f} s: "
                      f"{type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                if getattr(args, "verbose", False):
                    raise
                continue
            target = _write_csv(frame, args.out, name, scrubber)
            if not quiet:
                print(f"[{i:2d}/{len(names)}] {name:<28} {time.perf_counter() - t0:6.2f} s  "
                      f"{len(frame):>6,} rows  {target}", file=sys.stderr, flush=True)
    if failed:
        print(f"dlvstats metrics all: {len(failed)} of {len(names)} tables failed ({', '.join(failed)}); "
              "the others are in " + str(args.out), file=sys.stderr)
        return 1
    if not quiet:
        print(f"{len(names)} tables in {time.perf_counter() - started:.2f} s -> {args.out}", file=sys.stderr)
    return 0
