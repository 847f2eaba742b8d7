"""Big files: one large canonical CSV streamed through `dlvstats ingest`, with its peak memory.

    python benchmarks/bench_bigfile.py --gb 5 [--memory-limit 1GB] [--encoding utf-8|cp1252] [--dir DIR] [--keep]

Writes one `sends.csv` of about --gb gigabytes (DuckDB COPY, streaming), then runs
`dlvstats ingest` on it in a child process with DLVSTATS_MEMORY_LIMIT set, and prints the file
size, rows, wall seconds, rows/s and the child's peak RSS (resource.getrusage(RUSAGE_CHILDREN):
this script's only child is the ingest). DuckDB keeps its working set within the memory limit and
spills the rest to `<db>.tmp`; nothing in dlvstats reads a file into Python memory (a file in an
encoding DuckDB does not read natively is transcoded in 1 MiB chunks: `--encoding cp1252` measures
that path). The test suite (tests/test_bigfile.py) checks the same bound on a smaller file.
Not part of the test suite itself.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: bytes per generated row, measured (used to size the file)
BYTES_PER_ROW = 113
#: The bound checked: peak RSS <= LIMIT_FACTOR x memory limit + OVERHEAD_MB. DuckDB's memory_limit
#: governs its buffer pool, not every allocation (the CSV reader's and the interpreter's own memory,
#: some operator state), and what lies outside it grows a little with the data: measured 90 MB
#: over a 200 MB limit on a 40 MB file, 530 MB over a 1 GB limit on a 5 GB file. A fixed
#: "limit + 400 MB" was exceeded at 5 GB (1,556 MiB against 1,424), hence this form.
LIMIT_FACTOR = 1.5
OVERHEAD_MB = 150


def bound_bytes(memory_limit: str) -> int:
    return int(LIMIT_FACTOR * parse_size(memory_limit)) + OVERHEAD_MB * (1 << 20)


def parse_size(text: str) -> int:
    """'1GB', '512MB', '256MiB' -> bytes."""
    text = text.strip().upper().replace("IB", "B")
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)):
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(text)


def write_big_csv(path: Path, size_bytes: int, encoding: str = "utf-8") -> int:
    """A canonical sends.csv of about ``size_bytes``; returns the number of rows. Streams (DuckDB COPY)."""
    import duckdb

    rows = max(1, size_bytes // BYTES_PER_ROW)
    path.parent.mkdir(parents=True, exist_ok=True)
    target = path if encoding == "utf-8" else path.with_suffix(".utf8.tmp")
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute(
        "COPY (SELECT 'msg-' || i AS message_id, "
        "TIMESTAMP '2026-01-01' + to_seconds(i % 31536000) AS sent_at, "
        "'account-' || (i % 17) AS account_id, 'list-' || (i % 23) AS list_id, 'campaign-' || (i % 997) AS campaign_id, "
        "'recipient' || (i % 5000000) || '@' || (['gmail.com','orange.fr','yahoo.fr','hotmail.com','free.fr','b2b.example'])[1 + i % 6] AS recipient, "
        "CASE WHEN i % 40 = 0 THEN 'bounced' ELSE 'delivered' END AS status, "
        "CASE WHEN i % 40 = 0 THEN 'hard' END AS bounce_class, "
        "CASE WHEN i % 40 = 0 THEN 'Boîte inconnue – 550 5.1.1' END AS bounce_reason, "
        "'192.0.2.' || (i % 8) AS sending_ip "
        "FROM range($n) t(i)) TO $p (HEADER)",
        {"n": rows, "p": str(target)},
    )
    con.close()
    if target != path:  # re-encode, streaming, for the transcoding path
        with open(target, "rb") as src, open(path, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk.decode("utf-8").encode(encoding))
        target.unlink()
    return rows


def _dir_size(path: Path) -> int:
    try:
        return sum(f.stat().st_size for f in path.iterdir() if f.is_file())
    except OSError:
        return 0


def run_ingest(drop: Path, db: Path, memory_limit: str, extra: list[str] | None = None,
               max_spill_bytes: int | None = None) -> dict:
    """Run `dlvstats ingest` as this process's child: wall seconds, the child's peak RSS, and the
    peak size of DuckDB's spill directory (`<db>.tmp`, polled every second). With
    ``max_spill_bytes`` the ingest is stopped when the spill grows past it (to protect the disk)."""
    env = dict(os.environ, DLVSTATS_MEMORY_LIMIT=memory_limit)
    env.pop("DLVSTATS_TEST_PAUSE_AT", None)
    cmd = [sys.executable, "-m", "dlvstats.cli", "-q", "ingest", str(drop), "--db", str(db), *(extra or [])]
    spill_dir = Path(str(db) + ".tmp")
    started = time.monotonic()
    peak_spill = 0
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True)
        while proc.poll() is None:
            peak_spill = max(peak_spill, _dir_size(spill_dir))
            if max_spill_bytes and peak_spill > max_spill_bytes:
                proc.kill()
                proc.wait()
                raise RuntimeError(f"stopped: the spill directory passed {max_spill_bytes / 1e9:.0f} GB")
            time.sleep(1)
        wall = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"ingest failed ({proc.returncode}): {stderr[-2000:]}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    return {"seconds": wall, "peak_rss_bytes": peak_kb * 1024, "peak_spill_bytes": peak_spill, "stdout": stdout}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=5.0, help="size of the generated CSV in GB (default 5)")
    parser.add_argument("--memory-limit", default="1GB", help="DLVSTATS_MEMORY_LIMIT for the ingest (default 1GB)")
    parser.add_argument("--encoding", default="utf-8", choices=["utf-8", "cp1252"],
                        help="encoding of the generated file (cp1252 measures the streaming transcoder)")
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the file and the database")
    parser.add_argument("--max-spill-gb", type=float, default=None,
                        help="stop the ingest if DuckDB's spill directory grows past this (protects the disk)")
    args = parser.parse_args(argv)

    work = args.dir or Path(tempfile.mkdtemp(prefix="dlvstats-bench-bigfile-"))
    drop = work / "drop"
    csv_path = drop / "sends.csv"
    try:
        t0 = time.monotonic()
        rows = write_big_csv(csv_path, int(args.gb * 1e9), args.encoding)
        size = csv_path.stat().st_size
        print(f"generated {csv_path} ({size / 1e9:.2f} GB, {rows:,} rows, {args.encoding}) in {time.monotonic() - t0:.0f} s")
        extra = ["--encoding", "cp1252"] if args.encoding != "utf-8" else []
        max_spill = int(args.max_spill_gb * 1e9) if args.max_spill_gb else None
        result = run_ingest(drop, work / "big.duckdb", args.memory_limit, extra, max_spill)
        bound = bound_bytes(args.memory_limit)
        peak = result["peak_rss_bytes"]
        print(f"ingest: {result['seconds']:.1f} s, {rows / result['seconds']:,.0f} rows/s; peak spill to disk "
              f"{result['peak_spill_bytes'] / 1e9:.1f} GB")
        print(f"peak RSS of the ingest: {peak / (1 << 20):,.0f} MiB (file {size / (1 << 20):,.0f} MiB; "
              f"DLVSTATS_MEMORY_LIMIT={args.memory_limit}; bound {bound / (1 << 20):,.0f} MiB: "
              f"{'within' if peak <= bound else 'OVER'})")
        return 0 if peak <= bound else 1
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
