"""CLI friction: bad dates and unknown accounts are usage errors (exit 2) saying what to do (checked
in-process with click's runner); the report with an unknown account and -q's silence of INFO lines
through the console script as a user types it."""

from __future__ import annotations

import subprocess

import pytest
from click.testing import CliRunner

from dlvstats.cli import app
from test_report import DLVSTATS, build_tiny_db, probe_notebooks


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory):
    return build_tiny_db(tmp_path_factory.mktemp("cli-tiny"))


def dlvstats(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([DLVSTATS, *args], capture_output=True, text=True, timeout=300, check=False)


def in_process(*args: str):
    return CliRunner().invoke(app, list(args), prog_name="dlvstats")


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", "2026-1-1"])
def test_a_bad_date_is_a_usage_error(tiny_db, bad):
    done = in_process("metrics", "hidden-images", "--db", str(tiny_db), "--from", bad, "--to", "2026-11-01")
    assert done.exit_code == 2
    assert "YYYY-MM-DD" in done.stderr and repr(bad) in done.stderr
    assert "Traceback" not in done.stderr and "ValueError" not in done.stderr


def test_from_after_to_is_a_usage_error(tiny_db):
    done = in_process("metrics", "hidden-images", "--db", str(tiny_db), "--from", "2026-11-01", "--to", "2026-10-01")
    assert done.exit_code == 2 and "must come before" in done.stderr


def test_an_unknown_account_names_the_accounts_there_are(tiny_db):
    done = in_process("metrics", "hidden-images", "--db", str(tiny_db), "--from", "2026-10-01", "--to",
                      "2026-11-01", "--account", "acmee")
    assert done.exit_code == 2, done.stderr
    assert "'acmee'" in done.stderr and "acme" in done.stderr.split("accounts there:")[1]
    assert "(no rows)" not in done.stdout


def test_report_with_an_unknown_account_is_a_usage_error(tiny_db, tmp_path):
    done = dlvstats("report", "--db", str(tiny_db), "--out", str(tmp_path / "out"), "--month", "2026-10",
                    "--account", "nobody")
    assert done.returncode == 2 and "accounts there:" in done.stderr and "acme" in done.stderr
    assert not (tmp_path / "out" / "accounts" / "nobody" / "2026-10" / "index.html").exists()


def test_quiet_silences_info_lines(tiny_db, tmp_path):
    """The report (papermill logs at INFO) run twice over small probe notebooks: default, then -q."""
    notebooks = probe_notebooks(tmp_path / "nb", overview=False)

    def render(*flags: str, out: str) -> subprocess.CompletedProcess:
        return dlvstats(*flags, "report", "--db", str(tiny_db), "--out", str(tmp_path / out), "--month", "2026-10",
                        "--notebooks", str(notebooks), "--jobs", "1")

    loud, quiet = render(out="loud"), render("-q", out="quiet")
    assert loud.returncode == 0 and quiet.returncode == 0, quiet.stderr
    assert " INFO " in loud.stderr  # so that the check below can fail
    assert " INFO " not in quiet.stderr
    assert (tmp_path / "quiet" / "2026-10" / "index.html").exists()
