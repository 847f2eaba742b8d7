"""``dlvstats blocklists``: check the DNS blocklists, list the zones, serve a test zone."""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path

import click

from dlvstats.cli.common import PATH, Run, command, group
from dlvstats.exit_codes import EXIT_LISTED, EXIT_OK, EXIT_USAGE

BLOCKLISTS_HELP = """\
Commands:
  check            look the sending IPs and domains up in the DNS blocklists; record listings
                   and de-listings in the `blocklists` table
  zones            the zones queried, with each list's usage terms
  serve-test-zone  a test blocklist zone on 127.0.0.1 (for the demo and for trying check)

Examples:
  dlvstats blocklists check --db data/dlvstats.duckdb                   IPs/domains of the last 7 days
  dlvstats blocklists check --db data/dlvstats.duckdb --ip 203.0.113.7 --resolver 127.0.0.1:53
  dlvstats blocklists zones                                             what is asked, under which terms

Spamhaus, SURBL and others refuse queries from public resolvers (8.8.8.8, 1.1.1.1): such answers
are reported as "unknown", never as listed. Use your own resolver (--resolver) or a paid feed.
"""

CHECK_HELP = """\
An answer is kept for its TTL (the `blocklist_lookups` table) and reused until then; queries are
spaced by --interval seconds. Exit status: 0 nothing listed, 1 something is listed, 2 usage error.

Examples:
  dlvstats blocklists check --db data/dlvstats.duckdb --since 30
  dlvstats blocklists check --db data/dlvstats.duckdb --zones my_zones.toml --resolver 127.0.0.1:5353
  dlvstats blocklists check --db data/dlvstats.duckdb --ip 203.0.113.7 --domain news.example.com
"""

DB_HELP = "DuckDB file (default: $DLVSTATS_DB or data/dlvstats.duckdb)"


@group("blocklists", short_help="DNS blocklist checks (check, zones, serve-test-zone)",
       help="DNS blocklist monitoring of the sending IPs and domains.", epilog=BLOCKLISTS_HELP)
def blocklists() -> None:
    pass


def usage(message: str) -> int:
    """The blocklists commands' usage errors (also watch's), as they always read."""
    print(f"dlvstats blocklists: {message}", file=sys.stderr)
    return EXIT_USAGE


def resolver_refused(resolver: str | None) -> str | None:
    """Why --resolver cannot be used, or None (shared with ``watch``)."""
    from dlvstats import blocklists as blocklists_module

    if resolver is None:
        return None
    try:
        blocklists_module.parse_resolver(resolver)
    except ValueError:
        return f"--resolver {resolver!r}: give an IP address and optional port, e.g. 127.0.0.1:53"
    return None


@command("check", group=blocklists, short_help="look the sending IPs and domains up; record changes",
         help="Look the sending IPs and domains up in DNS blocklists.", epilog=CHECK_HELP)
@click.option("--db", type=PATH, default=None, help=DB_HELP)
@click.option("--zones", type=PATH, default=None,
              help="zones file (TOML; default: the shipped set, see `blocklists zones`)")
@click.option("--resolver", metavar="HOST[:PORT]", default=None,
              help="ask this DNS server (an IP address) instead of the system's, e.g. 127.0.0.1:53")
@click.option("--since", type=int, default=7, metavar="DAYS",
              help="sending IPs/domains used in the DAYS days before the latest send (default 7)")
@click.option("--ip", multiple=True, help="check this IP instead (repeatable)")
@click.option("--domain", multiple=True, help="check this domain instead (repeatable)")
@click.option("--interval", type=float, default=0.2, metavar="SECONDS", help="pause between queries (default 0.2)")
def check(run: Run, db: Path | None, zones: Path | None, resolver: str | None, since: int, ip: tuple[str, ...],
          domain: tuple[str, ...], interval: float) -> int:
    from dlvstats import blocklists as blocklists_module
    from dlvstats import db as dbmod

    refused = resolver_refused(resolver)
    if refused:
        return usage(refused)
    for address in ip:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            return usage(f"--ip {address!r} is not an IP address (use --domain for a domain)")
    try:
        zone_list = blocklists_module.load_zones(zones)
    except blocklists_module.ZonesError as exc:
        return usage(str(exc))
    path = db or run.settings.db_path
    con = dbmod.connect(path, read_only=False)
    try:
        dbmod.require_dlvstats_db(con, path)
        given = bool(ip or domain)
        result = blocklists_module.check(con, zones=zone_list, ips=list(ip) if given else None,
                                         domains=list(domain) if given else None, since_days=since,
                                         resolver=resolver, interval_seconds=interval)
    finally:
        con.close()
    print(format_check(result))
    return EXIT_LISTED if (result.answers.status == "listed").any() else EXIT_OK


def format_check(result) -> str:
    a = result.answers
    cached = int(a.cached.sum()) if len(a) else 0
    lines = [f"Asked {result.resolver}: {len(a)} answers ({result.queries} queries, {cached} from the cache)."]
    new = {(e.target, e.blocklist) for e in result.events.itertuples() if e.action == "listed"}
    for r in a.itertuples():
        if r.status == "listed":
            tag = "NEWLY LISTED " if (r.target, r.blocklist) in new else "listed       "
            lines.append(f"{tag} {r.target} on {r.blocklist} ({r.zone}): {r.return_code} {r.meaning}")
    for r in a[a.status == "unknown"].itertuples():
        lines.append(f"unknown       {r.target} on {r.blocklist} ({r.zone}): {r.meaning} - not counted as listed")
    for e in result.events.itertuples():
        if e.action == "delisted":
            lines.append(f"DELISTED      {e.target} from {e.blocklist} ({e.zone})")
    clean = int((a.status == "not_listed").sum()) if len(a) else 0
    lines.append(f"{clean} answers not listed.")
    if not len(a):
        lines.append("No sending IP or domain in the window: widen --since, or pass --ip/--domain.")
    return "\n".join(lines)


@command("zones", group=blocklists, short_help="the zones queried and their usage terms",
         help="The zones queried and their usage terms.")
@click.option("--zones", type=PATH, default=None, help="zones file (default: the shipped set)")
def zones(run: Run, zones: Path | None) -> int:
    from dlvstats import blocklists as blocklists_module

    try:
        zone_list = blocklists_module.load_zones(zones)
    except blocklists_module.ZonesError as exc:
        return usage(str(exc))
    for z in zone_list:
        print(f"{z.name:<16} {z.kind:<6} {z.zone}\n    terms: {z.terms or '(none given)'}")
    return EXIT_OK


@command("serve-test-zone", group=blocklists, short_help="serve a test DNSBL zone on 127.0.0.1 until interrupted",
         help="Serve ZONE on 127.0.0.1 with the given listings (others: NXDOMAIN).",
         epilog="Example:\n  dlvstats blocklists serve-test-zone --zone test.dnsbl.invalid --port 5353 "
                "--list 192.0.2.10=127.0.0.2\n")
@click.option("--zone", default="test.dnsbl.invalid")
@click.option("--port", type=int, default=0, help="UDP port on 127.0.0.1 (default: a free one, printed)")
@click.option("--list", "listed", multiple=True, metavar="IP=CODE", help="a listed IP and its answer")
@click.option("--seconds", type=float, default=None, help="stop after this many seconds (default: on Ctrl-C)")
@click.option("--ready-file", type=PATH, default=None,
              help="write HOST:PORT here once the server listens (scripts wait for it)")
def serve_test_zone(run: Run, zone: str, port: int, listed: tuple[str, ...], seconds: float | None,
                    ready_file: Path | None) -> int:
    import time

    from dlvstats.testzone import TestZoneServer, ip_key

    entries = {}
    for item in listed:
        ip, _, code = item.partition("=")
        try:
            entries[ip_key(ip)] = code or "127.0.0.2"
        except ValueError:
            return usage(f"--list {item!r}: expected IP=CODE, e.g. 192.0.2.10=127.0.0.2")
    with TestZoneServer(zone, entries, port=port) as server:
        print(f"serving {zone} on {server.address} ({len(entries)} listed); Ctrl-C stops", flush=True)
        if ready_file:
            ready_file.write_text(server.address + "\n", encoding="utf-8")
        try:
            time.sleep(seconds) if seconds is not None else time.sleep(10**9)
        except KeyboardInterrupt:
            pass
    return EXIT_OK
