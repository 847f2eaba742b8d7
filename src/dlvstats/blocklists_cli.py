"""The ``dlvstats blocklists`` and ``dlvstats signals`` sub-commands.

blocklists: check the DNS blocklists, list the zones, serve a test zone; signals: import Google
Postmaster Tools and Microsoft SNDS files.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path

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


def add_parser(sub) -> None:
    p = sub.add_parser("blocklists", help="DNS blocklist checks (check, zones, serve-test-zone)",
                       description="DNS blocklist monitoring of the sending IPs and domains.",
                       epilog=BLOCKLISTS_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    bsub = p.add_subparsers(dest="blocklists_command", metavar="COMMAND", required=True)
    c = bsub.add_parser("check", help="look the sending IPs and domains up; record changes",
                        description="Look the sending IPs and domains up in DNS blocklists.",
                        epilog=CHECK_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("--db", type=Path, default=None, help="DuckDB file (default: $DLVSTATS_DB or data/dlvstats.duckdb)")
    c.add_argument("--zones", type=Path, default=None, help="zones file (TOML; default: the shipped set, see `blocklists zones`)")
    c.add_argument("--resolver", metavar="HOST[:PORT]", default=None,
                   help="ask this DNS server (an IP address) instead of the system's, e.g. 127.0.0.1:53")
    c.add_argument("--since", type=int, default=7, metavar="DAYS",
                   help="sending IPs/domains used in the DAYS days before the latest send (default 7)")
    c.add_argument("--ip", action="append", default=None, help="check this IP instead (repeatable)")
    c.add_argument("--domain", action="append", default=None, help="check this domain instead (repeatable)")
    c.add_argument("--interval", type=float, default=0.2, metavar="SECONDS", help="pause between queries (default 0.2)")
    c.set_defaults(handler=run_check)
    z = bsub.add_parser("zones", help="the zones queried and their usage terms")
    z.add_argument("--zones", type=Path, default=None, help="zones file (default: the shipped set)")
    z.set_defaults(handler=run_zones)
    s = bsub.add_parser("serve-test-zone", help="serve a test DNSBL zone on 127.0.0.1 until interrupted",
                        description="Serve ZONE on 127.0.0.1 with the given listings (others: NXDOMAIN).",
                        epilog="Example:\n  dlvstats blocklists serve-test-zone --zone test.dnsbl.invalid --port 5353 "
                               "--list 192.0.2.10=127.0.0.2\n", formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--zone", default="test.dnsbl.invalid")
    s.add_argument("--port", type=int, default=0, help="UDP port on 127.0.0.1 (default: a free one, printed)")
    s.add_argument("--list", action="append", default=[], metavar="IP=CODE", help="a listed IP and its answer")
    s.add_argument("--seconds", type=float, default=None, help="stop after this many seconds (default: on Ctrl-C)")
    s.add_argument("--ready-file", type=Path, default=None,
                   help="write HOST:PORT here once the server listens (scripts wait for it)")
    s.set_defaults(handler=run_serve)
    _add_signals(sub)
    _add_watch(sub)


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


def _add_signals(sub) -> None:
    p = sub.add_parser("signals", help="import mailbox providers' own signals (Postmaster Tools, SNDS)",
                       description="Import Google Postmaster Tools and Microsoft SNDS files.",
                       epilog=SIGNALS_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    ssub = p.add_subparsers(dest="signals_command", metavar="COMMAND", required=True)
    i = ssub.add_parser("import", help="load GPT or SNDS files", epilog=SIGNALS_HELP,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    i.add_argument("files", nargs="+", type=Path, metavar="FILE")
    i.add_argument("--kind", choices=["gpt", "snds"], required=True, help="gpt (Postmaster Tools JSON) or snds (SNDS CSV)")
    i.add_argument("--db", type=Path, default=None, help="DuckDB file (default: $DLVSTATS_DB or data/dlvstats.duckdb)")
    i.add_argument("--metric-map", action="append", default=[], metavar="NAME=METRIC",
                   help="read the response's metric NAME as METRIC (e.g. userSpam=spam_rate; repeatable)")
    i.add_argument("--domain", default=None, help="the domain, for entries whose name does not give it")
    i.set_defaults(handler=run_signals_import)


def run_signals_import(args) -> int:
    from dlvstats import db, signals
    from dlvstats.config import settings

    mapping = {}
    for pair in args.metric_map:
        name, _, metric = pair.partition("=")
        if not metric or signals.metric_name(metric, {}) is None:
            return _usage(f"--metric-map {pair!r}: expected NAME=METRIC with METRIC one of {', '.join(signals.GPT_BASE_METRICS)}")
        mapping[name] = metric
    path = args.db or settings().db_path
    con = db.connect(path)
    try:
        db.require_dlvstats_db(con, path)
        for file in args.files:
            try:
                done = signals.import_file(con, file, args.kind, mapping=mapping, domain=args.domain)
            except signals.SignalsError as exc:
                print(f"dlvstats signals: {file}: {exc}", file=sys.stderr)
                return 3
            print(f"{done.file}: {done.rows} rows, {done.added} new ({done.rows - done.added} already stored)")
    finally:
        con.close()
    return 0


def _usage(message: str) -> int:
    print(f"dlvstats blocklists: {message}", file=sys.stderr)
    return 2


def run_check(args) -> int:
    from dlvstats import blocklists, db
    from dlvstats.config import settings

    if args.resolver is not None:
        try:
            blocklists.parse_resolver(args.resolver)
        except ValueError:
            return _usage(f"--resolver {args.resolver!r}: give an IP address and optional port, e.g. 127.0.0.1:53")
    for ip in args.ip or []:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            return _usage(f"--ip {ip!r} is not an IP address (use --domain for a domain)")
    try:
        zones = blocklists.load_zones(args.zones)
    except blocklists.ZonesError as exc:
        return _usage(str(exc))
    path = args.db or settings().db_path
    con = db.connect(path, read_only=False)
    try:
        db.require_dlvstats_db(con, path)
        given = args.ip is not None or args.domain is not None
        result = blocklists.check(con, zones=zones, ips=args.ip if given else None,
                                  domains=args.domain if given else None, since_days=args.since,
                                  resolver=args.resolver, interval_seconds=args.interval)
    finally:
        con.close()
    print(format_check(result))
    return 1 if (result.answers.status == "listed").any() else 0


def format_check(result) -> str:
    a = result.answers
    lines = [f"Asked {result.resolver}: {len(a)} answers ({result.queries} queries, {int(a.cached.sum()) if len(a) else 0} from the cache)."]
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


def run_zones(args) -> int:
    from dlvstats import blocklists

    try:
        zones = blocklists.load_zones(args.zones)
    except blocklists.ZonesError as exc:
        return _usage(str(exc))
    for z in zones:
        print(f"{z.name:<16} {z.kind:<6} {z.zone}\n    terms: {z.terms or '(none given)'}")
    return 0


def run_serve(args) -> int:
    import time

    from dlvstats.testzone import TestZoneServer, ip_key

    entries = {}
    for item in args.list:
        ip, _, code = item.partition("=")
        try:
            entries[ip_key(ip)] = code or "127.0.0.2"
        except ValueError:
            return _usage(f"--list {item!r}: expected IP=CODE, e.g. 192.0.2.10=127.0.0.2")
    with TestZoneServer(args.zone, entries, port=args.port) as server:
        print(f"serving {args.zone} on {server.address} ({len(entries)} listed); Ctrl-C stops", flush=True)
        if args.ready_file:
            args.ready_file.write_text(server.address + "\n", encoding="utf-8")
        try:
            time.sleep(args.seconds) if args.seconds is not None else time.sleep(10**9)
        except KeyboardInterrupt:
            pass
    return 0


WATCH_HELP = """\
One run: the DNS blocklist check of the sending IPs and domains, then each account's and sending
IP's complaint and hard-bounce rates over the messages sent since the last run (the first run:
the last --first-days days). With --email, an e-mail goes out only when something crossed a line
(a new listing; a rate above its line on at least --min-delivered delivered messages). SMTP
settings come from DLVSTATS_SMTP_HOST, DLVSTATS_MAIL_FROM, ... as for `dlvstats report --email`.

Examples:
  dlvstats watch --db data/dlvstats.duckdb --email ops@example.com
  dlvstats watch --db data/dlvstats.duckdb --resolver 127.0.0.1:53 --complaint-line 0.001
A daily timer: see docs/monthly-report.md (cron and systemd examples).
"""


def _add_watch(sub) -> None:
    w = sub.add_parser("watch", help="daily check between reports: blocklists, complaint/bounce lines; mail on alerts",
                       description="The daily look between monthly reports.", epilog=WATCH_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    w.add_argument("--db", type=Path, default=None, help="DuckDB file (default: $DLVSTATS_DB or data/dlvstats.duckdb)")
    w.add_argument("--zones", type=Path, default=None, help="zones file (default: the shipped set)")
    w.add_argument("--resolver", metavar="HOST[:PORT]", default=None, help="DNS server to ask (default: the system's)")
    w.add_argument("--email", metavar="ADDR[,ADDR]", default=None, help="send the alerts here (only when there are some)")
    w.add_argument("--first-days", type=int, default=1, metavar="DAYS", help="first run: look at the last DAYS days (default 1)")
    w.add_argument("--complaint-line", type=float, default=None, help="complaint rate line (default 0.003 = 0.3%%)")
    w.add_argument("--bounce-line", type=float, default=None, help="hard-bounce rate line (default 0.02 = 2%%)")
    w.add_argument("--min-delivered", type=int, default=None, help="smallest cell judged (default 200 delivered)")
    w.add_argument("--interval", type=float, default=0.2, metavar="SECONDS", help="pause between DNS queries")
    w.set_defaults(handler=run_watch)


def run_watch(args) -> int:
    from dlvstats import blocklists, db, mail, watch
    from dlvstats.config import settings

    if args.resolver is not None:
        try:
            blocklists.parse_resolver(args.resolver)
        except ValueError:
            return _usage(f"--resolver {args.resolver!r}: give an IP address and optional port, e.g. 127.0.0.1:53")
    try:
        zones = blocklists.load_zones(args.zones)
    except blocklists.ZonesError as exc:
        return _usage(str(exc))
    smtp = None
    if args.email:
        try:
            smtp = mail.SmtpSettings.from_settings(settings())
        except mail.MailConfigError as exc:
            return _usage(str(exc))
    lines = {k: v for k, v in (("complaint_line", args.complaint_line), ("bounce_line", args.bounce_line),
                               ("min_delivered", args.min_delivered)) if v is not None}
    path = args.db or settings().db_path
    con = db.connect(path)
    try:
        db.require_dlvstats_db(con, path)
        result = watch.run(con, zones=zones, resolver=args.resolver, first_days=args.first_days,
                           interval_seconds=args.interval, **lines)
    finally:
        con.close()
    print(watch.format_text(result))
    if result.alerts and smtp is not None:
        watch.email(result, args.email, smtp)
        print(f"alerts e-mailed to {args.email}")
    return 0
