"""``dlvstats export``: the database as a month-partitioned Parquet lake (``--lake``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dlvstats.cli.common import PATH, Run, command
from dlvstats.exit_codes import EXIT_OK, EXIT_USAGE

EPILOG = """\
The lake holds every table of the database (sends, opens, clicks, complaints, subscriptions, campaigns,
orders, blocklists with the classification labels, rejects, message_facts, the bookkeeping tables) as
Parquet in DIR/<table>/month=YYYY-MM/ (Hive layout), plus DIR/dlvstats_lake.json (columns, types, row
counts). Both DuckDB and Spark read it with nothing more to install:
  dlvstats metrics hidden-images --lake DIR --from 2026-10-01 --to 2026-11-01
  dlvstats metrics hidden-images --lake DIR --engine spark --from 2026-10-01 --to 2026-11-01
See docs/scale-out.md.
"""


@command("export", short_help="write the database as Parquet partitioned by month (a lake for DuckDB or Spark)",
         help="Write every table of the database as Parquet partitioned by month (--lake DIR).", epilog=EPILOG)
@click.option("--db", type=PATH, default=None, help="DuckDB file (default: $DLVSTATS_DB or data/dlvstats.duckdb)")
@click.option("--lake", type=PATH, required=True, metavar="DIR", help="the lake directory to write (new or empty)")
@click.option("--overwrite", is_flag=True, help="replace an existing dlvstats lake in DIR")
def export(run: Run, db: Path | None, lake: Path, overwrite: bool) -> int:
    from dlvstats import lake as lake_module

    db_path = db or run.settings.db_path
    try:
        counts = lake_module.export_lake(db_path, lake, overwrite=overwrite)
    except lake_module.LakeError as exc:
        print(f"dlvstats export: {exc}", file=sys.stderr)
        return EXIT_USAGE
    width = max(len(t) for t in counts)
    print(f"Wrote {db_path} as a lake in {lake}:")
    for table, rows in counts.items():
        print(f"  {table:<{width}} {rows:>12,} rows")
    return EXIT_OK
