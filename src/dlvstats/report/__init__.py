"""The monthly report: run every analysis notebook for a month with papermill, assemble one
self-contained HTML page (summary on top, each analysis below, plotly.js embedded once), write the
metric tables beside it as CSV, and e-mail it.

The package, one concern a module:

- ``errors``: the exceptions, each carrying the CLI's exit code (``EXIT_*``, defined there only);
- ``notebooks``: notebook parameters and the papermill worker pool;
- ``metric_run``: the run's metric tables, computed once, and the summary built from them
  (``dlvstats.summary``: frames in, dataclasses out);
- ``sanitize``, ``markdown``, ``page``: the page from the executed notebooks, through the Jinja
  template (``templates/report.html.j2``), every string escaped or sanitised; the notebooks' tables
  are rendered from their data in the kernel (``dlvstats.tables.show_table``, re-exported here);
- ``publish``: the month's lock, the manifest, publishing with ``os.rename``;
- ``mailing``: the e-mail through ``dlvstats.mail``;
- ``assemble`` and ``run``: one run, ``run_report(ReportOptions(...))``.

The names below are the package's public surface (the CLI and the tests use them). They are loaded
on first use (``__getattr__``): ``dlvstats`` imports ``dlvstats.report.errors`` at start-up for the
exit codes, and must not pay for pandas and DuckDB there.
"""

from __future__ import annotations

import importlib

#: Each public name and the module that defines it.
_EXPORTS = {
    **dict.fromkeys([
        "PACKAGE_DIR"
    ], "dlvstats.config"),
    **dict.fromkeys([
        "last_complete_month", "month_bounds", "month_label", "month_shift", "previous_month"
    ], "dlvstats.months"),
    **dict.fromkeys([
        "DataIncomplete", "EXIT_BUSY", "EXIT_EXISTS", "EXIT_FAILED", "EXIT_INCOMPLETE",
        "EXIT_INGEST_REFUSED", "EXIT_MAIL_FAILED", "EXIT_NOTEBOOK_FAILED", "EXIT_OK", "EXIT_USAGE",
        "NotebookFailed", "ReportBusy", "ReportError", "ReportExists", "ReportMailFailed",
        "ReportUsageError"
    ], "dlvstats.report.errors"),
    **dict.fromkeys([
        "MAIL_BACKOFF_SECONDS", "MAIL_RETRIES", "PLACEHOLDER_FROM", "REPORT_TITLE", "check_email_settings",
        "email_footer", "email_subject"
    ], "dlvstats.report.mailing"),
    **dict.fromkeys([
        "_translate_markdown", "markdown_messages", "notebook_messages"
    ], "dlvstats.report.markdown"),
    **dict.fromkeys([
        "MetricRun", "_blocklist_now", "compute_alerts", "compute_summary", "data_end", "freshness",
        "headline_trend", "metric_tables"
    ], "dlvstats.report.metric_run"),
    **dict.fromkeys([
        "NotebookRun", "_joined", "declared_parameters", "default_notebooks_dir", "find_notebooks",
        "notebook_parameters", "read_notebook", "run_notebooks", "write_notebook"
    ], "dlvstats.report.notebooks"),
    **dict.fromkeys([
        "TEMPLATES_DIR", "_jinja_env", "_without_templates", "notebook_section", "render_page"
    ], "dlvstats.report.page"),
    **dict.fromkeys([
        "MANIFEST", "account_slug", "is_complete", "month_lock", "read_manifest", "report_dir"
    ], "dlvstats.report.publish"),
    **dict.fromkeys([
        "ReportOptions", "ReportResult", "parse_month", "run_report"
    ], "dlvstats.report.run"),
    **dict.fromkeys([
        "escape_figure", "json_for_script", "markdown_to_html", "sanitize_html"
    ], "dlvstats.report.sanitize"),
    **dict.fromkeys([
        "Table", "show_table"
    ], "dlvstats.tables"),
    **dict.fromkeys([
        "AddressScrubber"
    ], "dlvstats.scrub"),
    **dict.fromkeys([
        "Alert", "HEADLINE_SPECS", "Headline", "Summary", "headlines", "maturity_notes", "summary_frame",
        "trend_rows", "year_before_totals"
    ], "dlvstats.summary"),
}
_SUBMODULES = ("assemble", "errors", "mailing", "markdown", "metric_run", "notebooks", "page", "publish", "run",
               "sanitize")


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # once loaded, a plain attribute (monkeypatch and star-imports see it)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS, *_SUBMODULES])


__all__ = [
    "EXIT_BUSY",
    "EXIT_EXISTS",
    "EXIT_FAILED",
    "EXIT_INCOMPLETE",
    "EXIT_INGEST_REFUSED",
    "EXIT_MAIL_FAILED",
    "EXIT_NOTEBOOK_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "HEADLINE_SPECS",
    "MAIL_BACKOFF_SECONDS",
    "MAIL_RETRIES",
    "MANIFEST",
    "PACKAGE_DIR",
    "PLACEHOLDER_FROM",
    "REPORT_TITLE",
    "TEMPLATES_DIR",
    "AddressScrubber",
    "Alert",
    "DataIncomplete",
    "Headline",
    "MetricRun",
    "NotebookFailed",
    "NotebookRun",
    "ReportBusy",
    "ReportError",
    "ReportExists",
    "ReportMailFailed",
    "ReportOptions",
    "ReportResult",
    "ReportUsageError",
    "Summary",
    "Table",
    "_blocklist_now",
    "_jinja_env",
    "_joined",
    "_translate_markdown",
    "_without_templates",
    "account_slug",
    "check_email_settings",
    "compute_alerts",
    "compute_summary",
    "data_end",
    "declared_parameters",
    "default_notebooks_dir",
    "email_footer",
    "email_subject",
    "escape_figure",
    "find_notebooks",
    "freshness",
    "headline_trend",
    "headlines",
    "is_complete",
    "json_for_script",
    "last_complete_month",
    "markdown_messages",
    "markdown_to_html",
    "maturity_notes",
    "metric_tables",
    "month_bounds",
    "month_label",
    "month_lock",
    "month_shift",
    "notebook_messages",
    "notebook_parameters",
    "notebook_section",
    "parse_month",
    "previous_month",
    "read_manifest",
    "read_notebook",
    "render_page",
    "report_dir",
    "run_notebooks",
    "run_report",
    "sanitize_html",
    "show_table",
    "summary_frame",
    "trend_rows",
    "write_notebook",
    "year_before_totals",
]
