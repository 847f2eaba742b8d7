"""The ``dlvstats networks`` sub-commands: what ranges are loaded, add your own, refresh the snapshot."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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


def add_parser(sub) -> None:
    p = sub.add_parser(
        "networks", help="address ranges of clouds, gateways, Apple egress and image proxies (info, load, update)",
        description="Show, extend or refresh the network ranges human/machine classification matches.",
        epilog=NETWORKS_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("action", choices=["info", "load", "update"], help="what to do (see below)")
    p.add_argument("--db", type=Path, default=None,
                   help="DuckDB file (info: optional, else the shipped snapshot; load: required)")
    p.add_argument("--add", action="append", type=Path, default=[], metavar="FILE",
                   help="with load: a CSV of your own ranges (repeatable)")
    p.add_argument("--out", type=Path, default=None, help="with update: where to write the snapshot")
    p.add_argument("--azure", type=Path, default=None, metavar="FILE",
                   help="with update: Microsoft's downloaded ServiceTags_Public_*.json (no stable URL); "
                        "without it the snapshot's Azure rows are kept")
    p.set_defaults(handler=run)


def run(args) -> int:
    from dlvstats import db, networks

    try:
        if args.action == "update":
            counts = networks.update(args.out or networks.SNAPSHOT, azure_file=args.azure)
            for name, n, how in counts:
                print(f"{name:<22} {n:>6} prefixes  {how}")
            return 0
        if args.action == "load":
            if args.db is None:
                print("dlvstats networks load: --db is required (the database to store the ranges in)",
                      file=sys.stderr)
                return 2
            con = db.connect(args.db)
            try:
                db.require_dlvstats_db(con, args.db)
                n = networks.load(con, tuple(args.add))
            finally:
                con.close()
            print(f"{args.db}: {n} prefixes stored; run `dlvstats classify --db {args.db}` to re-label")
            return 0
        con = db.connect(args.db, read_only=True) if args.db else None
        try:
            rows = networks.info(con)
        finally:
            if con is not None:
                con.close()
    except networks.NetworksError as exc:
        print(f"dlvstats networks: {exc}", file=sys.stderr)
        return 3
    print(f"{'network':<22} {'kind':<13} {'prefixes':>8} {'addresses':>12}  snapshot    age (days)  source")
    for network, kind, prefixes, addresses, day, age, source in rows:
        print(f"{network:<22} {kind:<13} {prefixes:>8} {addresses:>12}  {day or '?':<10}  "
              f"{'?' if age is None else age:>10}  {source or ''}")
    return 0
