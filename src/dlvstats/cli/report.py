"""``dlvstats report``: one command for cron (load, render, e-mail)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from dlvstats.cli.common import PATH, Run, command, usage
from dlvstats.exit_codes import EXIT_INGEST_REFUSED, EXIT_OK, EXIT_USAGE

EPILOG = """\
Examples:
  dlvstats report --db data/dlvstats.duckdb --out reports                 last complete month
  dlvstats report --month 2026-10 --db data/dlvstats.duckdb --out reports --email ops@example.com
  dlvstats report --month 2026-10 --account acme --email client@example.org --dry-run
  dlvstats report --month 2026-10 --email ops@example.com --mail-from 'Reports <reports@example.com>' \\
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


@command("report", short_help="render the monthly report (one HTML page, CSV tables) and e-mail it",
         help="Run every analysis notebook for a month with papermill and render one self-contained HTML page: "
         "headline numbers with the change from the previous month, alerts, then each analysis, without code. "
         "Optionally load the month's drop first and e-mail the result.", epilog=EPILOG,
         arguments={"[DROP...]": "more drops to load, after --ingest DROP"})
@click.option("--month", default=None, help="YYYY-MM (default: the last complete month, UTC)")
@click.option("--db", type=PATH, default=None,
              help="DuckDB file (default: $DLVSTATS_DB, else data/dlvstats.duckdb in the checkout)")
@click.option("--out", type=PATH, default=None,
              help="reports directory (default: $DLVSTATS_REPORTS_DIR, else reports/ in the checkout)")
@click.option("--ingest", type=PATH, multiple=True, metavar="DROP",
              help="load these drops first (atomically, as `dlvstats ingest` does): --ingest DROP [DROP...]")
# `--ingest A B`: click gives an option one value, so the drops after the first arrive here
@click.argument("more_drops", nargs=-1, type=PATH, metavar="[DROP...]")
@click.option("--account", "account_id", metavar="ID", default=None,
              help="one client's own pack: only its data, no other client's name or figures")
@click.option("--email", metavar="ADDR[,ADDR...]", default="",
              help="send the report to these addresses (SMTP settings from the environment)")
@click.option("--report-timezone", metavar="ZONE", default=None,
              help="cut days and months in this IANA zone, e.g. Europe/Paris (default: the DLVSTATS_REPORT_TIMEZONE "
              "setting, else UTC); the report says which zone it uses")
@click.option("--locale", metavar="LANG", default=None,
              help="language of the page and the e-mail: en or fr (French text, '102 285', '98,24 %', "
              "'octobre 2026'); default: the DLVSTATS_REPORT_LOCALE setting, else en")
@click.option("--dry-run", is_flag=True,
              help="with --email: write the message to OUT/YYYY-MM/email.eml instead of sending it")
@click.option("--mail-from", metavar="ADDR", default=None,
              help="the e-mail's sender, e.g. 'Reports <reports@example.com>' (default: $DLVSTATS_MAIL_FROM)")
@click.option("--attach-report", is_flag=True,
              help="attach the full page and the CSV tables to the e-mail (it then weighs megabytes)")
@click.option("--report-url", metavar="URL", default=None,
              help="where readers find the page (e.g. your intranet); the e-mail links it")
@click.option("--force", is_flag=True, help="render again over a complete report of the month")
@click.option("--allow-incomplete", is_flag=True,
              help="e-mail even when the data stops before the month's end (the report says so)")
@click.option("--notebooks", type=PATH, metavar="DIR", default=None,
              help="run the notebooks of DIR (your edited copies) instead of the shipped ones")
@click.option("--jobs", type=int, default=None, metavar="N",
              help="notebooks run at once (default: the number of CPUs, at most 4)")
def report(run: Run, month: str | None, db: Path | None, out: Path | None, ingest: tuple[Path, ...],
           more_drops: tuple[Path, ...], account_id: str | None, email: str, report_timezone: str | None,
           locale: str | None, dry_run: bool,
           mail_from: str | None, attach_report: bool, report_url: str | None, force: bool,
           allow_incomplete: bool, notebooks: Path | None, jobs: int | None) -> int:
    from dlvstats import report as report_module

    if more_drops and not ingest:
        return usage(f"unexpected argument {str(more_drops[0])!r}: drops to load go after --ingest "
                     "(--ingest DROP [DROP...])")
    cfg = run.settings
    zone, language = _checked_zone(report_timezone or cfg.report_timezone), _checked_locale(locale or cfg.report_locale)
    if zone is None or language is None:
        return EXIT_USAGE
    try:
        options = report_module.ReportOptions(
            db_path=db or cfg.db_path, out_dir=out or cfg.reports_dir,
            month=report_module.parse_month(month) if month else report_module.last_complete_month(),
            account_id=account_id, notebooks_dir=notebooks, ingest=[*ingest, *more_drops],
            email=[a.strip() for a in (email or "").split(",") if a.strip()], dry_run=dry_run, force=force,
            allow_incomplete=allow_incomplete, memory_limit=cfg.memory_limit,
            jobs=jobs or max(1, min(os.cpu_count() or 1, 4)), attach_report=attach_report, report_url=report_url,
            mail_from=mail_from, report_timezone=zone, locale=language,
        )
        result = report_module.run_report(options, progress=(lambda message: None) if run.quiet else None)
    except report_module.ReportError as exc:
        print(f"dlvstats report: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # an ingest refusal keeps its own exit code
        from dlvstats.ingest import DropError, IngestRefused

        if isinstance(exc, (IngestRefused, DropError)):
            print(f"dlvstats report: --ingest refused: {exc}", file=sys.stderr)
            print("The database is unchanged; no report was rendered.", file=sys.stderr)
            return EXIT_INGEST_REFUSED
        raise
    print(f"{result.index}{'' if result.complete_data else ' (INCOMPLETE DATA)'}")
    if result.eml:
        print(f"e-mail not sent (dry run): {result.eml}")
    print(f"rendered in {result.seconds:.1f} s", file=sys.stderr)
    return EXIT_OK


def _checked_zone(name: str) -> str | None:
    from dlvstats.metrics.common import zone

    try:
        zone(name)
    except ValueError as exc:
        usage(f"--report-timezone: {exc}")
        return None
    return name


def _checked_locale(name: str) -> str | None:
    from dlvstats.i18n import check_locale

    try:
        return check_locale(name)
    except ValueError as exc:
        usage(f"--locale: {exc}")
        return None
