"""Crash safety: a ``dlvstats ingest`` killed with SIGKILL at any point leaves a
database that opens and holds exactly the data from before that ingest; rerunning the ingest then
completes it.

Real processes, real SIGKILLs, at two kinds of points:
- named stages, precisely: ``DLVSTATS_TEST_PAUSE_AT=<stage>`` makes the ingest announce the stage
  and sleep there (staged, converted, merged, committing = just before COMMIT; committed = after
  COMMIT, before the connection is closed and checkpointed);
- moments spread over the whole run (fractions of a measured uninterrupted run), which also land
  inside DuckDB's own work: reading, merging, the commit and the checkpoint.
After each kill the database must open and equal, table by table (content hash), either the
state before the ingest or, for a kill after the commit, the state a complete ingest gives. Then
the ingest is run again and must give the complete state.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from dlvstats.ingest import ingest_paths

pytestmark = pytest.mark.slow

N_BASE = 20_000
N_NEW = 30_000
STAGES = ["staged", "converted", "merged", "committing"]
FRACTIONS = [0.2, 0.4, 0.6, 0.8, 0.9, 0.97]

#: kill points tried, for the note
TRIED: list[str] = []


def make_drops(root: Path) -> tuple[Path, Path]:
    """Drop A (base, with deferred sends) and drop B (new sends, A's deferred ones settled, events)."""
    a, b = root / "a", root / "b"
    a.mkdir()
    b.mkdir()
    con = duckdb.connect()
    send_cols = (
        "'m' || i AS message_id, TIMESTAMP '2026-09-01' + to_seconds(i * 7) AS sent_at, 'acc' || (i % 5) AS account_id, "
        "'list' || (i % 3) AS list_id, 'camp' || (i % 50) AS campaign_id, "
        "'user' || (i % 40000) || '@' || (['gmail.com','orange.fr','yahoo.fr','hotmail.com','corp.example'])[1 + i % 5] AS recipient"
    )
    con.execute(
        f"COPY (SELECT {send_cols}, CASE WHEN i % 10 = 0 THEN 'deferred' ELSE 'delivered' END AS status "
        f"FROM range({N_BASE}) t(i)) TO $p (HEADER)", {"p": str(a / "sends.csv")})
    con.execute(
        "COPY (SELECT 'm' || i AS message_id, TIMESTAMP '2026-09-01' + to_seconds(i * 7 + 60) AS ts, "
        "'Mozilla/5.0 (X11)' AS user_agent, '198.51.100.' || (i % 200) AS ip FROM range(0, " + str(N_BASE) + ", 2) t(i)) "
        "TO $p (HEADER)", {"p": str(a / "opens.csv")})
    con.execute(
        f"COPY (SELECT {send_cols}, 'delivered' AS status FROM "
        f"(SELECT i FROM range(0, {N_BASE}, 10) t(i) UNION ALL SELECT i FROM range({N_BASE}, {N_BASE + N_NEW}) t(i))) "
        f"TO $p (HEADER)", {"p": str(b / "sends.csv")})
    con.execute(
        "COPY (SELECT 'm' || i AS message_id, TIMESTAMP '2026-09-01' + to_seconds(i * 7 + 90) AS ts, "
        "CASE WHEN i % 3 = 0 THEN 'Mozilla/5.0' ELSE 'Mozilla/5.0 (Windows NT 10.0)' END AS user_agent, "
        f"'203.0.113.' || (i % 200) AS ip FROM range({N_BASE}, {N_BASE + N_NEW}) t(i)) TO $p (HEADER)",
        {"p": str(b / "opens.csv")})
    con.execute(
        "COPY (SELECT 'm' || i AS message_id, TIMESTAMP '2026-09-01' + to_seconds(i * 7 + 300) AS ts, "
        "'https://shop.example/p/' || (i % 97) AS url, 'Mozilla/5.0 (Windows NT 10.0)' AS user_agent "
        f"FROM range({N_BASE}, {N_BASE + N_NEW}, 2) t(i)) TO $p (HEADER)", {"p": str(b / "clicks.csv")})
    con.execute(
        "COPY (SELECT TIMESTAMP '2026-09-01' + to_seconds(i * 11) AS ts, 'acc' || (i % 5) AS account_id, "
        "'list' || (i % 3) AS list_id, 'user' || (i % 40000) || '@gmail.com' AS recipient, 'unsubscribe' AS action, "
        f"'link' AS source FROM range(0, {N_NEW}, 20) t(i)) TO $p (HEADER)", {"p": str(b / "subscriptions.csv")})
    con.close()
    return a, b


def state(db: Path) -> dict:
    """Open the database (replaying its WAL if any) and hash every table's content."""
    con = duckdb.connect(str(db))
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]
        out = {}
        for t in tables:
            source = "(SELECT * EXCLUDE (loaded_at) FROM drops)" if t == "drops" else t
            out[t] = con.execute(f"SELECT count(*), sum(hash(x)) FROM {source} x").fetchone()
        return out
    finally:
        con.close()


def ingest_cmd(db: Path, drop: Path) -> list[str]:
    return [sys.executable, "-m", "dlvstats.cli", "-q", "ingest", str(drop), "--db", str(db)]


def env(**extra) -> dict:
    e = dict(os.environ)
    e.pop("DLVSTATS_TEST_PAUSE_AT", None)
    e.update(extra)
    return e


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("crash")
    a, b = make_drops(root)
    base = root / "base.duckdb"
    ingest_paths(base, [a])
    full = root / "full.duckdb"
    shutil.copy(base, full)
    started = time.monotonic()
    done = subprocess.run(ingest_cmd(full, b), env=env(), capture_output=True, text=True, check=False)
    duration = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    before, after = state(base), state(full)
    assert before != after and after["sends"][0] == N_BASE + N_NEW
    return root, base, b, before, after, duration


def rerun_completes(db: Path, drop: Path, expected: dict) -> None:
    done = subprocess.run(ingest_cmd(db, drop), env=env(), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert state(db) == expected


@pytest.mark.parametrize("stage", STAGES + ["committed"])
def test_sigkill_at_each_stage(setup, stage):
    root, base, drop, before, after, _ = setup
    db = root / f"kill_{stage}.duckdb"
    shutil.copy(base, db)
    proc = subprocess.Popen(ingest_cmd(db, drop), env=env(DLVSTATS_TEST_PAUSE_AT=stage),
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        for line in proc.stderr:
            if line.startswith(f"DLVSTATS-PAUSED-AT {stage}"):
                break
        else:
            pytest.fail(f"the ingest ended without reaching stage {stage} (exit {proc.wait()})")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    TRIED.append(f"stage:{stage}")
    # before the commit: exactly the old data; after it: exactly the complete load
    assert state(db) == (after if stage == "committed" else before)
    if stage != "committed":
        rerun_completes(db, drop, after)


def test_sigkill_at_moments_spread_over_the_run(setup, capsys):
    root, base, drop, before, after, duration = setup
    outcomes = []
    for fraction in FRACTIONS:
        db = root / f"kill_{fraction}.duckdb"
        shutil.copy(base, db)
        proc = subprocess.Popen(ingest_cmd(db, drop), env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(duration * fraction)
        killed = proc.poll() is None
        if killed:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        TRIED.append(f"t={duration * fraction:.2f}s")
        got = state(db)
        assert got in (before, after), f"kill at {fraction:.0%} of {duration:.1f} s left a partial database"
        outcomes.append("before" if got == before else "after")
        if got == before and outcomes.count("before") == 1:  # (the stage test reruns after every kill)
            rerun_completes(db, drop, after)
    with capsys.disabled():
        print(
        f"\n[crash] full ingest {duration:.1f} s; kills at {', '.join(f'{f:.0%}' for f in FRACTIONS)} -> "
        f"{outcomes}; kill points tried so far: {len(TRIED)} ({', '.join(TRIED)})"
        )
    assert "before" in outcomes  # at least some kills landed inside the ingest
