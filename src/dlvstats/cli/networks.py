"""``dlvstats networks``: what ranges are loaded, add your own, refresh the snapshot."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dlvstats.cli.common import PATH, Run, command, usage
from dlvstats.exit_codes import EXIT_OK, EXIT_REFUSED

NETWORKS_HELP = """\
Commands:
  info     the networks classification matches against (a database's stored table, else the
           shipped snapshot): prefixes, addresses, snapshot date and source of each
  load     store the shipped snapshot plus your own ranges (--add FILE) in the database; then
           run `dlvstats classify` to re-label with them
  update   download the published lists again and rewrite the snapshot (needs internet)

Your own ranges: a CSV with columns cidr,network,kind[,source,snapshot_date]; kind is one of
cloud, gateway, apple_egress, image_proxy, cdn. E.g. a gateway your B2B recipients use:
  cidr,network,kind,source,snapshot_date
  198.51.100.0/24,acme_gateway,gateway,our IT team,2026-12-01

Examples:
  dlvstats networks info
  dlvstats networks load --db data/dlvstats.duckdb --add my_networks.csv && dlvstats classify --db data/dlvstats.duckdb
  dlvstats networks update --out src/dlvstats/data/networks/networks.csv
"""


@command("networks", short_help="address ranges of clouds, gateways, Apple egress and image proxies (info, load, update)",
         help="Show, extend or refresh the network ranges human/machine classification matches.",
         epilog=NETWORKS_HELP, arguments={"{info,load,update}": "what to do (see below)"})
@click.argument("action", type=click.Choice(["info", "load", "update"]), metavar="{info,load,update}")
@click.option("--db", type=PATH, default=None,
              help="DuckDB file (info: optional, else the shipped snapshot; load: required)")
@click.option("--add", type=PATH, multiple=True, metavar="FILE",
              help="with load: a CSV of your own ranges (repeatable)")
@click.option("--out", type=PATH, default=None, help="with update: where to write the snapshot")
@click.option("--azure", type=PATH, default=None, metavar="FILE",
              help="with update: Microsoft's downloaded ServiceTags_Public_*.json (no stable URL); without it the "
              "snapshot's Azure rows are kept")
def networks(run: Run, action: str, db: Path | None, add: tuple[Path, ...], out: Path | None,
             azure: Path | None) -> int:
    from dlvstats import networks as networks_module

    if action == "load" and db is None:
        return usage("load: --db is required (the database to store the ranges in)")
    try:
        if action == "update":
            for name, n, how in networks_module.update(out or networks_module.SNAPSHOT, azure_file=azure):
                print(f"{name:<22} {n:>6} prefixes  {how}")
            return EXIT_OK
        if action == "load":
            n = _load(db, add)
            print(f"{db}: {n} prefixes stored; run `dlvstats classify --db {db}` to re-label")
            return EXIT_OK
        rows = _info(db)
    except networks_module.NetworksError as exc:
        print(f"dlvstats networks: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"{'network':<22} {'kind':<13} {'prefixes':>8} {'addresses':>12}  snapshot    age (days)  source")
    for network, kind, prefixes, addresses, day, age, source in rows:
        print(f"{network:<22} {kind:<13} {prefixes:>8} {addresses:>12}  {day or '?':<10}  "
              f"{'?' if age is None else age:>10}  {source or ''}")
    return EXIT_OK


def _load(db: Path, add: tuple[Path, ...]) -> int:
    from dlvstats import db as dbmod
    from dlvstats import networks as networks_module

    con = dbmod.connect(db)
    try:
        dbmod.require_dlvstats_db(con, db)
        return networks_module.load(con, tuple(add))
    finally:
        con.close()


def _info(db: Path | None) -> list:
    from dlvstats import db as dbmod
    from dlvstats import networks as networks_module

    con = dbmod.connect(db, read_only=True) if db else None
    try:
        return networks_module.info(con)
    finally:
        if con is not None:
            con.close()
