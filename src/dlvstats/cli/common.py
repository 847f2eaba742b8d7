"""What every command module shares: the run's state, the options every command takes, the
parameter types, the help layout (epilogs printed as written), usage errors that say what to do.

Adding an option to a command: one ``@click.option`` line above its function and a keyword
argument of the same name (see ``dlvstats.cli.ingest`` for a full example); the help text says
what the value is, its default and where it is documented.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import click

from dlvstats import config
from dlvstats.exit_codes import EXIT_USAGE


@dataclass
class Run:
    """One ``dlvstats`` invocation: the settings (read once, with the command line's overrides)
    and the verbosity. Created by the first option that needs it; the commands get it as their
    first argument."""

    settings: config.Settings = field(default_factory=config.settings)
    verbose: bool = False
    quiet: bool = False
    #: the running command, e.g. "dlvstats metrics", for the one-line error of an unexpected failure
    command: str = "dlvstats"


def _run() -> Run:
    return click.get_current_context().ensure_object(Run)


class Progress:
    """Progress lines on stderr for long work (one line per step; no control codes in logs)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.started = time.monotonic()

    def __call__(self, stage: str, done: int, total: int, detail: str = "") -> None:
        if self.quiet:
            return
        elapsed = time.monotonic() - self.started
        print(f"[{elapsed:6.1f}s] {stage} {done}/{total} {detail}".rstrip(), file=sys.stderr, flush=True)


# --- help layout ------------------------------------------------------------------------------------


class _Layout:
    """Print the epilog (examples, exit codes) as written, the description too when ``raw_help``, and
    an Arguments section (``arguments``: metavar -> what it is; click's arguments carry no help)."""

    def __init__(self, *args, raw_help: bool = False, arguments: dict[str, str] | None = None, **kwargs):
        self.raw_help = raw_help
        self.arguments = arguments or {}
        super().__init__(*args, **kwargs)

    def format_options(self, ctx, formatter) -> None:
        if self.arguments:
            with formatter.section("Arguments"):
                formatter.write_dl(list(self.arguments.items()))
        super().format_options(ctx, formatter)

    def format_help_text(self, ctx, formatter) -> None:
        if self.raw_help and self.help:
            formatter.write_paragraph()
            formatter.write(self.help if self.help.endswith("\n") else self.help + "\n")
            return
        super().format_help_text(ctx, formatter)

    def format_epilog(self, ctx, formatter) -> None:
        if self.epilog:
            formatter.write_paragraph()
            formatter.write(self.epilog if self.epilog.endswith("\n") else self.epilog + "\n")


class CommandExit(click.exceptions.Exit):
    """A command's non-zero exit code: ``main`` returns it; click's own runner (CliRunner, standalone
    mode) exits with it."""


class Command(_Layout, click.Command):
    pass


class Group(_Layout, click.Group):
    pass


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110, "terminal_width": 110}


# --- the options every command takes ---------------------------------------------------------------

MEMORY_LIMIT_HELP = (
    "cap DuckDB's memory in each process, e.g. 2GB or 500MB (default: $DLVSTATS_MEMORY_LIMIT, else "
    "DuckDB's own default, 80% of RAM); past it DuckDB spills to a .tmp directory beside the database"
)
_MEMORY_SIZE = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


def _set_verbose(ctx, param, value):
    if value:
        _run().verbose = True


def _set_quiet(ctx, param, value):
    if value:
        _run().quiet = True


def _set_memory_limit(ctx, param, value):
    if value is None:
        return
    if not _MEMORY_SIZE.fullmatch(value.strip()):
        raise click.BadParameter(f"{value!r}: give a size such as 2GB, 1.5GB or 500MB", ctx, param)
    run = _run()
    run.settings = run.settings.replace(memory_limit=value.strip())


def verbosity_options(f: Callable) -> Callable:
    """-v and -q, before the command's name (``dlvstats -q ingest``) or after it (``dlvstats ingest -q``)."""
    f = click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=_set_quiet,
                     help="no progress lines")(f)
    return click.option("-v", "--verbose", is_flag=True, expose_value=False, callback=_set_verbose,
                        help="log debug details")(f)


def configure_logging(verbose: bool, quiet: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def command(name: str, *, group: click.Group | None = None, **attrs) -> Callable:
    """A ``dlvstats`` command: ``attrs`` are click's (``short_help`` for the list of commands,
    ``help`` for its own page, ``epilog`` printed as written). The function receives the ``Run``
    first, then its own options; it runs with the run's settings as the process's
    (``config.using``) and returns the exit code."""

    def decorate(f: Callable) -> click.Command:
        @functools.wraps(f)
        def body(**kwargs):
            run = _run()
            run.command = click.get_current_context().command_path
            configure_logging(run.verbose, run.quiet)
            with config.using(run.settings):
                code = f(run, **kwargs) or 0
            if code:
                raise CommandExit(code)
            return code

        body = click.option("--memory-limit", metavar="SIZE", default=None, expose_value=False,
                            callback=_set_memory_limit, help=MEMORY_LIMIT_HELP)(verbosity_options(body))
        make = group.command if group is not None else click.command
        return _common_last(make(name, cls=Command, context_settings=CONTEXT, **attrs)(body))

    return decorate


def _common_last(cmd: click.Command) -> click.Command:
    """List a command's own options first in its help, the shared -v/-q/--memory-limit after them."""
    cmd.params.sort(key=lambda p: p.name in ("verbose", "quiet", "memory_limit"))
    return cmd


def group(name: str, **attrs) -> Callable:
    """A command group (``dlvstats blocklists check``): -v/-q/--memory-limit also go after its name."""

    def decorate(f: Callable) -> click.Group:
        body = click.option("--memory-limit", metavar="SIZE", default=None, expose_value=False,
                            callback=_set_memory_limit, help=MEMORY_LIMIT_HELP)(verbosity_options(f))
        return _common_last(click.group(name, cls=Group, context_settings=CONTEXT, **attrs)(body))

    return decorate


# --- parameter types and shared options --------------------------------------------------------------

PATH = click.Path(path_type=Path)

DB_HELP = "DuckDB file (default: $DLVSTATS_DB, else data/dlvstats.duckdb in the checkout)"


def db_option(help: str = DB_HELP) -> Callable:
    """``--db FILE``; None when not given (the command takes ``run.settings.db_path``)."""
    return click.option("--db", type=PATH, default=None, help=help)


class Day(click.ParamType):
    """A day, YYYY-MM-DD: anything else is a usage error (exit 2) saying what is expected."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        import datetime

        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date: give YYYY-MM-DD, e.g. 2026-10-01", param, ctx)
        if len(value) != 10:
            self.fail(f"{value!r}: give the day as YYYY-MM-DD, e.g. 2026-10-01", param, ctx)
        return value


class LazyChoice(click.Choice):
    """A choice whose values come from a registry imported only when the option is used or its help
    shown (``dlvstats --help`` stays fast), e.g. the ingest formats of ``dlvstats.ingest.adapters``."""

    def __init__(self, values: Callable[[], Iterable[str]]):
        self._values = values
        self._choices: tuple[str, ...] | None = None
        self.case_sensitive = True

    @property
    def choices(self) -> tuple[str, ...]:
        if self._choices is None:
            self._choices = tuple(self._values())
        return self._choices

    @choices.setter
    def choices(self, value) -> None:  # click.Choice.__init__ assigns it; ours is computed
        self._choices = tuple(value)


class BadValue(click.ClickException):
    """An option's value a command cannot use, found after parsing (exit 1, as it always was)."""

    def __init__(self, message: str):
        super().__init__(message)
        ctx = click.get_current_context(silent=True)
        self.where = ctx.command_path if ctx is not None else "dlvstats"

    def show(self, file=None) -> None:
        print(f"{self.where}: {self.message}", file=sys.stderr)


def usage(message: str) -> int:
    """Say ``dlvstats COMMAND: message`` on stderr and return the usage exit code."""
    say(message)
    return EXIT_USAGE


def say(message: str) -> None:
    """``dlvstats COMMAND: message`` on stderr (COMMAND: the running command's path after dlvstats)."""
    ctx = click.get_current_context(silent=True)
    where = ctx.command_path if ctx is not None else "dlvstats"
    print(f"{where}: {message}", file=sys.stderr)


def pairs(values: Iterable[str], option: str, shape: str) -> list[tuple[str, str]]:
    """``KEY=VALUE`` option values as pairs; a value without ``=`` is an error naming the option."""
    found = []
    for pair in values:
        if "=" not in pair:
            raise BadValue(f"{option} expects {shape}, got {pair!r}")
        key, value = pair.split("=", 1)
        found.append((key.strip(), value.strip()))
    return found
