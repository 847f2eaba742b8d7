"""``dlvstats watch``: the daily look between monthly reports (blocklists, complaint and bounce lines)."""

from __future__ import annotations

from pathlib import Path

import click

from dlvstats.cli.blocklists import resolver_refused, usage
from dlvstats.cli.common import PATH, Run, command
from dlvstats.exit_codes import EXIT_OK

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


@command("watch", short_help="daily check between reports: blocklists, complaint/bounce lines; mail on alerts",
         help="The daily look between monthly reports.", epilog=WATCH_HELP)
@click.option("--db", type=PATH, default=None, help="DuckDB file (default: $DLVSTATS_DB or data/dlvstats.duckdb)")
@click.option("--zones", type=PATH, default=None, help="zones file (default: the shipped set)")
@click.option("--resolver", metavar="HOST[:PORT]", default=None, help="DNS server to ask (default: the system's)")
@click.option("--email", metavar="ADDR[,ADDR]", default=None, help="send the alerts here (only when there are some)")
@click.option("--first-days", type=int, default=1, metavar="DAYS",
              help="first run: look at the last DAYS days (default 1)")
@click.option("--complaint-line", type=float, default=None, help="complaint rate line (default 0.003 = 0.3%)")
@click.option("--bounce-line", type=float, default=None, help="hard-bounce rate line (default 0.02 = 2%)")
@click.option("--min-delivered", type=int, default=None, help="smallest cell judged (default 200 delivered)")
@click.option("--interval", type=float, default=0.2, metavar="SECONDS", help="pause between DNS queries")
def watch(run: Run, db: Path | None, zones: Path | None, resolver: str | None, email: str | None, first_days: int,
          complaint_line: float | None, bounce_line: float | None, min_delivered: int | None,
          interval: float) -> int:
    from dlvstats import blocklists, mail
    from dlvstats import db as dbmod
    from dlvstats import watch as watch_module

    refused = resolver_refused(resolver)
    if refused:
        return usage(refused)
    try:
        zone_list = blocklists.load_zones(zones)
    except blocklists.ZonesError as exc:
        return usage(str(exc))
    smtp = None
    if email:
        try:
            smtp = mail.SmtpSettings.from_settings(run.settings)
        except mail.MailConfigError as exc:
            return usage(str(exc))
    lines = {k: v for k, v in (("complaint_line", complaint_line), ("bounce_line", bounce_line),
                               ("min_delivered", min_delivered)) if v is not None}
    path = db or run.settings.db_path
    con = dbmod.connect(path)
    try:
        dbmod.require_dlvstats_db(con, path)
        result = watch_module.run(con, zones=zone_list, resolver=resolver, first_days=first_days,
                                  interval_seconds=interval, **lines)
    finally:
        con.close()
    print(watch_module.format_text(result))
    if result.alerts and smtp is not None:
        watch_module.email(result, email, smtp)
        print(f"alerts e-mailed to {email}")
    return EXIT_OK
