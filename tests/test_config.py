"""Settings: one object holding every DLVSTATS_* setting, read from the environment once, passed down
(``config.using``); no other module reads a DLVSTATS_* variable or writes one for data."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dlvstats import config

SRC = Path(__file__).resolve().parent.parent / "src" / "dlvstats"

#: modules the report and mail work moves onto Settings (SMTP, MAIL_FROM, the metric cache's switch);
#: remove each from here as it lands
OWNED_ELSEWHERE: set[str] = set()  # none left: every DLVSTATS_* variable is read in config.py


def test_from_env_reads_every_setting(tmp_path):
    env = {
        "DLVSTATS_DATA_DIR": str(tmp_path / "d"), "DLVSTATS_MEMORY_LIMIT": "1GB", "DLVSTATS_THREADS": "3",
        "DLVSTATS_LOCK_TIMEOUT": "7.5", "DLVSTATS_PSEUDONYM_KEY": "k" * 20,
        "DLVSTATS_REPORTS_DIR": str(tmp_path / "r"), "DLVSTATS_REPORT_TIMEZONE": "Europe/Paris",
        "DLVSTATS_REPORT_LOCALE": "fr", "DLVSTATS_SPARK_MASTER": "yarn", "DLVSTATS_TEST_PAUSE_AT": "staged,merged",
        "DLVSTATS_TEST_PAUSE_SECONDS": "2",
    }
    got = config.Settings.from_env(env)
    assert got.db_path == tmp_path / "d" / "dlvstats.duckdb"  # DLVSTATS_DB unset: in the data directory
    assert (got.memory_limit, got.threads, got.lock_timeout_seconds) == ("1GB", 3, 7.5)
    assert (got.pseudonym_key, got.reports_dir, got.data_dir) == ("k" * 20, tmp_path / "r", tmp_path / "d")
    assert (got.report_timezone, got.report_locale, got.spark_master) == ("Europe/Paris", "fr", "yarn")
    assert (got.test_pause_at, got.test_pause_seconds) == (("staged", "merged"), 2.0)
    assert config.Settings.from_env({**env, "DLVSTATS_DB": str(tmp_path / "x.duckdb")}).db_path == tmp_path / "x.duckdb"
    defaults = config.Settings.from_env({})
    assert (defaults.memory_limit, defaults.threads, defaults.lock_timeout_seconds) == (None, None, 60.0)
    assert (defaults.report_timezone, defaults.report_locale, defaults.spark_master) == ("UTC", "en", "local[2]")


def test_a_bad_number_names_the_variable():
    with pytest.raises(config.SettingsError, match="DLVSTATS_LOCK_TIMEOUT='soon' is not a number"):
        config.Settings.from_env({"DLVSTATS_LOCK_TIMEOUT": "soon"})


def test_the_environment_is_read_once(monkeypatch):
    first = config.settings()
    monkeypatch.setenv("DLVSTATS_MEMORY_LIMIT", "42MB" if first.memory_limit != "42MB" else "43MB")
    assert config.settings() is first  # never re-read


def test_using_is_scoped():
    outside = config.settings()
    inner = outside.replace(memory_limit="321MB")
    with config.using(inner):
        assert config.settings() is inner
        with config.using(inner.replace(threads=1)):
            assert config.settings().threads == 1
        assert config.settings() is inner
    assert config.settings() is outside


def _modules():
    for path in sorted(SRC.rglob("*.py")):
        yield path.relative_to(SRC).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def _touches_environment(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv"):
            return True
        if isinstance(node, ast.Name) and node.id in ("environ", "getenv"):
            return True
    return False


def _variable_names(tree: ast.AST) -> set[str]:
    """String constants that are exactly a DLVSTATS_* variable's name (a key, not a sentence of help)."""
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and node.value.startswith("DLVSTATS_") and node.value.replace("_", "").isalnum()
            and node.value.upper() == node.value}


def test_only_config_reads_or_writes_dlvstats_variables():
    offenders = {name for name, tree in _modules()
                 if name != "config.py" and _touches_environment(tree) and _variable_names(tree)}
    assert {"config.py"} <= {name for name, tree in _modules() if _variable_names(tree)}  # the check can see
    assert offenders - OWNED_ELSEWHERE == set(), f"DLVSTATS_* read or written outside config.py: {offenders}"


def test_no_module_writes_the_environment_for_dlvstats():
    """``os.environ[...] = ...``, ``.update``, ``.setdefault``, ``putenv`` with a DLVSTATS_* name."""
    found = set()
    for name, tree in _modules():
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                if (isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant)
                        and str(target.slice.value).startswith("DLVSTATS_")):
                    found.add(name)
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("setdefault", "putenv") and node.args
                    and isinstance(node.args[0], ast.Constant) and str(node.args[0].value).startswith("DLVSTATS_")):
                found.add(name)
    assert found - OWNED_ELSEWHERE == set(), f"DLVSTATS_* written into the environment: {found}"


def test_using_reaches_the_threads_a_command_starts():
    """The report computes its summary in a thread beside the notebooks: it must see the run's settings."""
    import threading

    seen = []
    with config.using(config.settings().replace(memory_limit="77MB")):
        worker = threading.Thread(target=lambda: seen.append(config.settings().memory_limit))
        worker.start()
        worker.join()
    assert seen == ["77MB"]
