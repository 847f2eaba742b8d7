"""``dlvstats map --propose FILE``: a first mapping file for a CSV export with its own headers."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dlvstats.cli.common import PATH, Run, command, usage
from dlvstats.exit_codes import EXIT_OK, EXIT_REFUSED

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


@command("map", short_help="propose a column mapping for a CSV export with its own headers (--propose FILE)",
         help="Propose a mapping file (TOML) from a CSV export's header and first rows.", epilog=MAP_HELP)
@click.option("--propose", type=PATH, required=True, metavar="FILE", help="the CSV export to read")
@click.option("--out", type=PATH, default=None, metavar="MAPPING",
              help="write the proposal there (default: standard output); an existing file is not overwritten")
@click.option("--rows", type=int, default=200, help="how many first rows to read (default 200)")
def map_command(run: Run, propose: Path, out: Path | None, rows: int) -> int:
    from dlvstats.ingest.canonical import DropError
    from dlvstats.ingest.mapping import propose as propose_mapping

    if not propose.is_file():
        return usage(f"{propose}: no such file (give the CSV export to read)")
    if out is not None and out.exists():
        return usage(f"{out} exists; remove it or choose another --out")
    try:
        text = propose_mapping(propose, limit=max(1, rows))
    except DropError as exc:
        print(f"dlvstats map: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        print(f"mapping proposed in {out}; check it, then: dlvstats ingest --map {out} {propose}")
    return EXIT_OK
