"""The steps of a build between the options and the published directory: which notebooks run with
which parameters, running them beside the summary, and writing what a reader gets (the page, the
CSV tables, the manifest), every output scrubbed of e-mail addresses."""

from __future__ import annotations

import logging
import os
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from dlvstats import __version__
from dlvstats.i18n import column_label
from dlvstats.months import month_label, month_shift, month_short, previous_month
from dlvstats.report.mailing import REPORT_TITLE
from dlvstats.report.metric_run import compute_summary
from dlvstats.report.notebooks import (
    NotebookRun,
    declared_parameters,
    notebook_parameters,
    run_notebooks,
    scrub_notebook_outputs,
)
from dlvstats.report.page import Figure, notebook_section, render_page
from dlvstats.report.publish import write_manifest
from dlvstats.scrub import AddressScrubber
from dlvstats.summary import TREND_COLUMNS, Summary, summary_frame

log = logging.getLogger("dlvstats.report")


def plan_runs(build, values: dict) -> list[NotebookRun]:
    """One run per notebook, with the parameters it declares; skipped (said why) when it cannot be
    pointed at this database, or would show every client's data in a client's pack."""
    runs: list[NotebookRun] = []
    for path in build.notebooks:
        declared = declared_parameters(path)
        run = NotebookRun(name=path.name, source=str(path), output=str(build.directory / path.name),
                          parameters=notebook_parameters(declared, values))
        if "db_path" not in declared:
            run.skipped = "no `parameters` cell declaring db_path: it cannot be pointed at this database"
        elif build.options.account_id and "account_id" not in declared:
            run.skipped = "no account_id parameter: it would show every client's data in a client's pack"
        if run.skipped:
            log.warning("skipping %s: %s", path.name, run.skipped)
        runs.append(run)
    return runs


def run_all(build, runs: list[NotebookRun], metric_cache: str) -> Summary:
    """The notebooks in worker processes while this process computes the summary; the summary and
    the notebooks call the same metric functions with the same arguments, so each table is computed
    once and shared through ``metric_cache`` (metrics/cache.py)."""
    from dlvstats.metrics import cache

    options = build.options

    def side_work() -> Summary:
        return compute_summary(build.db_path, build.month, options.account_id, build.data_end,
                               options.report_timezone, build.loc)

    build.say(f"running {sum(not r.skipped for r in runs)} notebook(s) for {build.month}, {options.jobs} at a time")
    # plotly's renderer in the kernels: figures as their JSON (the page draws them), not as HTML
    env = {**os.environ, "PLOTLY_RENDERER": "plotly_mimetype"}
    with cache.configured(metric_cache, options.memory_limit):
        return run_notebooks(runs, options.jobs, env, side_work, build.directory / "kernels.log")


def _scrubbed_sections(build, runs: list[NotebookRun], summary: Summary, scrubber: AddressScrubber):
    for alert in summary.alerts:  # account, campaign and target names are free text
        alert.text = scrubber.text(alert.text)
    summary.notes = [scrubber.text(n) for n in summary.notes]
    figures: list[Figure] = []
    sections = []
    for i, run in enumerate(r for r in runs if not r.skipped):
        output = Path(run.output)
        scrub_notebook_outputs(output, scrubber)
        sections.append(notebook_section(output, i + 1, scrubber, figures, run.seconds, build.loc))
    kernels_log = build.directory / "kernels.log"
    if kernels_log.exists():  # what the kernels printed on stderr could quote data, too
        kernels_log.write_text(scrubber.text(kernels_log.read_text(encoding="utf-8", errors="replace")),
                               encoding="utf-8")
    return sections, figures


def _write_csv(build, summary: Summary, scrubber: AddressScrubber) -> list[str]:
    from dlvstats import export

    names = []
    for name, frame in [("summary", summary_frame(summary)), *summary.tables.items()]:
        path = build.directory / f"{name}.csv"
        path.write_text(scrubber.text(export.to_csv(frame)), encoding="utf-8")
        names.append(path.name)
    return names


def _page_context(build, runs, summary, sections, figures, csv_files, rendered_at: datetime) -> dict:
    loc, month, last = build.loc, build.month, build.data_end
    return {
        "title": loc.gettext(REPORT_TITLE),
        "loc": loc,
        "lang": loc.code,
        "month": month,
        "month_label": month_label(month, loc),
        "account": build.options.account_id,
        "complete_data": build.complete,
        "freshness": build.freshness,
        "data_end": f"{loc.moment(last)} UTC" if last else loc.gettext("no data"),
        "previous_month": previous_month(month),
        "month_short": month_short(month, loc),
        "previous_short": month_short(previous_month(month), loc),
        "year_before_short": month_short(month_shift(month, -12), loc),
        "trend_labels": [column_label(key, loc) or key for key, _, _ in TREND_COLUMNS],
        "summary": summary,
        "sections": sections,
        "figures": figures,
        "skipped": [r for r in runs if r.skipped],
        "csv_files": csv_files,
        "notebooks": [r for r in runs if not r.skipped],
        "rendered_at": f"{loc.moment(rendered_at)} UTC",
        "report_timezone": build.options.report_timezone,
        "version": __version__,
    }


def _manifest(build, runs, summary, figures, csv_files, rendered_at: datetime, scrubber) -> dict:
    last = build.data_end
    return {
        "status": "complete",
        "month": build.month,
        "account_id": build.options.account_id,
        "complete_data": build.complete,
        "freshness": build.freshness,
        "data_end": f"{last:%Y-%m-%d %H:%M} UTC" if last else "no data",  # machine-read: never translated
        "rendered_at": rendered_at.isoformat(timespec="seconds"),
        "dlvstats_version": __version__,
        "database": str(build.db_path),
        "notebooks": [{"name": r.name, "seconds": round(r.seconds, 1), "skipped": r.skipped,
                       "parameters": r.parameters} for r in runs],
        "figures": len(figures),
        "csv_files": csv_files,
        "alerts": [asdict(a) for a in summary.alerts],
        "headlines": [asdict(h) for h in summary.headlines],
        "addresses_hidden": scrubber.count,
    }


def write_outputs(build, runs: list[NotebookRun], summary: Summary) -> None:
    """The page, the CSV tables and the manifest, in the build directory."""
    scrubber = AddressScrubber()
    sections, figures = _scrubbed_sections(build, runs, summary, scrubber)
    csv_files = _write_csv(build, summary, scrubber)
    rendered_at = datetime.now(UTC)
    context = _page_context(build, runs, summary, sections, figures, csv_files, rendered_at)
    (build.directory / "index.html").write_text(render_page(context), encoding="utf-8")
    write_manifest(build.directory, _manifest(build, runs, summary, figures, csv_files, rendered_at, scrubber))


__all__ = ["plan_runs", "run_all", "write_outputs"]
