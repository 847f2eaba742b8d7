"""The ``dlvstats`` command line in-process (click's CliRunner): the command lines the README, the docs
and the Makefile show still parse, every option they name exists, help teaches, usage errors say
what to do and exit 2, a broken command module fails loudly, the run's settings reach DuckDB."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from dlvstats import config
from dlvstats.cli import app, main
from dlvstats.cli.common import Run

ROOT = Path(__file__).resolve().parent.parent


def invoke(*args: str) -> click.testing.Result:
    return CliRunner().invoke(app, list(args), prog_name="dlvstats")


def commands(group: click.Group = app, path: tuple[str, ...] = ()):
    """(path, command) of every command and group under ``group``."""
    for name, cmd in group.commands.items():
        yield (*path, name), cmd
        if isinstance(cmd, click.Group):
            yield from commands(cmd, (*path, name))


def resolve(args: list[str]) -> tuple[click.Context, list[str]]:
    """Parse ``args`` down to the leaf command as ``dlvstats`` would (options converted and checked,
    nothing run); return the leaf's context and its command path."""
    ctx = app.make_context("dlvstats", list(args), obj=Run(settings=config.settings()))
    path = []
    while isinstance(ctx.command, click.Group):
        rest = [*ctx._protected_args, *ctx.args]
        name, cmd, rest = ctx.command.resolve_command(ctx, rest)
        path.append(name)
        ctx = cmd.make_context(name, rest, parent=ctx)
    return ctx, path


# --- the documented command lines ----------------------------------------------------------------

_SHELL_VALUE = re.compile(r"\$\$?\([^)]*\)")  # $(DB), $$(cat x) in Makefile recipes
_COMMAND = re.compile(r"(?:^|(?<=[\s/;&(]))dlvstats ")


def _documents() -> list[Path]:
    return [ROOT / "README.md", ROOT / "Makefile", *sorted((ROOT / "docs").rglob("*.md"))]


def _make_variables() -> dict[str, str]:
    """The Makefile's ``NAME := value`` / ``NAME ?= value`` definitions (DB, DEMO_CONTACTS, ...)."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return dict(re.findall(r"^([A-Z_]+) *[:?]?= *(\S+)", text, re.MULTILINE))


_MAKE = _make_variables()
_SHELL_BLOCKS = ("", "sh", "bash", "shell", "console")


def _words(rest: str) -> list[str]:
    """The arguments of a shell command line, up to its first pipe, redirection, ``&&`` or comment;
    Makefile variables replaced by their values, other substitutions by X."""
    rest = re.sub(r"\$\(([A-Z_]+)\)", lambda m: _MAKE.get(m.group(1), "X"), rest)
    lex = shlex.shlex(_SHELL_VALUE.sub("X", rest), posix=True, punctuation_chars="|&;<>")
    lex.whitespace_split = True
    words = []
    for token in lex:
        if set(token) <= set("|&;<>"):
            break
        words.append(token)
    return words


def _is_command_line(words: list[str]) -> bool:
    """A command line, not a synopsis (``[--seed N]``), a sentence or a benchmark table's row (a command
    name, then figures)."""
    if not words or words[0] not in app.commands or any(w.startswith("[") for w in words):
        return False
    return not (len(words) > 2 and re.fullmatch(r"\d+(\.\d+)?[KM]?", words[2]))


def documented_lines() -> list[tuple[str, list[str]]]:
    """Every ``dlvstats ...`` command line in a fenced shell block of the README and docs, and in the
    Makefile's recipes, as (where, arguments after ``dlvstats``)."""
    found = []
    for path in _documents():
        text = path.read_text(encoding="utf-8").replace("\\\n", " ")
        in_fence, shell, console = False, path.suffix != ".md", False
        for number, line in enumerate(text.splitlines(), 1):
            if path.suffix == ".md" and line.lstrip().startswith("```"):
                in_fence = not in_fence
                shell = in_fence and line.strip()[3:].strip() in _SHELL_BLOCKS
                console = in_fence and line.strip()[3:].strip() == "console"
                continue
            if console and not line.lstrip().startswith("$ "):
                continue  # a console block: commands after the prompt, the rest is their output
            recipe = path.suffix == ".md" or line.startswith("\t")  # the Makefile's recipe lines
            for match in _COMMAND.finditer(line) if shell and recipe else ():
                if re.search(r"(?:^|\s)#", line[:match.start()]):
                    break  # the rest of the line is a shell comment (`# the options of dlvstats ingest`)
                words = _words(line[match.end():])
                if _is_command_line(words):
                    found.append((f"{path.relative_to(ROOT)}:{number}", words))
    return found


DOCUMENTED = documented_lines()


def test_the_docs_show_many_command_lines():
    assert len(DOCUMENTED) > 40  # so that the test below can fail
    assert {words[0] for _, words in DOCUMENTED} >= {"ingest", "metrics", "report", "simulate", "blocklists"}


@pytest.mark.parametrize("where, words", DOCUMENTED, ids=[w for w, _ in DOCUMENTED])
def test_every_documented_command_line_parses(where, words):
    try:
        resolve(words)
    except click.exceptions.Exit as done:  # a documented `dlvstats metrics --help`
        assert done.exit_code == 0
    except click.UsageError as exc:
        pytest.fail(f"{where}: dlvstats {shlex.join(words)}: {exc.format_message()}")


def _option_names(cmd: click.Command) -> set[str]:
    return {name for p in cmd.params if isinstance(p, click.Option) for name in (*p.opts, *p.secondary_opts)}


def test_every_option_the_docs_name_exists():
    """In prose too (`dlvstats export --lake`): each --option after a command exists on that command."""
    by_path = {" ".join(path): cmd for path, cmd in commands()}
    said = []
    pattern = re.compile(r"dlvstats ((?:[a-z][a-z-]* ?){1,2})((?:[^`|\n]*?))(?:`|$)", re.MULTILINE)
    for path in [*_documents(), *sorted((ROOT / "src" / "dlvstats").rglob("*.py"))]:
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            names = match.group(1).split()
            key = " ".join(names[:2]) if " ".join(names[:2]) in by_path else names[0]
            if key not in by_path:
                continue
            cmd = by_path[key]
            options = _option_names(cmd) | {"--help"}
            for option in re.findall(r"(?<![\w-])--[a-z][a-z-]*", match.group(2)):
                if option not in options and not isinstance(cmd, click.Group):
                    said.append(f"{path.relative_to(ROOT)}: dlvstats {key} {option}")
    assert said == [], "options the docs name that the command does not have:\n" + "\n".join(said)


# --- help that teaches ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [p for p, _ in commands()], ids=" ".join)
def test_every_command_has_help_with_its_options_and_its_examples_as_written(path):
    cmd = dict(commands())[path]
    done = invoke(*path, "--help")
    assert done.exit_code == 0, done.output
    assert done.output.startswith(f"Usage: dlvstats {' '.join(path)} ")
    for option in _option_names(cmd) - {"-h"}:
        assert option in done.output
    for line in (cmd.epilog or "").splitlines():  # examples and exit codes keep their layout
        assert line.rstrip() in done.output.splitlines() or not line.strip()
    assert cmd.short_help and cmd.help, "a line for `dlvstats --help` and a paragraph for its own page"
    for argument in (p for p in cmd.params if isinstance(p, click.Argument)):  # click gives them no help
        assert argument.make_metavar(click.Context(cmd)) in cmd.arguments, f"say what {argument.name} is"
        assert "Arguments:" in done.output


def test_the_commands_with_examples():
    """Examples are where a user learns a command: the commands that do real work show some."""
    with_examples = {" ".join(p) for p, cmd in commands() if "dlvstats " in (cmd.epilog or "")}
    assert with_examples >= {"simulate", "ingest", "classify", "networks", "metrics", "report", "blocklists",
                             "blocklists check", "blocklists serve-test-zone", "signals", "signals import", "watch",
                             "map", "export"}


def test_dlvstats_alone_shows_the_commands_and_exits_2():
    done = invoke()
    assert done.exit_code == 2 and "Typical month:" in done.output and "ingest" in done.output


def test_version():
    from dlvstats import __version__

    done = invoke("--version")
    assert done.exit_code == 0 and done.output.strip() == f"dlvstats {__version__}"


# --- usage errors say what to do ---------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["metrics", "hidden-images", "--from", "2026-13-01", "--to", "2026-11-01"], "give YYYY-MM-DD"),
    (["metrics", "hidden-images", "--to", "2026-11-01"], "Missing option '--from'"),
    (["metrics", "no-such-metric", "--from", "2026-10-01", "--to", "2026-11-01"], "hidden-images"),
    (["ingest", "--memory-limit", "lots", "drop"], "give a size such as 2GB"),
    (["ingest"], "Missing argument 'DROP...'"),
    (["ingest", "d", "--format", "mailchimpp"], "sendgrid"),
    (["simulate", "--out", "x", "--as", "mailtrap"], "canonical"),
    (["networks", "refresh"], "info"),
    (["blocklists", "check", "--since", "week"], "not a valid integer"),
    (["nosuch"], "No such command"),
])
def test_usage_errors_exit_2_and_say_what_is_expected(args, message):
    done = invoke(*args)
    assert done.exit_code == 2, done.output
    assert message in done.output and "Traceback" not in done.output
    assert f"Try 'dlvstats {args[0]}" in done.output or args == ["nosuch"]


def test_main_raises_system_exit_on_usage_errors_and_returns_a_commands_code(tmp_path, capsys):
    with pytest.raises(SystemExit) as usage:
        main(["metrics", "hidden-images", "--from", "yesterday", "--to", "2026-11-01"])
    assert usage.value.code == 2 and "'yesterday' is not a date" in capsys.readouterr().err
    assert main(["simulate"]) == 2  # a command's own usage check: returned, as argparse's handlers did
    assert "--out DIR is required" in capsys.readouterr().err
    assert main(["map", "--propose", str(tmp_path / "none.csv")]) == 2


def test_a_commands_exit_code_reaches_the_shell_through_click(tmp_path):
    done = invoke("map", "--propose", str(tmp_path / "none.csv"))
    assert done.exit_code == 2 and "no such file" in done.output


def test_a_value_that_cannot_be_used_names_the_option(tmp_path, capsys):
    assert main(["ingest", str(tmp_path), "--db", str(tmp_path / "x.duckdb"), "--tag", "account_id"]) == 1
    assert "--tag expects FIELD=NAME, got 'account_id'" in capsys.readouterr().err
    assert not (tmp_path / "x.duckdb").exists()


# --- registration fails loudly ------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["dlvstats.cli.metrics", "dlvstats.cli.report", "dlvstats.spark"])
def test_a_broken_command_module_fails_every_run_loudly(module):
    """No `except ImportError: pass`: a command module that cannot be imported is an error of every
    dlvstats run, not a command silently missing from the list."""
    code = (f"import sys\nsys.modules[{module!r}] = None  # importing it raises ImportError\n"
            "from dlvstats.cli import main\nsys.exit(main(['--help']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    assert "ModuleNotFoundError" in done.stderr and f"import of {module} halted" in done.stderr, done.stderr


def test_every_command_module_is_registered():
    import pkgutil

    import dlvstats.cli

    modules = {m.name for m in pkgutil.iter_modules(dlvstats.cli.__path__)} - {"app", "common", "__main__"}
    registered = {cmd.callback.__module__.rsplit(".", 1)[1] for cmd in app.commands.values()}
    assert modules == registered


# --- the run's settings ----------------------------------------------------------------------------


def test_ingest_year_reaches_the_postfix_adapter(tmp_path):
    from tests.test_adapters_helpers import copy_fixtures

    db = tmp_path / "pf.duckdb"
    assert main(["-q", "ingest", str(copy_fixtures("postfix", tmp_path / "in")), "--format", "postfix", "--year", "2024",
                 "--db", str(db)]) == 0
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        alice = con.execute("SELECT sent_at FROM sends WHERE message_id = $m", {
            "m": "20261001100000.4BCD1E12345@mail.acme.example:alice@gmail.com"}).fetchone()[0]
        own = con.execute("SELECT sent_at FROM sends WHERE message_id = 'acme-own-0001'").fetchone()[0]
    finally:
        con.close()
    assert alice.year == 2024  # a classic syslog stamp, which carries no year: --year's
    assert own.year == 2026  # an RFC 3339 stamp keeps its own


def test_the_db_default_comes_from_the_run_settings(tmp_path, monkeypatch, capsys):
    """DLVSTATS_DB is read once, into Settings; the command takes its default from there."""
    from dlvstats import db as dbmod

    path = tmp_path / "from-settings.duckdb"
    con = dbmod.connect(path)
    dbmod.migrate(con)
    con.close()
    with config.using(config.settings().replace(db_path=path)):
        assert main(["info"]) == 0
    assert str(path) in capsys.readouterr().out


def test_report_ingest_takes_several_drops_as_it_always_did():
    """argparse's `--ingest DROP [DROP...]`: click gives an option one value, the rest arrive as arguments."""
    ctx, path = resolve(["report", "--ingest", "d1", "d2", "--db", "x.duckdb", "--month", "2026-10"])
    assert path == ["report"]
    assert [str(p) for p in (*ctx.params["ingest"], *ctx.params["more_drops"])] == ["d1", "d2"]
    done = invoke("report", "d1", "--month", "2026-10")
    assert done.exit_code == 2 and "go after --ingest" in done.stderr
