"""One run of the monthly report (``run_report``):

1. take the month's lock (``publish.month_lock``): a second run of the same month fails at once with
   ``ReportBusy`` instead of writing into the same files;
2. refuse to overwrite a complete report unless ``force``; load ``ingest`` drops;
3. the freshness gate: the newest send, open, click or complaint must reach the month's last day,
   else the report is marked incomplete, and e-mailing it is refused unless ``allow_incomplete``;
4. build in a hidden temporary directory beside the final one: the notebooks run in a pool of worker
   processes (``notebooks.run_notebooks``) while this process computes the summary and the CSV tables
   through the metric functions (the same functions the notebooks call; each table is computed once
   and shared through a private scratch directory, passed to the notebooks as their ``metric_cache``
   parameter); a failed notebook stops the run, and the build moves to ``OUT/YYYY-MM.failed/`` with
   the executed notebook holding its error;
5. assemble ``index.html`` from the executed notebooks' outputs (``page``), scrub any e-mail address
   from every output, then publish with ``os.rename``;
6. e-mail (or with ``dry_run`` write ``email.eml``) through ``mailing``.

What it must not do: put a recipient address anywhere (outputs are scrubbed, and the summary only
reads aggregate metric tables), let report text run as code (see ``sanitize``), or leave a
half-written ``OUT/YYYY-MM``.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from dlvstats.config import Settings
from dlvstats.i18n import Locale
from dlvstats.months import MonthError, month_bounds
from dlvstats.months import parse_month as _parse_month
from dlvstats.report import assemble
from dlvstats.report.errors import DataIncomplete, NotebookFailed, ReportExists, ReportUsageError
from dlvstats.report.mailing import check_email_settings, send_report
from dlvstats.report.metric_run import freshness
from dlvstats.report.notebooks import NotebookRun, default_notebooks_dir, find_notebooks
from dlvstats.report.publish import (
    is_complete,
    keep_failed,
    month_lock,
    publish,
    read_manifest,
    recover,
    report_dir,
)
from dlvstats.summary import Summary

log = logging.getLogger("dlvstats.report")


def parse_month(text: str) -> str:
    """``YYYY-MM``, or a usage error (exit code 2)."""
    try:
        return _parse_month(text)
    except MonthError as exc:
        raise ReportUsageError(str(exc)) from None


@dataclass
class ReportOptions:
    db_path: Path
    out_dir: Path
    month: str
    account_id: str | None = None
    notebooks_dir: Path | None = None
    ingest: list[Path] = field(default_factory=list)
    email: list[str] = field(default_factory=list)
    dry_run: bool = False
    force: bool = False
    allow_incomplete: bool = False
    #: DuckDB's memory cap in this process and in each notebook's (their ``memory_limit`` parameter).
    memory_limit: str | None = None
    jobs: int = 2
    #: days and months are cut in this IANA zone; every page says which
    report_timezone: str = "UTC"
    #: E-mail: attach the page and the CSV tables (off by default: the page weighs megabytes).
    attach_report: bool = False
    #: E-mail: where readers find the page (linked in the message instead of attached).
    report_url: str | None = None
    #: E-mail sender; overrides the DLVSTATS_MAIL_FROM setting.
    mail_from: str | None = None
    #: The readers' language for the page and the e-mail: en (default) or fr.
    locale: str = "en"


@dataclass
class ReportResult:
    directory: Path
    index: Path
    complete_data: bool
    notebooks: list[NotebookRun]
    summary: Summary
    eml: Path | None = None
    emailed: bool = False
    seconds: float = 0.0


@dataclass
class Build:
    """What the steps of one build share: the options, the month's data state, the build directory."""

    options: ReportOptions
    month: str
    db_path: Path
    notebooks: list[Path]
    directory: Path  # the hidden build directory, renamed to ``final`` when done
    final: Path
    complete: bool
    data_end: datetime | None
    freshness: str
    say: Callable[[str], None]
    loc: Locale = field(init=False)  # one Locale for the run: the page, the summary and the notebooks' words

    def __post_init__(self) -> None:
        self.loc = Locale(self.options.locale)


def _refuse_overwrite(final: Path, options: ReportOptions, month: str, say) -> None:
    if not final.exists() or options.force:
        return
    manifest = read_manifest(final)
    if is_complete(final):
        raise ReportExists(
            f"{final / 'index.html'} is already a complete report (rendered "
            f"{manifest.get('rendered_at', '?')}); nothing was overwritten. Use --force to render it again.")
    if manifest is None and any(final.iterdir()):
        raise ReportExists(f"{final} exists and is not a dlvstats report; nothing was overwritten. "
                           "Use --force to replace it, or choose another --out.")
    say(f"replacing the report of {month} in {final}: it was rendered from incomplete data")


def _load_and_check(options: ReportOptions, db_path: Path, say) -> None:
    if options.ingest:
        from dlvstats.ingest import ingest_paths

        say(f"loading {len(options.ingest)} drop(s) into {db_path}")
        loaded = ingest_paths(db_path, [Path(p) for p in options.ingest])
        say(f"loaded drop {loaded.drop_id}")
    if not db_path.exists():
        raise ReportUsageError(f"{db_path}: no such database (load a drop with `dlvstats ingest` first)")
    from dlvstats.metrics.common import UnknownAccount, check_account

    try:
        check_account(db_path, options.account_id)
    except UnknownAccount as exc:
        raise ReportUsageError(str(exc)) from None


def _freshness_gate(options: ReportOptions, db_path: Path, month: str, say):
    complete, last, text = freshness(db_path, month, options.report_timezone)
    if not complete:
        if options.email and not options.allow_incomplete:
            raise DataIncomplete(
                f"not e-mailing the {month} report: {text}. Load the missing days first, or "
                "pass --allow-incomplete to send a report marked incomplete.")
        say(f"WARNING: {text}; the report is marked incomplete")
    return complete, last, text


def _build_directory(final: Path) -> Path:
    final.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{final.name}.build-", dir=final.parent))
    umask = os.umask(0)
    os.umask(umask)
    build.chmod(0o777 & ~umask)  # mkdtemp makes it private; the published report is not
    return build


def run_report(options: ReportOptions, *, progress: Callable[[str], None] | None = None,
               settings: Settings | None = None) -> ReportResult:
    """Render (and e-mail) one month's report; raises a ``ReportError`` carrying the exit code.
    ``settings``: the deployment's (SMTP for ``--email``); ``config.settings()`` when not given."""
    started = time.monotonic()
    say = progress or (lambda message: log.info("%s", message))
    month = parse_month(options.month)
    db_path = Path(options.db_path).resolve()
    out_dir = Path(options.out_dir).resolve()
    notebooks_dir = Path(options.notebooks_dir).resolve() if options.notebooks_dir else default_notebooks_dir()
    smtp = check_email_settings(options, settings)
    final = report_dir(out_dir, month, options.account_id)

    with month_lock(final):
        recover(final)
        _refuse_overwrite(final, options, month, say)
        _load_and_check(options, db_path, say)
        complete, last, freshness_text = _freshness_gate(options, db_path, month, say)
        notebooks = find_notebooks(notebooks_dir)
        if not notebooks:
            raise ReportUsageError(f"no notebooks (*.ipynb) in {notebooks_dir}")
        build = Build(options, month, db_path, notebooks, _build_directory(final), final, complete, last,
                      freshness_text, say)
        try:
            result = build_report(build)
        except BaseException:
            if build.directory.exists():
                shutil.rmtree(build.directory, ignore_errors=True)
            raise
        publish(build.directory, final)
        shutil.rmtree(final.parent / f"{final.name}.failed", ignore_errors=True)  # superseded
        result.directory, result.index = final, final / "index.html"
        say(f"report written to {result.index}")

    if options.email:
        send_report(options, month, result, smtp, say)
    result.seconds = time.monotonic() - started
    return result


def notebook_values(build: Build, metric_cache: str) -> dict:
    """Every parameter the runner fills; each notebook gets those it declares."""
    options = build.options
    start, end = month_bounds(build.month, options.report_timezone)
    values = {
        "db_path": str(build.db_path),
        # UTC instants with an offset: the notebooks' Period reads them as such (the month is
        # cut in the reporting time zone); in UTC they stay plain days.
        "date_from": f"{start:%Y-%m-%d}" if start.hour == 0 and start.minute == 0 else f"{start:%Y-%m-%dT%H:%M:%S}+00:00",
        "date_to": f"{end:%Y-%m-%d}" if end.hour == 0 and end.minute == 0 else f"{end:%Y-%m-%dT%H:%M:%S}+00:00",
        "account_id": options.account_id,
        "month": build.month,
        "report_timezone": options.report_timezone or "UTC",
        # the run's shared metric tables: the summary and the notebooks compute each table once
        "metric_cache": metric_cache,
    }
    if options.memory_limit:
        values["memory_limit"] = options.memory_limit
    if build.loc.code != "en":
        # the language of the sentences the notebooks print (reading_of, in_plain_words, ...); English
        # is the notebooks' default, so an English run injects and records the parameters it always did
        values["locale"] = build.loc.code
    return values


def build_report(build: Build) -> ReportResult:
    """Run the notebooks and the summary, then write the page, the CSV tables and the manifest."""
    scratch = tempfile.mkdtemp(prefix="dlvstats-metrics-")
    try:
        runs = assemble.plan_runs(build, notebook_values(build, scratch))
        summary = assemble.run_all(build, runs, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    failed = [r for r in runs if not r.skipped and not r.ok]
    if failed:
        where = keep_failed(build.directory, build.final)
        names = ", ".join(f"{r.name} ({r.error})" for r in failed)
        raise NotebookFailed(f"notebook failed, no report rendered or sent: {names}. The executed notebook "
                             f"with its error is in {where}/")
    assemble.write_outputs(build, runs, summary)
    return ReportResult(directory=build.directory, index=build.directory / "index.html",
                        complete_data=build.complete, notebooks=runs, summary=summary)
