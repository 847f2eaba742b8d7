"""The ``dlvstats export`` sub-command: the database as a month-partitioned Parquet lake (``--lake``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EPILOG = """\
The lake holds every table of the database (sends, opens, clicks, complaints, subscriptions, campaigns,
orders, blocklists with the classification labels, rejects, message_facts, the bookkeeping tables) as
Parquet in DIR/<table>/month=YYYY-MM/ (Hive layout), plus DIR/dlvstats_lake.json (columns, types, row
counts). Both DuckDB and Spark read it with nothing more to install:
  dlvstats metrics hidden-images --lake DIR --from 2026-10-01 --to 2026-11-01
  dlvstats metrics hidden-images --lake DIR --engine spark --from 2026-10-01 --to 2026-11-01
See docs/scale-out.md.
"""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export", help="write the database as Parquet partitioned by month (a lake for DuckDB or Spark)",
        description="Write every table of the database as Parquet partitioned by month (--lake DIR).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--db", type=Path, default=None, help="DuckDB file (default: $DLVSTATS_DB or data/dlvstats.duckdb)")
    p.add_argument("--lake", type=Path, required=True, metavar="DIR", help="the lake directory to write (new or empty)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing dlvstats lake in DIR")
    p.set_defaults(handler=run)


def run(args) -> int:
    from dlvstats import lake
    from dlvstats.config import settings

    db_path = args.db or settings().db_path
    try:
        counts = lake.export_lake(db_path, args.lake, overwrite=args.overwrite)
    except lake.LakeError as exc:
        print(f"dlvstats export: {exc}", file=sys.stderr)
        return 2
    width = max(len(t) for t in counts)
    print(f"Wrote {db_path} as a lake in {args.lake}:")
    for table, rows in counts.items():
        print(f"  {table:<{width}} {rows:>12,} rows")
    return 0
