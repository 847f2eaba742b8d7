"""The report's errors and the command line's exit codes, defined in ``dlvstats.exit_codes`` (``dlvstats`` and
``dlvstats report`` return these; docs/monthly-report.md lists them)."""

from __future__ import annotations

from pathlib import Path

# defined once, in dlvstats.exit_codes (the CLI's too); re-exported here for the report's callers
from dlvstats.exit_codes import (  # noqa: F401
    EXIT_BUSY,
    EXIT_EXISTS,
    EXIT_FAILED,
    EXIT_INCOMPLETE,
    EXIT_INGEST_REFUSED,
    EXIT_MAIL_FAILED,
    EXIT_NOTEBOOK_FAILED,
    EXIT_OK,
    EXIT_USAGE,
)


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
