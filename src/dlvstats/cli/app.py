"""The ``dlvstats`` command: the root group, its command list, and ``main`` (exit codes, the one-line
error of an unexpected failure). The only place logging is configured (``common.configure_logging``).

Every command module is imported here, at start-up: a module that fails to import fails every
``dlvstats`` run loudly instead of silently dropping its command. Command modules import their
heavy dependencies (DuckDB, pandas, papermill) inside the command functions, so ``dlvstats --help``
and start-up stay fast.
"""

from __future__ import annotations

import sys

import click

from dlvstats.cli import (
    blocklists,
    database,
    export,
    ingest,
    mapping,
    metrics,
    networks,
    report,
    signals,
    simulate,
    watch,
)
from dlvstats.cli.common import CONTEXT, CommandExit, Group, Run, verbosity_options
from dlvstats.exit_codes import EXIT_BUSY, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE

DESCRIPTION = """\
Deliverability analytics over your own send, open, click and complaint logs.

Typical month:
  dlvstats ingest data/drops/2026-10 --db data/dlvstats.duckdb     load the month's drop
  dlvstats info --db data/dlvstats.duckdb                          what is loaded, orphans, rejects
  dlvstats metrics hidden-images --db data/dlvstats.duckdb --from 2026-10-01 --to 2026-11-01
  dlvstats report --month 2026-10 --db data/dlvstats.duckdb --out reports --email ops@example.com

Try it on simulated data first:  make demo   (or: dlvstats simulate --out data/demo)
"""

#: the commands in the order ``dlvstats --help`` lists them
COMMANDS = (
    simulate.simulate, ingest.ingest, database.info, database.classify, database.providers, database.forget,
    database.migrate, networks.networks, metrics.metrics, report.report, blocklists.blocklists,
    signals.signals, watch.watch, mapping.map_command, export.export,
)


def _version(ctx, param, value):
    if value:
        from dlvstats import __version__

        click.echo(f"dlvstats {__version__}")
        ctx.exit(0)


class _Root(Group):
    def list_commands(self, ctx):
        return [c.name for c in COMMANDS]


@click.group("dlvstats", cls=_Root, raw_help=True, help=DESCRIPTION, context_settings=CONTEXT,
             options_metavar="[OPTIONS]", subcommand_metavar="COMMAND [ARGS]...")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_version,
              help="print the version and exit")
@verbosity_options
def app() -> None:
    pass


for _command in COMMANDS:
    app.add_command(_command)


def main(argv: list[str] | None = None) -> int:
    """Run ``dlvstats`` with ``argv`` (default: the command line) and return its exit code.

    As argparse did: a usage error says what is wrong and raises ``SystemExit(2)``; ``--help`` and
    ``--version`` raise ``SystemExit(0)``; a command's outcome is returned."""
    run = Run()
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        with app.make_context("dlvstats", args, obj=run) as ctx:
            return app.invoke(ctx) or 0
    except CommandExit as done:  # a command's own exit code
        return done.exit_code
    except click.exceptions.Exit as done:  # --help, --version, a group without its command
        raise SystemExit(done.exit_code) from None
    except click.UsageError as exc:
        exc.show()
        raise SystemExit(EXIT_USAGE) from None
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (KeyboardInterrupt, click.Abort):
        print("interrupted; an unfinished ingest leaves the database as it was", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # one clear line for the user; --verbose shows the traceback
        if run.verbose:
            raise
        return _failure(run.command, exc)


def _failure(command: str, exc: Exception) -> int:
    from dlvstats.db import DatabaseBusy, DatabaseError

    known = isinstance(exc, (DatabaseBusy, DatabaseError))
    kind = "" if known else f"{type(exc).__name__}: "
    print(f"{command}: {kind}{exc}", file=sys.stderr)
    if not known:
        print("(run again with --verbose for the full traceback)", file=sys.stderr)
    return EXIT_BUSY if isinstance(exc, DatabaseBusy) else EXIT_FAILED
