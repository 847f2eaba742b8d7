"""Simulator throughput: sends per second and peak memory for a drop of a given size.

    python benchmarks/bench_simulate.py --sends 1M [--format csv] [--repeat 3] [--out DIR] [--keep]

The number of contacts is chosen so that the run makes about --sends messages over --months
(the default ESP sends ~5 messages a month per contact). Wall time covers the whole call
(simulation, writing every file, truth); the first run of a process also pays one-off imports,
so with --repeat the median of the runs is reported as well. Peak RSS is the process's maximum
resident set (resource.getrusage). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from dlvstats.simulate import FORMATS, simulate

SENDS_PER_CONTACT_MONTH = 4.97  # measured at the default size: 1.19M sends from 20,000 contacts in 12 months


def parse_count(text: str) -> int:
    """'1M' -> 1_000_000, '250k' -> 250_000, '10000' -> 10_000."""
    text = text.strip().lower().replace("_", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if factor > 1 else text) * factor)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", default="1M", help="target number of sends (1M, 10M, 250k; default 1M)")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--format", dest="fmt", choices=FORMATS, default="csv")
    parser.add_argument("--repeat", type=int, default=1, help="runs (default 1); the median is reported too")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="output directory (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the output (default: delete it)")
    args = parser.parse_args(argv)

    target = parse_count(args.sends)
    contacts = max(100, round(target / (SENDS_PER_CONTACT_MONTH * args.months)))
    base = args.out or Path(tempfile.mkdtemp(prefix="dlvstats-bench-sim-"))
    print(f"simulate: target {target:,} sends -> {contacts:,} contacts x {args.months} months, format {args.fmt}")
    walls = []
    truth = {}
    for i in range(args.repeat):
        out = base / f"run{i}"
        started = time.perf_counter()
        cpu0 = time.process_time()
        truth = simulate(out, seed=args.seed, contacts=contacts, months=args.months, fmt=args.fmt)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu0
        walls.append(wall)
        sends = truth["rows"]["sends"]
        rows = sum(truth["rows"].values())
        size = sum(f.stat().st_size for f in (out / "drops").rglob("*") if f.is_file())
        print(f"  run {i + 1}: {sends:,} send rows ({rows:,} rows in all kinds, {size / 1e6:,.0f} MB) in "
              f"{wall:.2f} s wall, {cpu:.2f} s CPU -> {sends / wall:,.0f} sends/s, {rows / wall:,.0f} rows/s")
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    sends = truth["rows"]["sends"]
    median = statistics.median(walls)
    print(f"simulate {args.fmt}: {sends:,} sends, median {median:.2f} s -> {sends / median:,.0f} sends/s; "
          f"peak RSS {peak_mb:,.0f} MB")
    if not args.keep and args.out is None:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
