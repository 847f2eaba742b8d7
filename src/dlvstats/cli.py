"""The ``dlvstats`` command: composes the steps; the only place logging is configured.

Each sub-command imports what it needs when it runs, so ``dlvstats --help`` and start-up stay fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
from pathlib import Path

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_REFUSED = 3  # bad input: nothing was loaded
EXIT_BUSY = 4  # the database was locked for longer than the lock timeout
EXIT_FAILED = 1

#: ``dlvstats simulate --as``: the writers of ``dlvstats.ingest.adapters.export`` (its ``FORMATS``;
#: not imported here, to keep the CLI's start light)
ESP_WRITERS = ("ses", "sendgrid", "brevo", "mailjet", "mandrill", "sparkpost", "exim")

DESCRIPTION = """\
Deliverability analytics over your own send, open, click and complaint logs.

Typical month:
  dlvstats ingest data/drops/2026-10 --db data/dlvstats.duckdb     load the month's drop
  dlvstats info --db data/dlvstats.duckdb                          what is loaded, orphans, rejects
  dlvstats metrics hidden-images --db data/dlvstats.duckdb --from 2026-10-01 --to 2026-11-01
  dlvstats report --month 2026-10 --db data/dlvstats.duckdb --out reports --email ops@example.com

Try it on simulated data first:  make demo   (or: dlvstats simulate --out data/demo)
"""


class Progress:
    """Progress lines on stderr for long work (one line per step; no control codes in logs)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.started = time.monotonic()

    def __call__(self, stage: str, done: int, total: int, detail: str = "") -> None:
        if self.quiet:
            return
        elapsed = time.monotonic() - self.started
        print(f"[{elapsed:6.1f}s] {stage} {done}/{total} {detail}".rstrip(), file=sys.stderr, flush=True)


def _default_db() -> Path:
    from dlvstats.config import settings

    return settings().db_path


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", type=Path, default=None,
        help="DuckDB file (default: $DLVSTATS_DB, else data/dlvstats.duckdb in the checkout)",
    )


MEMORY_LIMIT_HELP = (
    "cap DuckDB's memory in each process, e.g. 2GB or 500MB (default: $DLVSTATS_MEMORY_LIMIT, else "
    "DuckDB's own default, 80%% of RAM); past it DuckDB spills to a .tmp directory beside the database"
)
_MEMORY_SIZE = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dlvstats", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log debug details")
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress lines")
    common.add_argument("--memory-limit", metavar="SIZE", default=None, help=MEMORY_LIMIT_HELP)
    _orig_add_parser = sub.add_parser

    def add_parser(name, **kwargs):
        kwargs.setdefault("parents", [common])
        return _orig_add_parser(name, **kwargs)

    sub.add_parser = add_parser  # every sub-command also takes -v/-q after its name

    p = sub.add_parser(
        "simulate", help="write a realistic simulated drop (with its latent truth) for demos and tests",
        description="Simulate an ESP's month-by-month logs: several clients, lists collected over 13 "
        "years, image blocking, Apple MPP, link scanners, gift campaigns, a stale list and a "
        "blocklisting. Writes canonical drops DIR/drops/YYYY-MM/ and DIR/truth.json.",
        epilog="worlds (mechanisms on top of the default world, to test estimators on logs they were not "
        "designed for):\n"
        "  dlvstats simulate --list-worlds                     what each mechanism does, where it is documented\n"
        "  dlvstats simulate --out w1 --world scanner_pools     gateways with address pools (default strength)\n"
        "  dlvstats simulate --out w2 --world scanner_pools:0.8,proxy_prefetch:0.5\n"
        "  dlvstats simulate --out w3 --world realistic         every mechanism at published strengths\n"
        "truth.json then gains a \"world\" section: true read rate and pixel-never-loaded share per provider,\n"
        "age year, device and client; truth_machine_events.csv.gz lists every machine open and click.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", type=Path, help="output directory (created; required unless --list-worlds)")
    p.add_argument("--world", metavar="NAME[:STRENGTH][,...]",
                   help="compose simulated-world mechanisms, e.g. scanner_pools:0.5,mpp_variants or realistic "
                   "(default: the default world, unchanged)")
    p.add_argument("--list-worlds", action="store_true", help="list the world mechanisms and exit")
    p.add_argument("--seed", type=int, default=0, help="random seed: the same seed gives the same files")
    p.add_argument("--contacts", type=int, default=20000,
                   help="addresses in the population (default 20000, about 1M sends over 12 months)")
    p.add_argument("--months", type=int, default=12, help="months of sending to simulate (default 12)")
    p.add_argument("--end-month", default="2026-10", help="last simulated month, YYYY-MM (default 2026-10)")
    p.add_argument("--format", dest="fmt", default="csv.gz", choices=["csv", "csv.gz", "parquet", "jsonl", "jsonl.gz"],
                   help="file format of the canonical drop (default csv.gz)")
    p.add_argument("--as", dest="as_format", default="canonical",
                   choices=["canonical", *ESP_WRITERS],
                   help="canonical (default); " + ", ".join(ESP_WRITERS) + " also writes the same logs as that "
                   "ESP's event payloads (or Exim's main log) in DIR/drops-<format>/YYYY-MM/, to try the adapters")

    p = sub.add_parser(
        "ingest", help="load drops (canonical or ESP/MTA logs) into the database, atomically",
        description="Load one or more drops into the DuckDB file as one atomic step. A drop is a "
        "directory of files named after their kind (sends.csv, opens.parquet, clicks/part-1.jsonl.gz, "
        "...); see docs/schema.md. By default a drop with any bad row is refused whole and the "
        "database is left unchanged; the message names file, line and problem.",
        epilog="Examples:\n  dlvstats ingest data/drops/2026-10 --db data/dlvstats.duckdb\n"
        "  dlvstats ingest export/ --timezone Europe/Paris --on-error quarantine\n"
        "  dlvstats ingest --map mapping.toml export_campagnes.csv   (your own headers; docs/inputs.md)\n"
        "Exit codes: 0 loaded, 3 refused (nothing loaded), 4 database busy, 1 other failure.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", type=Path, metavar="DROP", help="drop directories (or single files)")
    _add_db(p)
    p.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb",
                   help="spark: add the drop to the lake --lake DIR (DuckDB validates it, Spark merges it with "
                   "the stored rows and rewrites the month partitions it touches; docs/scale-out.md)")
    p.add_argument("--lake", type=Path, default=None, metavar="DIR", help="the lake --engine spark adds to")
    p.add_argument("--on-error", choices=["refuse", "quarantine"], default="refuse",
                   help="refuse (default): any bad row refuses the whole load; quarantine: load the good "
                   "rows and keep each bad one in the `rejects` table")
    p.add_argument("--timezone", default=None,
                   help="time zone of timestamps that carry no offset (default UTC, or the --map file's; "
                   "French exports are often Europe/Paris)")
    p.add_argument("--map", dest="mapping", type=Path, default=None, metavar="MAPPING.toml",
                   help="read CSV exports with your own column mapping (source column -> canonical column, value "
                   "renames, constants, date format, time zone): every CSV file not named after another kind "
                   "is read as the mapping's kind; propose one "
                   "with `dlvstats map --propose FILE`; see docs/inputs.md")
    p.add_argument("--format", dest="input_format", default=None,
                   choices=["canonical", "auto", "ses", "sendgrid", "mailgun", "postmark", "pmta", "arf", "postfix",
                            "brevo", "mailjet", "mandrill", "sparkpost", "exim"],
                   help="input format (default: canonical when files are named after canonical kinds, else "
                   "sniffed from content as with 'auto'); ESP/MTA formats are described in docs/formats/")
    p.add_argument("--delimiter", default=None,
                   help="CSV field separator (default: detected from each file's header when unambiguous, "
                   "else ','; ';' for many French exports). See docs/input-files.md")
    p.add_argument("--encoding", default=None,
                   help="text encoding of CSV files (default: UTF-8, or Latin-1/Windows-1252 when a file is "
                   "not valid UTF-8, said in the summary; e.g. utf-8, latin-1, cp1252, utf-16)")
    p.add_argument("--date-format", default=None, metavar="PATTERN",
                   help="strptime pattern of timestamps that are not ISO 8601, e.g. '%%d/%%m/%%Y %%H:%%M' for "
                   "27/11/2026 14:03 (default: ISO 8601, or day/month order detected when unambiguous)")
    p.add_argument("--decimal-comma", action="store_true", default=None,
                   help="accept decimal commas (12,50) in amount; on by default for files not separated by ','")
    p.add_argument("--pseudonymize", action="store_true",
                   help="replace each recipient address by a keyed pseudonym (HMAC-SHA256 with "
                   "$DLVSTATS_PSEUDONYM_KEY), keeping the domain; see docs/privacy.md")
    p.add_argument("--account", help="account_id for adapters' rows that name none")
    p.add_argument("--campaign", help="campaign_id for adapters' rows that name none")
    p.add_argument("--list", dest="list_id", help="list_id for adapters' rows that name none")
    p.add_argument("--tag", action="append", default=[], metavar="FIELD=NAME",
                   help="read a canonical field from another ESP tag/metadata name, e.g. --tag account_id=client "
                   "(repeatable; defaults per format in docs/formats/)")

    p = sub.add_parser("info", help="what the database holds: row counts, coverage, orphans, rejects",
                       description="Row counts per table, date coverage, orphans (opens, clicks, "
                       "complaints whose message has no send), rejects and the schema version.")
    _add_db(p)
    p.add_argument("--format", dest="output_format", choices=["table", "json"], default="table")

    p = sub.add_parser("classify", help="re-label opens and clicks as human or machine (after changing rules)",
                       description="Rebuild the human/machine labels of every open and click and the "
                       "per-message facts, with the default rules or a JSON rules file. No re-ingest needed. "
                       "Then prints the count per rule and the drift alarms: a provider's machine-open share "
                       "moving sharply month to month, machine events from networks in no list growing, an old "
                       "networks snapshot.",
                       epilog="examples:\n  dlvstats classify --db data/dlvstats.duckdb\n"
                       "  echo '{\"name\": \"strict\", \"scanner_seconds\": 300}' > strict.json\n"
                       "  dlvstats classify --db data/dlvstats.duckdb --rules strict.json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_db(p)
    p.add_argument("--rules", type=Path, help="JSON file overriding fields of the default RuleSet")

    p = sub.add_parser("providers", help="show or extend the domain -> mailbox provider mapping",
                       description="Show the mapping, add entries (e.g. your B2B recipients' domains "
                       "hosted by Google Workspace or Microsoft 365), or propose entries from MX records.")
    _add_db(p)
    p.add_argument("--add", action="append", default=[], metavar="DOMAIN=PROVIDER",
                   help="add or replace a mapping, e.g. --add acme.fr=microsoft (repeatable)")
    p.add_argument("--mx", action="store_true",
                   help="look up MX records of the most frequent 'other' domains (needs DNS; cached) and "
                   "propose gmail/microsoft entries")
    p.add_argument("--apply-mx", action="store_true", help="with --mx: store the proposals")
    p.add_argument("--top", type=int, default=200, help="with --mx: how many 'other' domains to look up")

    p = sub.add_parser(
        "forget", help="erase one recipient from every table and rewrite the file (GDPR erasure)",
        description="Remove every row about one recipient (sends, their opens, clicks and complaints, "
        "subscriptions, orders, rejected rows that quote the address, derived tables), erase the address "
        "from any other text, then rewrite the database into a fresh file so the old blocks are gone, and "
        "say what was removed. In a pseudonymised database, DLVSTATS_PSEUDONYM_KEY must be set. "
        "See docs/privacy.md.",
        epilog="Exit codes: 0 done (also when nothing matched), 4 database busy, 1 failure.",
    )
    p.add_argument("address", metavar="ADDRESS", help="the recipient's e-mail address")
    _add_db(p)
    p.add_argument("--dry-run", action="store_true", help="say what would be removed; change nothing")

    p = sub.add_parser("migrate", help="upgrade an older database file to this version's schema")
    _add_db(p)

    from dlvstats import networks_cli

    networks_cli.add_parser(sub)
    try:
        from dlvstats import metrics_cli

        metrics_cli.add_parser(sub)
    except ImportError:  # pragma: no cover - during development only
        pass
    try:
        from dlvstats import report_cli

        report_cli.add_parser(sub)
    except ImportError:  # pragma: no cover
        pass
    from dlvstats import blocklists_cli

    blocklists_cli.add_parser(sub)
    from dlvstats import map_cli

    map_cli.add_parser(sub)
    from dlvstats import export_cli

    export_cli.add_parser(sub)
    return parser


def _configure_logging(verbose: bool, quiet: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def cmd_ingest(args) -> int:
    from dlvstats.ingest import DropError, IngestRefused, ReadOptions, ingest_paths
    from dlvstats.privacy import PrivacyError, RecipientModeError

    db_path = args.db or _default_db()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    progress = Progress(args.quiet)
    from dlvstats.map_cli import ingest_mapping  # --map: its read options and time zone

    resolved = ingest_mapping(args, ReadOptions(delimiter=args.delimiter, encoding=args.encoding,
                                                date_format=args.date_format, decimal_comma=args.decimal_comma))
    if resolved is None:
        return EXIT_USAGE
    if args.engine == "spark" or args.lake is not None:
        return _ingest_on_spark(args, resolved, progress)
    try:
        summary = ingest_paths(
            db_path, args.paths, on_error=args.on_error, timezone_name=resolved[1], read_options=resolved[0],
            pseudonymize=args.pseudonymize,
            input_format=_input_format(args), progress=progress,
            adapter_options=_adapter_options(args),
        )
    except (IngestRefused, DropError, RecipientModeError, PrivacyError) as exc:
        print(f"dlvstats ingest: {exc}", file=sys.stderr)
        print(f"The database {db_path} is unchanged.", file=sys.stderr)
        return EXIT_REFUSED
    print(format_summary(summary, db_path))
    return EXIT_OK


def _ingest_on_spark(args, resolved, progress) -> int:
    """``dlvstats ingest DROP --engine spark --lake DIR``: the same options, the same refusals."""
    from dlvstats.ingest import DropError, IngestRefused
    from dlvstats.lake import LakeError
    from dlvstats.privacy import PrivacyError, RecipientModeError

    if args.engine != "spark" or args.lake is None or args.db is not None:
        print("dlvstats ingest: a lake takes a drop with --engine spark --lake DIR (and no --db)", file=sys.stderr)
        return EXIT_USAGE
    from dlvstats import spark_ingest

    try:
        summary = spark_ingest.ingest_lake(
            args.lake, args.paths, on_error=args.on_error, timezone_name=resolved[1], read_options=resolved[0],
            pseudonymize=args.pseudonymize, input_format=_input_format(args), progress=progress,
            adapter_options=_adapter_options(args))
    except (IngestRefused, DropError, RecipientModeError, PrivacyError, LakeError, spark_ingest.LakeIngestError) as exc:
        print(f"dlvstats ingest: {exc}", file=sys.stderr)
        print(f"The lake {args.lake} is unchanged.", file=sys.stderr)
        return EXIT_REFUSED
    print(format_summary(summary, args.lake))
    return EXIT_OK


def _input_format(args) -> str:
    """--format, else canonical when every path is a canonical drop, else sniffed from content."""
    if getattr(args, "mapping", None) is not None:
        return "canonical"  # --map reads CSV exports (cmd_ingest refuses it with an ESP format)
    if args.input_format:
        return args.input_format
    from dlvstats.ingest.canonical import DropError, list_drop_files

    try:
        for path in args.paths:
            list_drop_files(path)
    except DropError as exc:
        if "unknown kind" in str(exc):
            return "auto"
        raise
    return "canonical"


def _adapter_options(args) -> dict | None:
    tags = {}
    for pair in args.tag:
        if "=" not in pair:
            raise ValueError(f"--tag expects FIELD=NAME, got {pair!r}")
        field, name = pair.split("=", 1)
        tags[field.strip()] = name.strip()
    options = {"account_id": args.account, "campaign_id": args.campaign, "list_id": args.list_id}
    if tags:
        options["tags"] = tags
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


def cmd_info(args) -> int:
    from dlvstats import info

    db_path = args.db or _default_db()
    report = info.database_info(db_path)
    if args.output_format == "json":
        import json

        print(json.dumps(report, indent=2, default=str))
    else:
        print(info.format_info(report))
    return EXIT_OK


def cmd_classify(args) -> int:
    import json
    from dataclasses import replace

    from dlvstats import classify, db, drift

    rules = classify.DEFAULT_RULES
    if args.rules:
        overrides = json.loads(args.rules.read_text())
        rules = replace(rules, name=overrides.pop("name", str(args.rules)), **overrides)
    con = db.connect(args.db or _default_db())
    try:
        db.require_dlvstats_db(con, args.db)
        con.execute("BEGIN TRANSACTION")
        classify.classify(con, rules)
        con.execute("COMMIT")
        rows = con.execute(
            "SELECT 'opens', actor_rule, count(*) FROM opens GROUP BY ALL UNION ALL "
            "SELECT 'clicks', actor_rule, count(*) FROM clicks GROUP BY ALL ORDER BY 1, 2"
        ).fetchall()
        alarms = drift.alarms(con)
    finally:
        con.close()
    print(f"Re-labelled with rules '{rules.name}':")
    for kind, rule, n in rows:
        print(f"  {kind:<7}{rule:<22}{n:>12,}")
    print("Drift alarms (is a rule going stale? docs/classification.md):")
    for alarm in alarms or ["none"]:
        print(f"  {alarm}")
    return EXIT_OK


def cmd_providers(args) -> int:
    from dlvstats import providers

    return providers.run_cli(args, args.db or _default_db())


def cmd_simulate(args) -> int:
    from dlvstats import simulate

    if args.list_worlds:
        from dlvstats.worlds import list_worlds

        print(list_worlds())
        return EXIT_OK
    if args.out is None:
        print("dlvstats simulate: error: --out DIR is required (or --list-worlds)", file=sys.stderr)
        return EXIT_USAGE
    args.world_obj = None
    if args.world:
        from dlvstats.worlds import parse_world

        try:
            args.world_obj = parse_world(args.world)
        except ValueError as exc:
            print(f"dlvstats simulate: error: --world: {exc}", file=sys.stderr)
            return EXIT_USAGE
    args.progress = Progress(args.quiet)
    esp_format = args.as_format
    if esp_format != "canonical" and esp_format not in ESP_WRITERS:
        print(f"dlvstats simulate: --as takes canonical, {', '.join(ESP_WRITERS)}", file=sys.stderr)
        return EXIT_USAGE
    args.as_format = "canonical"
    code = simulate.main_from_args(args) or EXIT_OK
    if code == EXIT_OK and esp_format != "canonical":
        from dlvstats.ingest.adapters.export import write_drops_as

        target = Path(args.out) / f"drops-{esp_format}"
        write_drops_as(esp_format, Path(args.out) / "drops", target)
        print(f"ESP payloads ({esp_format}): {target}/YYYY-MM/  (load with: dlvstats ingest --format "
              f"{esp_format} {target}/YYYY-MM)")
    return code


def cmd_forget(args) -> int:
    from dlvstats import privacy

    db_path = args.db or _default_db()
    try:
        report = privacy.forget(db_path, args.address, dry_run=args.dry_run)
    except privacy.PrivacyError as exc:
        print(f"dlvstats forget: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(format_forget(report, db_path))
    return EXIT_OK


def format_forget(report, db_path) -> str:
    who = report.address if report.mode == "plain" else f"{report.address} (pseudonym {report.target})"
    verb = "would remove" if report.dry_run else "removed"
    lines = [f"{'Dry run: ' if report.dry_run else ''}{who} in {db_path} ({report.mode} recipients)"]
    if not report.removed and not report.erased_mentions:
        lines.append("  nothing about this recipient was found.")
    for table, n in sorted(report.removed.items()):
        lines.append(f"  {verb} {n:>10,} row(s) from {table}")
    for column, n in sorted(report.erased_mentions.items()):
        lines.append(f"  {'would erase' if report.dry_run else 'erased'} the address in {n:,} row(s) of {column}")
    if report.rewritten:
        lines.append(
            f"Rewrote the database into a fresh file ({report.size_before:,} -> {report.size_after:,} bytes): "
            "the deleted rows' old blocks are gone, and the address's bytes were checked absent from it."
        )
        lines.append("Backups, copies and exported reports made before today are not touched: erase them too.")
    return "\n".join(lines)


def cmd_migrate(args) -> int:
    from dlvstats import db

    con = db.connect(args.db or _default_db())
    try:
        version = db.migrate(con)
    finally:
        con.close()
    print(f"schema version {version}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from dlvstats import __version__

        print(f"dlvstats {__version__}")
        return EXIT_OK
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    if getattr(args, "memory_limit", None) is not None:
        if not _MEMORY_SIZE.fullmatch(args.memory_limit.strip()):
            parser.error(f"--memory-limit {args.memory_limit!r}: give a size such as 2GB, 1.5GB or 500MB")
        # through the environment, so the report's notebook kernels get it too
        os.environ["DLVSTATS_MEMORY_LIMIT"] = args.memory_limit.strip()
    _configure_logging(args.verbose, getattr(args, "quiet", False))
    handlers = {
        "ingest": cmd_ingest,
        "info": cmd_info,
        "classify": cmd_classify,
        "providers": cmd_providers,
        "migrate": cmd_migrate,
        "forget": cmd_forget,
        "simulate": cmd_simulate,
    }
    try:
        if args.command in handlers:
            return handlers[args.command](args)
        return args.handler(args)
    except KeyboardInterrupt:
        print("interrupted; an unfinished ingest leaves the database as it was", file=sys.stderr)
        return 130
    except Exception as exc:  # one clear line for the user; --verbose shows the traceback
        from dlvstats.db import DatabaseBusy, DatabaseError

        if args.verbose:
            raise
        code = EXIT_BUSY if isinstance(exc, DatabaseBusy) else EXIT_FAILED
        kind = "" if isinstance(exc, (DatabaseBusy, DatabaseError)) else f"{type(exc).__name__}: "
        print(f"dlvstats {args.command}: {kind}{exc}", file=sys.stderr)
        if not isinstance(exc, (DatabaseBusy, DatabaseError)):
            print("(run again with --verbose for the full traceback)", file=sys.stderr)
        return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
