"""The report's errors and the command line's exit codes, defined once (``dlvstats`` and ``dlvstats
report`` return these; docs/monthly-report.md lists them). Imports nothing: the CLI loads it at start-up."""

from __future__ import annotations

from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INGEST_REFUSED = 3  # a drop was refused: nothing was loaded
EXIT_BUSY = 4  # the database, or the same report, was locked by another process
EXIT_INCOMPLETE = 5
EXIT_EXISTS = 6
EXIT_NOTEBOOK_FAILED = 7
EXIT_MAIL_FAILED = 8


class ReportError(RuntimeError):
    exit_code = EXIT_FAILED


class ReportUsageError(ReportError):
    exit_code = EXIT_USAGE


class ReportBusy(ReportError):
    exit_code = EXIT_BUSY


class DataIncomplete(ReportError):
    exit_code = EXIT_INCOMPLETE


class ReportExists(ReportError):
    exit_code = EXIT_EXISTS


class NotebookFailed(ReportError):
    exit_code = EXIT_NOTEBOOK_FAILED


class ReportMailFailed(ReportError):
    exit_code = EXIT_MAIL_FAILED

    def __init__(self, message: str, index_path: Path):
        super().__init__(message)
        self.index_path = index_path
