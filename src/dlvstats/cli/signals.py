"""``dlvstats signals import``: Google Postmaster Tools and Microsoft SNDS files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dlvstats.cli.blocklists import usage
from dlvstats.cli.common import PATH, Run, command, group
from dlvstats.exit_codes import EXIT_OK, EXIT_REFUSED

SIGNALS_HELP = """\
Kinds:
  gpt    Google Postmaster Tools API v2 domains.domainStats.query response (JSON, DAILY granularity).
         Metric names that follow a base metric are taken as they are: spam_rate, auth_success_rate
         (auth_success_rate_dkim, _spf, _dmarc), tls_encryption_rate, tls_encryption_message_count,
         delivery_error_count, delivery_error_rate, feedback_loop_spam_rate, feedback_loop_id.
         Other names: --metric-map NAME=spam_rate.
  snds   Microsoft SNDS "IP data" export (CSV, one row per IP and day).

A file with a bad row is refused whole (file:line: problem) and nothing of it is loaded; a row
already stored adds nothing the second time.

Examples:
  dlvstats signals import --db data/dlvstats.duckdb --kind gpt gpt-2026-11.json
  dlvstats signals import --db data/dlvstats.duckdb --kind gpt --metric-map userSpam=spam_rate q.json
  dlvstats signals import --db data/dlvstats.duckdb --kind snds snds/*.csv
"""


@group("signals", short_help="import mailbox providers' own signals (Postmaster Tools, SNDS)",
       help="Import Google Postmaster Tools and Microsoft SNDS files.", epilog=SIGNALS_HELP)
def signals() -> None:
    pass


@command("import", group=signals, short_help="load GPT or SNDS files", help="Load GPT or SNDS files.",
         epilog=SIGNALS_HELP, arguments={"FILE...": "Postmaster Tools JSON responses (--kind gpt) or SNDS CSV files "
                                                   "(--kind snds)"})
@click.argument("files", nargs=-1, required=True, type=PATH, metavar="FILE...")
@click.option("--kind", type=click.Choice(["gpt", "snds"]), required=True,
              help="gpt (Postmaster Tools JSON) or snds (SNDS CSV)")
@click.option("--db", type=PATH, default=None, help="DuckDB file (default: $DLVSTATS_DB or data/dlvstats.duckdb)")
@click.option("--metric-map", multiple=True, metavar="NAME=METRIC",
              help="read the response's metric NAME as METRIC (e.g. userSpam=spam_rate; repeatable)")
@click.option("--domain", default=None, help="the domain, for entries whose name does not give it")
def import_files(run: Run, files: tuple[Path, ...], kind: str, db: Path | None, metric_map: tuple[str, ...],
                 domain: str | None) -> int:
    from dlvstats import db as dbmod
    from dlvstats import signals as signals_module

    mapping = {}
    for pair in metric_map:
        name, _, metric = pair.partition("=")
        if not metric or signals_module.metric_name(metric, {}) is None:
            return usage(f"--metric-map {pair!r}: expected NAME=METRIC with METRIC one of "
                         f"{', '.join(signals_module.GPT_BASE_METRICS)}")
        mapping[name] = metric
    path = db or run.settings.db_path
    con = dbmod.connect(path)
    try:
        dbmod.require_dlvstats_db(con, path)
        for file in files:
            try:
                done = signals_module.import_file(con, file, kind, mapping=mapping, domain=domain)
            except signals_module.SignalsError as exc:
                print(f"dlvstats signals: {file}: {exc}", file=sys.stderr)
                return EXIT_REFUSED
            print(f"{done.file}: {done.rows} rows, {done.added} new ({done.rows - done.added} already stored)")
    finally:
        con.close()
    return EXIT_OK
