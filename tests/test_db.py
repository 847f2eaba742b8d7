"""Database plumbing: schema version, migration refusal, named SQL parameters, lock retry."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb
import pytest

from dlvstats import db


def test_schema_version_recorded_and_newer_file_refused(tmp_path):
    path = tmp_path / "x.duckdb"
    con = db.connect(path)
    assert db.migrate(con) == db.SCHEMA_VERSION
    assert db.schema_version(con) == db.SCHEMA_VERSION
    con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(db.DatabaseError, match="newer than this dlvstats"):
        db.migrate(con)
    con.close()


def test_readonly_connect_to_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(db.DatabaseError, match="dlvstats ingest"):
        db.connect(tmp_path / "nope.duckdb", read_only=True)


def test_run_passes_only_used_parameters_and_requires_missing_ones(tmp_path):
    con = db.connect(tmp_path / "x.duckdb")
    db.migrate(con)
    assert db.run(con, "relations/other_domains", top=5).fetchall() == []
    with pytest.raises(TypeError, match="top"):
        db.run(con, "relations/other_domains")


def test_lock_is_waited_for_then_reported(tmp_path):
    path = tmp_path / "locked.duckdb"
    duckdb.connect(str(path)).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('ready', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        started = time.monotonic()
        with pytest.raises(db.DatabaseBusy) as busy:
            db.connect(path, timeout_seconds=1.0)
        assert time.monotonic() - started >= 1.0
        assert str(path) in str(busy.value) and "DLVSTATS_LOCK_TIMEOUT" in str(busy.value)
    finally:
        holder.kill()
        holder.wait()
    db.connect(path, timeout_seconds=5).close()  # free again once the holder is gone


def test_cli_help_is_fast_and_teaches():
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "dlvstats.cli", "--help"], capture_output=True, text=True,
                         check=False)
    elapsed = time.monotonic() - started
    assert out.returncode == 0
    for command in ("simulate", "ingest", "info", "metrics"):
        assert command in out.stdout
    assert "make demo" in out.stdout
    # the start-up must not import the heavy stack (pandas, plotly, papermill)
    probe = subprocess.run(
        [sys.executable, "-c", (
            "import contextlib, io, sys\nfrom dlvstats.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        main(['--help'])\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in ('pandas', 'plotly', 'papermill', 'polars', 'numpy') if m in sys.modules))")],
        capture_output=True, text=True, check=False,
    )
    assert probe.stdout.strip() == "[]", probe.stdout + probe.stderr
    assert elapsed < 5


def test_memory_limit_option_reaches_duckdb(tmp_path, monkeypatch, capsys):
    """--memory-limit reaches every connection the command opens, through the run's Settings: the
    environment is not written (no data between modules through it)."""
    import os

    import duckdb
    import pytest as _pytest

    from dlvstats import cli
    from dlvstats import db as dbmod

    path = tmp_path / "m.duckdb"
    con = dbmod.connect(path)
    dbmod.migrate(con)
    con.close()
    limits = []
    real_connect = duckdb.connect

    def spy(*args, **kwargs):
        opened = real_connect(*args, **kwargs)
        limits.append(opened.execute("SELECT current_setting('memory_limit')").fetchone()[0])
        return opened

    monkeypatch.setattr(dbmod.duckdb, "connect", spy)
    before = os.environ.get("DLVSTATS_MEMORY_LIMIT")
    assert cli.main(["info", "--db", str(path), "--memory-limit", "123MB"]) == 0
    assert limits and all(s.startswith("117") and "MiB" in s for s in limits), limits  # 123 MB = 117.3 MiB
    assert os.environ.get("DLVSTATS_MEMORY_LIMIT") == before
    limits.clear()
    assert cli.main(["info", "--db", str(path)]) == 0  # the next run has its own settings again
    assert limits and not any(s.startswith("117") for s in limits), limits
    with _pytest.raises(SystemExit) as exit_info:
        cli.main(["info", "--db", str(path), "--memory-limit", "lots"])
    assert exit_info.value.code == 2
    assert "give a size such as 2GB" in capsys.readouterr().err
