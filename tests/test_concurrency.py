"""Concurrency, with real processes.

DuckDB lets one process write or several read. A reader (a notebook kernel, a metric) holding the
file makes a writer wait: ``dlvstats.db.connect`` retries with backoff for DLVSTATS_LOCK_TIMEOUT
seconds (default 60), then fails naming the file and the process holding it. Metrics hold their
read-only connection only while they run, so an ingest and a loop of metrics interleave: each
metric call sees the database before or after an ingest, never half of one, and never crashes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from tests.helpers import write_drop

from dlvstats.ingest import ingest_paths

pytestmark = pytest.mark.slow

#: concurrent runs tried, for the note
RUNS: list[str] = []


def drop(directory: Path, start: int, n: int) -> Path:
    sends = [[f"m{i}", f"2026-10-{1 + i % 28:02d}T10:00:00Z", "acc", "l1", f"c{i % 4}", f"u{i % 500}@gmail.com",
              "delivered"] for i in range(start, start + n)]
    opens = [[f"m{i}", f"2026-10-{1 + i % 28:02d}T11:00:00Z", "Mozilla/5.0 (Windows NT 10.0)"]
             for i in range(start, start + n, 2)]
    clicks = [[f"m{i}", f"2026-10-{1 + i % 28:02d}T11:05:00Z", "https://x.example/p", "Mozilla/5.0 (Windows NT 10.0)"]
              for i in range(start, start + n, 5)]
    return write_drop(directory, {
        "sends": (["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status"], sends),
        "opens": (["message_id", "ts", "user_agent"], opens),
        "clicks": (["message_id", "ts", "url", "user_agent"], clicks),
    })


def env(**extra) -> dict:
    e = {k: v for k, v in os.environ.items() if not k.startswith("DLVSTATS_TEST_PAUSE")}
    e.update({k: str(v) for k, v in extra.items()})
    return e


def ingest_cmd(db: Path, path: Path) -> list[str]:
    return [sys.executable, "-m", "dlvstats.cli", "ingest", "-q", str(path), "--db", str(db)]


def hold_reader(db: Path, seconds: float) -> subprocess.Popen:
    """A process that opens the database read-only (like a notebook kernel) and keeps it open."""
    code = textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(db)!r}, read_only=True)
        con.execute("SELECT count(*) FROM sends").fetchone()
        print("holding", flush=True)
        time.sleep({seconds})
        con.close()
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    return proc


def count(db: Path, table: str = "sends") -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "db.duckdb"
    ingest_paths(path, [drop(tmp_path / "base", 0, 2000)])
    return path


def test_ingest_waits_for_a_reader_then_succeeds(db, tmp_path):
    reader = hold_reader(db, 4)
    started = time.monotonic()
    done = subprocess.run(ingest_cmd(db, drop(tmp_path / "new", 2000, 500)), env=env(DLVSTATS_LOCK_TIMEOUT=60),
                          capture_output=True, text=True, check=False)
    waited = time.monotonic() - started
    reader.wait()
    RUNS.append("ingest vs reader holding 4 s")
    assert done.returncode == 0, done.stderr
    assert "is locked; retrying" in done.stderr  # it did meet the lock, and waited rather than failing
    assert waited >= 3
    assert count(db) == 2500


def test_ingest_gives_up_after_the_timeout_naming_file_and_holder(db, tmp_path):
    reader = hold_reader(db, 30)
    try:
        started = time.monotonic()
        done = subprocess.run(ingest_cmd(db, drop(tmp_path / "new", 2000, 500)), env=env(DLVSTATS_LOCK_TIMEOUT=2),
                              capture_output=True, text=True, check=False)
        elapsed = time.monotonic() - started
    finally:
        reader.kill()
        reader.wait()
    RUNS.append("ingest vs reader holding 30 s, timeout 2 s")
    assert done.returncode == 4, done.stderr  # EXIT_BUSY
    assert str(db) in done.stderr and f"process {reader.pid} holds the database lock" in done.stderr
    assert "DLVSTATS_LOCK_TIMEOUT" in done.stderr
    assert elapsed < 20
    assert count(db) == 2000


def test_two_ingests_at_once_both_land(db, tmp_path):
    first = subprocess.Popen(ingest_cmd(db, drop(tmp_path / "a", 2000, 1000)),
                             env=env(DLVSTATS_TEST_PAUSE_AT="merged", DLVSTATS_TEST_PAUSE_SECONDS=2),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in first.stderr:
        if line.startswith("DLVSTATS-PAUSED-AT merged"):
            break
    second = subprocess.run(ingest_cmd(db, drop(tmp_path / "b", 3000, 1000)), env=env(), capture_output=True, text=True, check=False)
    first.stderr.read()
    assert first.wait() == 0
    RUNS.append("two ingests at once")
    assert second.returncode == 0, second.stderr
    assert "is locked; retrying" in second.stderr
    assert count(db) == 4000


READER_LOOP = textwrap.dedent("""
    import json, os, sys, time, traceback
    from dlvstats import metrics
    from dlvstats.metrics.common import readonly

    db, stop = sys.argv[1], sys.argv[2]
    names = ["hidden-images", "engagement-by-age", "sender-health"]
    usable = []
    for name in names:  # metrics that work on this database without any concurrent ingest
        try:
            metrics.get(name)(db, "2026-09-01", "2026-11-01")
            usable.append(name)
        except Exception as exc:
            print("baseline-failed", name, type(exc).__name__, exc, file=sys.stderr)
    print("ready", flush=True)
    seen, calls, errors = [], 0, []
    i = 0
    while not os.path.exists(stop):
        try:
            with readonly(db) as con:  # a plain read, held only for the query
                seen.append(con.execute("SELECT count(*) FROM sends").fetchone()[0])
            print("seen", seen[-1], flush=True)  # the driver waits for these, not for the clock
            if usable:  # and one metric per round, in turn
                metrics.get(usable[i % len(usable)])(db, "2026-09-01", "2026-11-01")
                calls += 1
            i += 1
        except Exception:
            errors.append(traceback.format_exc())
    print(json.dumps({"seen": seen, "metric_calls": calls, "usable": usable, "errors": errors}))
""")


def test_metrics_in_a_loop_while_ingests_run(db, tmp_path, capsys):
    """Reads and metric calls loop in one process while three ingests land in others. Each ingest
    starts only once the reader has read the previous total (its 'seen N' lines), so the reads
    interleave with the ingests by construction, however loaded the machine; every read sees a
    whole ingest or none of it."""
    import json
    import queue
    import threading

    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER_LOOP, str(db), str(stop)], env=env(DLVSTATS_LOCK_TIMEOUT=60),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "ready"
    lines: queue.Queue[str] = queue.Queue()
    pump = threading.Thread(target=lambda: [lines.put(line) for line in reader.stdout], daemon=True)
    pump.start()

    def wait_until_read(total: int) -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                assert reader.poll() is None, f"the reader loop died: {reader.stderr.read()[-2000:]}"
                continue
            if line.split() == ["seen", str(total)]:
                return
            final_lines.append(line)
        raise AssertionError(f"the reader never saw {total} sends within 300 s")

    final_lines: list[str] = []
    expected = {2000}
    total = 2000
    wait_until_read(total)
    for k in range(3):  # three ingests while the metrics loop runs; each holds the lock >= 1.5 s
        path = drop(tmp_path / f"d{k}", 10_000 + k * 1000, 1000)
        done = subprocess.run(ingest_cmd(db, path),
                              env=env(DLVSTATS_TEST_PAUSE_AT="merged", DLVSTATS_TEST_PAUSE_SECONDS=1.5,
                                      DLVSTATS_LOCK_TIMEOUT=60),
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        total += 1000
        expected.add(total)
        RUNS.append(f"ingest {k + 1} while metrics loop")
        wait_until_read(total)  # the loop read this ingest's result before the next one starts
    stop.touch()
    assert reader.wait(timeout=300) == 0, reader.stderr.read()[-2000:]
    pump.join(timeout=120)  # the pump reads to the end of the reader's output
    assert not pump.is_alive()
    while not lines.empty():
        final_lines.append(lines.get())
    result = json.loads([line for line in final_lines if line.startswith("{")][-1])
    assert result["errors"] == [], result["errors"][0]
    assert set(result["seen"]) <= expected  # every read saw a whole ingest or none of it
    assert set(result["seen"]) == expected  # and each ingest's total was read (the loop interleaved)
    with capsys.disabled():
        print(
        f"\n[concurrency] metrics loop: {len(result['seen'])} reads, {result['metric_calls']} metric calls "
        f"({', '.join(result['usable']) or 'no metric usable on this data'}), counts seen {sorted(set(result['seen']))}; "
        f"concurrent runs so far: {len(RUNS)}"
        )
