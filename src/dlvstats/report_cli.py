"""The ``dlvstats report`` sub-command: one command for cron (load, render, e-mail)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EPILOG = """\
Examples:
  dlvstats report --db data/dlvstats.duckdb --out reports                 last complete month
  dlvstats report --month 2026-10 --db data/dlvstats.duckdb --out reports --email ops@example.com
  dlvstats report --month 2026-10 --account acme --email client@example.org --dry-run
  dlvstats report --month 2026-10 --email ops@example.com --mail-from 'Reports <reports@example.com>' \
      --report-url https://reports.example.com/2026-10/                  link the page, do not attach it
  dlvstats report --month 2026-10 --locale fr --email client@example.fr --dry-run   in French
  dlvstats report --ingest /srv/drops/2026-10 --db /srv/dlvstats.duckdb --out /srv/reports --email ops@example.com

Output: OUT/YYYY-MM/index.html (one self-contained page), the metric tables as CSV and the executed
notebooks beside it; an account's pack goes to OUT/accounts/ACCOUNT/YYYY-MM/.

SMTP comes from the environment: DLVSTATS_SMTP_HOST, DLVSTATS_SMTP_PORT, DLVSTATS_SMTP_USER,
DLVSTATS_SMTP_PASSWORD, DLVSTATS_SMTP_SECURITY (starttls | ssl | none), DLVSTATS_MAIL_FROM (the sender;
--mail-from overrides it). The e-mail carries the summary and the alerts (the subject starts with their
count); the page (megabytes, with its charts) is attached only with --attach-report.

Exit codes: 0 done; 1 unexpected failure; 2 usage or configuration error; 3 --ingest drop refused;
4 busy (database locked, or another run of the same report); 5 data incomplete, not e-mailed;
6 a complete report exists (nothing overwritten; use --force); 7 a notebook failed (nothing rendered
or sent); 8 the e-mail could not be sent (the report is rendered and stays).
See docs/monthly-report.md for cron and systemd set-ups.
"""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "report", help="render the monthly report (one HTML page, CSV tables) and e-mail it",
        description="Run every analysis notebook for a month with papermill and render one self-contained "
        "HTML page: headline numbers with the change from the previous month, alerts, then each analysis, "
        "without code. Optionally load the month's drop first and e-mail the result.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--month", help="YYYY-MM (default: the last complete month, UTC)")
    p.add_argument("--db", type=Path, default=None,
                   help="DuckDB file (default: $DLVSTATS_DB, else data/dlvstats.duckdb in the checkout)")
    p.add_argument("--out", type=Path, default=None,
                   help="reports directory (default: $DLVSTATS_REPORTS_DIR, else reports/ in the checkout)")
    p.add_argument("--ingest", nargs="+", type=Path, default=[], metavar="DROP",
                   help="load these drops first (atomically, as `dlvstats ingest` does)")
    p.add_argument("--account", dest="account_id", metavar="ID",
                   help="one client's own pack: only its data, no other client's name or figures")
    p.add_argument("--email", metavar="ADDR[,ADDR...]", default="",
                   help="send the report to these addresses (SMTP settings from the environment)")
    p.add_argument("--report-timezone", metavar="ZONE", default=None,
                   help="cut days and months in this IANA zone, e.g. Europe/Paris (default: the "
                        "DLVSTATS_REPORT_TIMEZONE setting, else UTC); the report says which zone it uses")
    p.add_argument("--locale", metavar="LANG", default=None,
                   help="language of the page and the e-mail: en or fr (French text, '102 285', '98,24 %%', "
                        "'octobre 2026'); default: the DLVSTATS_REPORT_LOCALE setting, else en")
    p.add_argument("--dry-run", action="store_true",
                   help="with --email: write the message to OUT/YYYY-MM/email.eml instead of sending it")
    p.add_argument("--mail-from", metavar="ADDR", default=None,
                   help="the e-mail's sender, e.g. 'Reports <reports@example.com>' (default: $DLVSTATS_MAIL_FROM)")
    p.add_argument("--attach-report", action="store_true",
                   help="attach the full page and the CSV tables to the e-mail (it then weighs megabytes)")
    p.add_argument("--report-url", metavar="URL", default=None,
                   help="where readers find the page (e.g. your intranet); the e-mail links it")
    p.add_argument("--force", action="store_true", help="render again over a complete report of the month")
    p.add_argument("--allow-incomplete", action="store_true",
                   help="e-mail even when the data stops before the month's end (the report says so)")
    p.add_argument("--notebooks", type=Path, metavar="DIR",
                   help="run the notebooks of DIR (your edited copies) instead of the shipped ones")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="notebooks run at once (default: the number of CPUs, at most 4)")
    p.set_defaults(handler=run)


def _report_timezone(name: str) -> str:
    from dlvstats.metrics.common import zone

    try:
        zone(name)
    except ValueError as exc:
        print(f"dlvstats report: --report-timezone: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    return name


def _report_locale(name: str) -> str:
    from dlvstats.i18n import check_locale

    try:
        return check_locale(name)
    except ValueError as exc:
        print(f"dlvstats report: --locale: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


def run(args) -> int:
    from dlvstats import report
    from dlvstats.config import settings

    cfg = settings()
    try:
        month = report.parse_month(args.month) if args.month else report.last_complete_month()
        emails = [a.strip() for a in (args.email or "").split(",") if a.strip()]
        jobs = args.jobs or max(1, min(os.cpu_count() or 1, 4))
        options = report.ReportOptions(
            db_path=args.db or cfg.db_path, out_dir=args.out or cfg.reports_dir, month=month,
            account_id=args.account_id, notebooks_dir=args.notebooks, ingest=list(args.ingest),
            email=emails, dry_run=args.dry_run, force=args.force, allow_incomplete=args.allow_incomplete,
            memory_limit=args.memory_limit, jobs=jobs, attach_report=args.attach_report,
            report_url=args.report_url, mail_from=args.mail_from,
            report_timezone=_report_timezone(args.report_timezone or cfg.report_timezone),
            locale=_report_locale(args.locale or cfg.report_locale),
        )
        quiet = getattr(args, "quiet", False)
        result = report.run_report(
            options, progress=None if not quiet else (lambda message: None))
    except report.ReportError as exc:
        print(f"dlvstats report: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # an ingest refusal keeps its own exit code
        from dlvstats.ingest import DropError, IngestRefused

        if isinstance(exc, (IngestRefused, DropError)):
            print(f"dlvstats report: --ingest refused: {exc}", file=sys.stderr)
            print("The database is unchanged; no report was rendered.", file=sys.stderr)
            return report.EXIT_INGEST_REFUSED
        raise
    state = "" if result.complete_data else " (INCOMPLETE DATA)"
    print(f"{result.index}{state}")
    if result.eml:
        print(f"e-mail not sent (dry run): {result.eml}")
    print(f"rendered in {result.seconds:.1f} s", file=sys.stderr)
    return report.EXIT_OK
