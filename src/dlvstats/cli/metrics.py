"""``dlvstats metrics``: print one metric table (table, csv or json), or write tables as CSV files
(``--out DIR``); ``dlvstats metrics all --out DIR`` writes every registered table in one process, on
one shared read-only open of the database."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import click

from dlvstats.cli.common import PATH, Day, Run, command, usage
from dlvstats.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from dlvstats.metrics import REGISTRY

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
             textwrap.fill(", ".join(SPARK_METRICS), width=100, initial_indent="  ", subsequent_indent="  ",
                           break_on_hyphens=False),
             "Not on Spark yet (run them on DuckDB over the same lake):"]
    for name, why in sorted(NOT_ON_SPARK.items()):
        lines.append(textwrap.fill(f"{name}: {why}", width=100, initial_indent="  ", subsequent_indent="      ",
                                   break_on_hyphens=False))
    lines += ["", "  dlvstats export --db data/dlvstats.duckdb --lake lake/",
              "  dlvstats metrics sender-health --lake lake/ --engine spark --from 2026-10-01 --to 2026-11-01"]
    return "\n".join(lines) + "\n"


@command("metrics", short_help="print a metric table (engagement-by-age, gift-campaigns, hidden-images, sender-health)",
         help="Print one metric table, computed in DuckDB (or Spark, over a lake) over the whole period.",
         epilog=METRICS_HELP + spark_help(),
         arguments={"NAME": f"metric name (see below), or {ALL!r} for every table (with --out)"})
@click.argument("name", metavar="NAME", type=click.Choice([*sorted(REGISTRY), ALL]))
@click.option("--db", type=PATH, default=None, help="DuckDB file (default: $DLVSTATS_DB or data/dlvstats.duckdb)")
@click.option("--lake", default=None, metavar="DIR",
              help="read a lake written by `dlvstats export --lake DIR` instead of a DuckDB file (with --engine "
              "spark also a URI: s3a://bucket/lake, abfss://..., dbfs:/...)")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb",
              help="duckdb (default) or spark (needs --lake and `pip install 'dlvstats[spark]'`; the metrics it "
              "runs are listed below)")
@click.option("--from", "date_from", required=True, type=Day(),
              help="first day, YYYY-MM-DD (inclusive; a day in --report-timezone)")
@click.option("--to", "date_to", required=True, type=Day(), help="end day, YYYY-MM-DD (exclusive)")
@click.option("--report-timezone", metavar="ZONE", default=None,
              help="read --from/--to as days in this IANA zone, e.g. Europe/Paris (default: the "
              "DLVSTATS_REPORT_TIMEZONE setting, else UTC)")
@click.option("--account", "account_id", default=None, help="only this account's messages")
@click.option("--format", "output_format", type=click.Choice(["table", "csv", "json"]), default="table")
@click.option("--option", "option", multiple=True, metavar="KEY=VALUE",
              help="metric-specific option, e.g. --option by=provider (repeatable; not with all)")
@click.option("--out", type=PATH, default=None, metavar="DIR",
              help="write DIR/NAME.csv instead of printing (created if missing; needed by all)")
def metrics(run: Run, name: str, db: Path | None, lake: str | None, engine: str, date_from: str, date_to: str,
            report_timezone: str | None, account_id: str | None, output_format: str, option: tuple[str, ...],
            out: Path | None) -> int:
    from dlvstats.metrics.common import UnknownAccount, check_account

    source = _source(name, db, lake, engine, run.settings.db_path)
    if source is None:
        return EXIT_USAGE
    refused = _refusal(name, date_from, date_to, out, output_format, option)
    if refused:
        return usage(refused)
    try:
        check_account(source, account_id)
    except UnknownAccount as exc:
        return usage(str(exc))
    zone = report_timezone or run.settings.report_timezone
    start, end = _zoned(date_from, date_to, zone)
    if start is None:
        return EXIT_USAGE
    if name == ALL:
        return run_all(source, start, end, zone, account_id, out, quiet=run.quiet, verbose=run.verbose)
    frame = table(name, source, start, end, zone, account_id, parse_options(option))
    if out is not None:
        write_csv(frame, out, name)
        return EXIT_OK
    from dlvstats import export

    text = export.render(frame, output_format)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return EXIT_OK


def _refusal(name: str, date_from: str, date_to: str, out: Path | None, output_format: str, option) -> str | None:
    """Why these options cannot go together, or None."""
    if date_from >= date_to:
        return (f"--from {date_from} must come before --to {date_to} (the end day is exclusive: --from "
                "2026-10-01 --to 2026-11-01 is October)")
    if name == ALL and out is None:
        return "all: give --out DIR (every table is written as DIR/NAME.csv)"
    if name == ALL and option:
        return ("all: --option is metric-specific; run `dlvstats metrics NAME --option ...` for the table it "
                "applies to")
    if out is not None and output_format != "table":
        return "--out writes CSV files; leave out --format"
    return None


def parse_options(pairs: tuple[str, ...]) -> dict:
    """``--option KEY=VALUE`` as keyword arguments: true/false, integers and decimals typed."""
    from dlvstats.cli.common import BadValue

    options = {}
    for pair in pairs:
        if "=" not in pair:
            raise BadValue(f"--option expects KEY=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        if value.lower() in ("true", "false"):
            options[key] = value.lower() == "true"
            continue
        for kind in (int, float):
            try:
                options[key] = kind(value)
                break
            except ValueError:
                continue
        else:
            options[key] = value
    return options


def _zoned(date_from: str, date_to: str, timezone: str) -> tuple[str | None, str | None]:
    """--from/--to as UTC instants with an offset, the days being cut in ``timezone`` (Nones: said why)."""
    from dlvstats.metrics.common import utc_instant

    try:
        return tuple(f"{utc_instant(d, timezone):%Y-%m-%dT%H:%M:%S}+00:00" for d in (date_from, date_to))
    except ValueError as exc:
        usage(str(exc))
        return None, None


def _source(name: str, db: Path | None, lake: str | None, engine: str, default_db: Path):
    """The DuckDB file, the lake directory, or the Spark lake the metric reads (None: usage error said)."""
    if lake is not None and db is not None:
        usage("give --db FILE or --lake DIR, not both")
        return None
    if engine == "spark":
        from dlvstats import spark as spark_engine

        if lake is None:
            usage("--engine spark reads a lake: give --lake DIR (write one with `dlvstats export --db DB --lake DIR`)")
            return None
        if name not in spark_engine.SPARK_METRICS:
            usage(f"{name} does not run on Spark yet: {spark_engine.NOT_ON_SPARK.get(name, 'not translated')}. "
                  f"Metrics on Spark: {', '.join(sorted(spark_engine.SPARK_METRICS))}. Run it on DuckDB over the "
                  "same lake (drop --engine spark); see docs/scale-out.md.")
            return None
        return spark_engine.SparkLake(lake)
    if lake is not None:
        from dlvstats import lake as lake_module

        try:
            lake_module.manifest(lake)
        except lake_module.LakeError as exc:
            usage(str(exc))
            return None
        return Path(lake)
    return db or default_db


def table(name: str, source, date_from: str, date_to: str, zone: str, account_id, options: dict):
    """One metric's table, called as ``dlvstats metrics NAME`` calls it."""
    from dlvstats import metrics as metrics_module

    func = metrics_module.get(name)
    if "timezone" in inspect.signature(func).parameters:
        options = {"timezone": zone, **options}  # days/weeks/months cut in the reporting zone too
    return func(source, date_from, date_to, account_id=account_id, **options)


def write_csv(frame, out: Path, name: str, scrubber=None) -> Path:
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


def run_all(source, date_from: str, date_to: str, zone: str, account_id, out: Path, *, quiet: bool = False,
            verbose: bool = False) -> int:
    """Every registered table into ``out``, one process, one shared read-only open of the file.
    A table that fails is said on stderr (its old CSV, if any, removed) and the others still run."""
    import time
    from contextlib import nullcontext

    from dlvstats import lake
    from dlvstats.metrics.common import shared_readonly
    from dlvstats.scrub import AddressScrubber

    scrubber = AddressScrubber()
    names = sorted(REGISTRY)
    failed: list[str] = []
    started = time.perf_counter()
    # a lake is read through in-memory views per metric; a DuckDB file is opened once for all
    with nullcontext() if lake.is_lake(source) else shared_readonly(source):
        for i, name in enumerate(names, 1):
            t0 = time.perf_counter()
            try:
                frame = table(name, source, date_from, date_to, zone, account_id, {})
            except Exception as exc:  # one table's failure is reported, the rest still run
                (out / f"{name}.csv").unlink(missing_ok=True)  # no stale table beside the new ones
                failed.append(name)
                print(f"[{i:2d}/{len(names)}] {name:<28} FAILED after {time.perf_counter() - t0:6.2f} s: "
                      f"{type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                if verbose:
                    raise
                continue
            target = write_csv(frame, out, name, scrubber)
            if not quiet:
                print(f"[{i:2d}/{len(names)}] {name:<28} {time.perf_counter() - t0:6.2f} s  "
                      f"{len(frame):>6,} rows  {target}", file=sys.stderr, flush=True)
    if failed:
        print(f"dlvstats metrics all: {len(failed)} of {len(names)} tables failed ({', '.join(failed)}); "
              "the others are in " + str(out), file=sys.stderr)
        return EXIT_FAILED
    if not quiet:
        print(f"{len(names)} tables in {time.perf_counter() - started:.2f} s -> {out}", file=sys.stderr)
    return EXIT_OK
