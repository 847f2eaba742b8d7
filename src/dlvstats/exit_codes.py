"""The exit codes of every ``dlvstats`` command, defined once (the CLI and the report import them).

A public interface: cron jobs, systemd units and scripts branch on them (docs/monthly-report.md).
"""

from __future__ import annotations

EXIT_OK = 0
#: an unexpected failure (the message says what; --verbose shows the traceback)
EXIT_FAILED = 1
#: ``blocklists check``: something is listed (the check ran; not a failure)
EXIT_LISTED = 1
#: usage or configuration error: nothing was done
EXIT_USAGE = 2
#: bad input refused (ingest, --ingest, map, networks, signals): nothing was loaded
EXIT_REFUSED = 3
EXIT_INGEST_REFUSED = EXIT_REFUSED
#: the database was locked for longer than the lock timeout, or another run of the same report holds it
EXIT_BUSY = 4
#: report: the data stops before the month's end; not e-mailed
EXIT_INCOMPLETE = 5
#: report: a complete report of the month exists (nothing overwritten; --force)
EXIT_EXISTS = 6
#: report: a notebook failed (nothing rendered or sent)
EXIT_NOTEBOOK_FAILED = 7
#: report: the e-mail could not be sent (the report is rendered and stays)
EXIT_MAIL_FAILED = 8
#: interrupted (Ctrl-C): 128 + SIGINT, as shells report it
EXIT_INTERRUPTED = 130
