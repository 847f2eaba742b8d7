"""``dlvstats ingest``: load drops (canonical or ESP/MTA logs) into the database, atomically.

The pattern every command follows: options declared with click above the function, checked and
turned into plain values here, then one call of the domain function (``ingest_paths``), whose
outcome is printed and mapped to an exit code. To add an option (say ``--engine``): an
``@click.option`` line, a parameter of ``ingest``, and the value passed on.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dlvstats.cli.common import PATH, LazyChoice, Progress, Run, command, db_option, pairs, usage
from dlvstats.exit_codes import EXIT_OK, EXIT_REFUSED, EXIT_USAGE

EPILOG = """\
Examples:
  dlvstats ingest data/drops/2026-10 --db data/dlvstats.duckdb
  dlvstats ingest export/ --timezone Europe/Paris --on-error quarantine
  dlvstats ingest --map mapping.toml export_campagnes.csv   (your own headers; docs/inputs.md)
Exit codes: 0 loaded, 3 refused (nothing loaded), 4 database busy, 1 other failure.
"""


def input_formats() -> list[str]:
    """``--format``'s choices: canonical, auto, and every format of the adapters' registry."""
    from dlvstats.ingest.adapters import FORMATS

    return ["canonical", "auto", *FORMATS]


@command(
    "ingest", short_help="load drops (canonical or ESP/MTA logs) into the database, atomically",
    help="Load one or more drops into the DuckDB file as one atomic step. A drop is a directory of files "
    "named after their kind (sends.csv, opens.parquet, clicks/part-1.jsonl.gz, ...); see docs/schema.md. By "
    "default a drop with any bad row is refused whole and the database is left unchanged; the message "
    "names file, line and problem.",
    epilog=EPILOG, arguments={"DROP...": "drop directories (or single files)"},
)
@click.argument("paths", nargs=-1, required=True, type=PATH, metavar="DROP...")
@db_option()
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb",
              help="spark: add the drop to the lake --lake DIR (DuckDB validates it, Spark merges it with the "
              "stored rows and rewrites the month partitions it touches; docs/scale-out.md)")
@click.option("--lake", type=PATH, default=None, metavar="DIR", help="the lake --engine spark adds to")
@click.option("--on-error", type=click.Choice(["refuse", "quarantine"]), default="refuse",
              help="refuse (default): any bad row refuses the whole load; quarantine: load the good rows and "
              "keep each bad one in the `rejects` table")
@click.option("--timezone", default=None,
              help="time zone of timestamps that carry no offset (default UTC, or the --map file's; French "
              "exports are often Europe/Paris)")
@click.option("--map", "mapping", type=PATH, default=None, metavar="MAPPING.toml",
              help="read CSV exports with your own column mapping (source column -> canonical column, value "
              "renames, constants, date format, time zone): every CSV file not named after another kind is read "
              "as the mapping's kind; propose one with `dlvstats map --propose FILE`; see docs/inputs.md")
@click.option("--format", "input_format", type=LazyChoice(input_formats), default=None,
              help="input format (default: canonical when files are named after canonical kinds, else sniffed "
              "from content as with 'auto'); ESP/MTA formats are described in docs/formats/")
@click.option("--delimiter", default=None,
              help="CSV field separator (default: detected from each file's header when unambiguous, else ','; "
              "';' for many French exports). See docs/input-files.md")
@click.option("--encoding", default=None,
              help="text encoding of CSV files (default: UTF-8, or Latin-1/Windows-1252 when a file is not valid "
              "UTF-8, said in the summary; e.g. utf-8, latin-1, cp1252, utf-16)")
@click.option("--date-format", default=None, metavar="PATTERN",
              help="strptime pattern of timestamps that are not ISO 8601, e.g. '%d/%m/%Y %H:%M' for 27/11/2026 "
              "14:03 (default: ISO 8601, or day/month order detected when unambiguous)")
@click.option("--decimal-comma", is_flag=True, default=None,
              help="accept decimal commas (12,50) in amount; on by default for files not separated by ','")
@click.option("--pseudonymize", is_flag=True,
              help="replace each recipient address by a keyed pseudonym (HMAC-SHA256 with $DLVSTATS_PSEUDONYM_KEY), "
              "keeping the domain; see docs/privacy.md")
@click.option("--account", default=None, help="account_id for adapters' rows that name none")
@click.option("--campaign", default=None, help="campaign_id for adapters' rows that name none")
@click.option("--list", "list_id", default=None, help="list_id for adapters' rows that name none")
@click.option("--year", type=int, default=None,
              help="postfix: the year of syslog time stamps, which carry none (default: from each file's "
              "modification time; docs/formats/postfix.md)")
@click.option("--tag", multiple=True, metavar="FIELD=NAME",
              help="read a canonical field from another ESP tag/metadata name, e.g. --tag account_id=client "
              "(repeatable; defaults per format in docs/formats/)")
def ingest(run: Run, paths: tuple[Path, ...], db: Path | None, engine: str, lake: Path | None, on_error: str,
           timezone: str | None,
           mapping: Path | None, input_format: str | None, delimiter: str | None, encoding: str | None,
           date_format: str | None, decimal_comma: bool | None, pseudonymize: bool, account: str | None,
           campaign: str | None, list_id: str | None, year: int | None, tag: tuple[str, ...]) -> int:
    from dlvstats.ingest import DropError, IngestRefused, ReadOptions, ingest_paths
    from dlvstats.privacy import PrivacyError, RecipientModeError

    if engine == "spark" or lake is not None:
        if engine != "spark" or lake is None or db is not None:
            return usage("a lake takes a drop with --engine spark --lake DIR (and no --db)")
    else:
        db_path = db or run.settings.db_path
        db_path.parent.mkdir(parents=True, exist_ok=True)
    read_options = ReadOptions(delimiter=delimiter, encoding=encoding, date_format=date_format,
                               decimal_comma=decimal_comma)
    if mapping is not None:
        if input_format not in (None, "canonical"):
            return usage(f"--map reads CSV exports; it cannot be combined with --format {input_format} (ingest "
                         f"the {input_format} files in another run)")
        resolved = _with_mapping(mapping, read_options, timezone)
        if resolved is None:
            return EXIT_USAGE
        read_options, timezone = resolved
    options = adapter_options(account, campaign, list_id, tag, year)
    fmt = _input_format(paths, input_format, mapping)
    if engine == "spark":
        return _ingest_on_spark(run, lake, list(paths), on_error, timezone or "UTC", read_options, pseudonymize,
                                fmt, options)
    try:
        summary = ingest_paths(
            db_path, list(paths), on_error=on_error, timezone_name=timezone or "UTC", read_options=read_options,
            pseudonymize=pseudonymize, input_format=fmt,
            progress=Progress(run.quiet), adapter_options=options, config=run.settings,
        )
    except (IngestRefused, DropError, RecipientModeError, PrivacyError) as exc:
        print(f"dlvstats ingest: {exc}", file=sys.stderr)
        print(f"The database {db_path} is unchanged.", file=sys.stderr)
        return EXIT_REFUSED
    print(format_summary(summary, db_path))
    return EXIT_OK


def _ingest_on_spark(run: Run, lake: Path, paths: list[Path], on_error: str, timezone: str, read_options,
                     pseudonymize: bool, input_format: str, options) -> int:
    """``dlvstats ingest DROP --engine spark --lake DIR``: the same options, the same refusals."""
    from dlvstats import spark_ingest
    from dlvstats.ingest import DropError, IngestRefused
    from dlvstats.lake import LakeError
    from dlvstats.privacy import PrivacyError, RecipientModeError

    try:
        summary = spark_ingest.ingest_lake(
            lake, paths, on_error=on_error, timezone_name=timezone, read_options=read_options,
            pseudonymize=pseudonymize, input_format=input_format, progress=Progress(run.quiet),
            adapter_options=options)
    except (IngestRefused, DropError, RecipientModeError, PrivacyError, LakeError,
            spark_ingest.LakeIngestError) as exc:
        print(f"dlvstats ingest: {exc}", file=sys.stderr)
        print(f"The lake {lake} is unchanged.", file=sys.stderr)
        return EXIT_REFUSED
    print(format_summary(summary, lake))
    return EXIT_OK


def _with_mapping(mapping: Path, read_options, timezone: str | None):
    """``--map``: (read options carrying the mapping, time zone), or None after saying why not."""
    from dlvstats.ingest.mapping import MappingError, load_mapping, with_read_options

    try:
        loaded = load_mapping(mapping)
    except MappingError as exc:
        print(f"dlvstats ingest: {exc}", file=sys.stderr)
        return None
    return with_read_options(loaded, read_options), timezone or loaded.read.get("timezone", "UTC")


def _input_format(paths, input_format: str | None, mapping: Path | None) -> str:
    """--format, else canonical when every path is a canonical drop, else sniffed from content."""
    if mapping is not None:
        return "canonical"  # --map reads CSV exports (refused above with an ESP format)
    if input_format:
        return input_format
    from dlvstats.ingest.canonical import DropError, list_drop_files

    try:
        for path in paths:
            list_drop_files(path)
    except DropError as exc:
        if "unknown kind" in str(exc):
            return "auto"
        raise
    return "canonical"


def adapter_options(account: str | None, campaign: str | None, list_id: str | None, tags,
                    year: int | None = None) -> dict | None:
    """The adapters' keyword arguments from --account, --campaign, --list, --year and --tag FIELD=NAME."""
    options = {"account_id": account, "campaign_id": campaign, "list_id": list_id, "year": year}
    found = dict(pairs(tags, "--tag", "FIELD=NAME"))
    if found:
        options["tags"] = found
    return {k: v for k, v in options.items() if v is not None} or None


def format_summary(summary, db_path) -> str:
    lines = [f"Loaded drop {summary.drop_id} into {db_path}", ""]
    header = f"{'kind':<14}{'files':>6}{'read':>12}{'loaded':>12}{'updated':>10}{'duplicates':>12}{'rejected':>10}"
    lines.append(header)
    lines.append("-" * len(header))
    for kind, c in summary.counts.items():
        lines.append(
            f"{kind:<14}{c.files:>6}{c.read:>12,}{c.loaded:>12,}{c.updated:>10,}{c.duplicates:>12,}{c.rejected:>10,}"
        )
    lines.append("read = loaded + updated + duplicates + rejected, for every kind.")
    for kind, c in summary.counts.items():
        if c.ignored_columns:
            lines.append(f"note: {kind}: ignored column(s) with no place in the table: {', '.join(sorted(c.ignored_columns))}")
    if any(c.rejected for c in summary.counts.values()):
        lines.append("Rejected rows are in the `rejects` table (file, line, kind, reason, raw).")
    lines.extend(f"note: {n}" for n in summary.notes)
    return "\n".join(lines)
