"""Big files: ingest streams a CSV with bounded memory.

The benchmark (benchmarks/bench_bigfile.py --gb 5) measures a 5 GB file; this checks the same
bound on a ~40 MB one: the ingest child's peak RSS stays within 1.5 x DLVSTATS_MEMORY_LIMIT + 150 MB
(bench_bigfile.bound_bytes), whatever the file size (5 GB file, 1 GB limit: 1,556 MiB against a
1,686 MiB bound). Without the limit DuckDB keeps the staged data in memory (about 830 MiB for this
file, measured, against a 450 MiB bound here), and reading the file into Python would blow it too.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from dlvstats.ingest.canonical import transcode_to_utf8

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks" / "bench_bigfile.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_bigfile", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_big_csv_ingest_stays_within_the_memory_bound(tmp_path, capsys):
    done = subprocess.run(
        [sys.executable, str(BENCH), "--gb", "0.04", "--memory-limit", "200MB", "--dir", str(tmp_path)],
        capture_output=True, text=True, timeout=900, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    peak = int(re.search(r"peak RSS of the ingest: ([\d,]+) MiB", done.stdout).group(1).replace(",", ""))
    bound = load_bench().bound_bytes("200MB") / (1 << 20)
    assert peak <= bound
    with capsys.disabled():
        print(f"\n[bigfile] {done.stdout.strip()}")


def test_transcoding_streams_in_bounded_memory(tmp_path):
    """A 48 MB Windows-1252 file is transcoded with a few MB of Python memory, not its size."""
    path = tmp_path / "big.csv"
    line = "m;2026-10-01T10:00:00;acc;l;c;émile@free.fr;Noël € – ‘quoted’\r\n".encode("cp1252")
    with open(path, "wb") as handle:
        handle.writelines(line * ((1 << 20) // len(line)) for _ in range(48))
    tracemalloc.start()
    try:
        out = transcode_to_utf8(path, "cp1252", directory=str(tmp_path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * (1 << 20), f"transcoding held {peak / (1 << 20):.0f} MiB"
    with open(out, "rb") as handle:
        assert handle.read(len(line) + 10).decode("utf-8").startswith("m;2026-10-01T10:00:00;acc;l;c;émile@free.fr;Noël €")
    assert out.stat().st_size > path.stat().st_size  # accents take two or three bytes in UTF-8
