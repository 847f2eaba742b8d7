"""``dlvstats map --propose FILE``: a first mapping file for a CSV export with its own headers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

MAP_HELP = """\
A mapping file lets `dlvstats ingest --map mapping.toml EXPORT.csv` read an export with its own
column names and values (French or English headers, your ESP's status words, dates such as
01/11/2026 14:03) as one canonical kind, without editing the export. `--propose` reads the header
and the first rows and writes a proposal: the columns it recognised, the status values it saw
(with their canonical meaning when it knows the word), the separator, encoding and date format, and
comments naming what is still missing. Read it, fix the question marks, then ingest.

Examples:
  dlvstats map --propose export_campagnes.csv > mapping.toml
  dlvstats map --propose export_campagnes.csv --out mapping.toml
  dlvstats ingest --map mapping.toml export_campagnes.csv --db data/dlvstats.duckdb

See docs/inputs.md (the mapping format and a walk-through from an ESP's export to the report).
"""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "map", help="propose a column mapping for a CSV export with its own headers (--propose FILE)",
        description="Propose a mapping file (TOML) from a CSV export's header and first rows.",
        epilog=MAP_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--propose", type=Path, required=True, metavar="FILE", help="the CSV export to read")
    p.add_argument("--out", type=Path, default=None, metavar="MAPPING",
                   help="write the proposal there (default: standard output); an existing file is not overwritten")
    p.add_argument("--rows", type=int, default=200, help="how many first rows to read (default 200)")
    p.set_defaults(handler=run)


def run(args) -> int:
    from dlvstats.ingest.canonical import DropError
    from dlvstats.ingest.mapping import propose

    if not args.propose.is_file():
        print(f"dlvstats map: {args.propose}: no such file (give the CSV export to read)", file=sys.stderr)
        return 2
    if args.out is not None and args.out.exists():
        print(f"dlvstats map: {args.out} exists; remove it or choose another --out", file=sys.stderr)
        return 2
    try:
        text = propose(args.propose, limit=max(1, args.rows))
    except DropError as exc:
        print(f"dlvstats map: {exc}", file=sys.stderr)
        return 3
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"mapping proposed in {args.out}; check it, then: dlvstats ingest --map {args.out} {args.propose}")
    return 0


def ingest_mapping(args, read_options):
    """``dlvstats ingest --map``: (read options carrying the mapping, time zone), or None after
    printing why the mapping cannot be used (a usage error)."""
    timezone_name = args.timezone or "UTC"
    if args.mapping is None:
        return read_options, timezone_name
    if args.input_format not in (None, "canonical"):
        print(f"dlvstats ingest: --map reads CSV exports; it cannot be combined with --format "
              f"{args.input_format} (ingest the {args.input_format} files in another run)", file=sys.stderr)
        return None
    from dlvstats.ingest.mapping import MappingError, load_mapping, with_read_options

    try:
        mapping = load_mapping(args.mapping)
    except MappingError as exc:
        print(f"dlvstats ingest: {exc}", file=sys.stderr)
        return None
    return with_read_options(mapping, read_options), args.timezone or mapping.read.get("timezone", "UTC")
