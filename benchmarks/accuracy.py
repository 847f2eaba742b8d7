"""Accuracy and interval coverage of every estimator in every simulated world.

    python benchmarks/accuracy.py --worlds all --seeds 10 --scale 0.25 --out docs/accuracy.md --jobs 2
    python benchmarks/accuracy.py --worlds realistic,scanner_pools --seeds 3      # table on stdout
    python benchmarks/accuracy.py --worlds blocked_click_ratio --seeds 10 --first-seed 101  # seeds 101..110
    python benchmarks/accuracy.py --db data/dlvstats.duckdb --truth data/demo/truth.json   # one database

For each world x seed: simulate (--scale x 20,000 contacts, --months months; cached under
--cache-dir by world, seed, scale and the simulator's code), ingest into a real DuckDB file
(classification included), run hidden-images, engagement-by-age, the classification scores and the
gift campaigns, and compare with the truth. With --db and --truth: the same scores for one database
already ingested from a simulation (the demo's), no simulation run. Writes the markdown report (see dlvstats.accuracy) to
--out, or stdout; with --cells also every cell as CSV. Progress lines on stderr. Exit 0; the count of
"wrong while ok" cells is the last stderr line (the CI check is tests/test_accuracy.py).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path

from dlvstats.accuracy import compare, markdown, runner

ROOT = Path(__file__).resolve().parent.parent


def _seeds(text: str) -> list[int]:
    """'10' = seeds 1..10; '3,7,9' = those seeds."""
    if "," in text:
        return [int(s) for s in text.split(",") if s.strip()]
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError("--seeds needs at least 1")
    return list(range(1, n + 1))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worlds", default="all", help="'all' or a comma list (default, scanner_pools, "
                        "realistic, ...; see `dlvstats simulate --list-worlds`)")
    parser.add_argument("--seeds", type=_seeds, default=_seeds("3"), help="N (seeds 1..N) or a comma list")
    parser.add_argument("--first-seed", type=int, default=1,
                        help="shift the seeds by FIRST-1: --seeds 10 --first-seed 101 = seeds 101..110 (develop on seeds "
                        "the report does not use)")
    parser.add_argument("--scale", type=float, default=0.25, help="contacts = scale x 20,000 (default 0.25)")
    parser.add_argument("--months", type=int, default=6, help="simulated months (default 6)")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel (processes)")
    parser.add_argument("--out", type=Path, help="markdown file to write (default: stdout)")
    parser.add_argument("--cells", type=Path, help="also write every scored cell to this CSV")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "data" / "accuracy-cache",
                        help="simulated drops kept here between runs (default data/accuracy-cache)")
    parser.add_argument("--note", default="", help="a sentence for the report's header")
    parser.add_argument("--db", type=Path, help="score this ingested simulated database instead of a sweep")
    parser.add_argument("--truth", type=Path, help="with --db: its truth.json (truth_machine_events.csv.gz beside it)")
    args = parser.parse_args(argv)
    if (args.db is None) != (args.truth is None):
        parser.error("--db and --truth go together: the database and the truth.json of the simulation it holds")
    if args.db:
        return _one_database(args, argv)
    if args.first_seed != 1:
        args.seeds = [s + args.first_seed - 1 for s in args.seeds]
    try:
        worlds = runner.parse_worlds(args.worlds)
    except ValueError as exc:
        parser.error(str(exc))
    contacts = round(args.scale * runner.CONTACTS_AT_SCALE_1)
    started = time.monotonic()

    def progress(done, total, line):
        print(f"[{time.monotonic() - started:7.1f}s] {done}/{total} {line}", file=sys.stderr, flush=True)

    print(f"accuracy: {len(worlds)} worlds x {len(args.seeds)} seeds, {contacts:,} contacts x {args.months} "
          f"months, {args.jobs} job(s)", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="dlvstats-accuracy-") as work:
        cells = runner.sweep(worlds, args.seeds, contacts=contacts, months=args.months, cache_dir=args.cache_dir,
                             work_dir=Path(work), jobs=args.jobs, progress=progress)
    scored = compare.score(cells)
    command = "python benchmarks/accuracy.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    note = (f"{contacts:,} contacts x {args.months} months per run, seeds {args.seeds[0]}..{args.seeds[-1]} "
            f"({len(args.seeds)}); {time.monotonic() - started:.0f} s wall. {args.note}").strip()
    text = markdown.render(scored, command, note)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if args.cells:
        scored.to_csv(args.cells, index=False)
    print(f"wrong while ok: {int(scored['wrong_while_ok'].sum())} cells", file=sys.stderr)
    return 0


def _one_database(args, argv) -> int:
    import json

    from dlvstats.accuracy.estimates import estimate_cells

    truth = json.loads(args.truth.read_text(encoding="utf-8"))
    cells = estimate_cells(args.db, truth, args.truth.parent / "truth_machine_events.csv.gz")
    cells.insert(0, "seed", truth["seed"])
    cells.insert(0, "world", (truth.get("world") or {}).get("spec", runner.DEFAULT_WORLD))
    scored = compare.score(cells)
    command = "python benchmarks/accuracy.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    text = markdown.render(scored, command, f"one database: {args.db} (seed {truth['seed']}). {args.note}".strip())
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if args.cells:
        scored.to_csv(args.cells, index=False)
    print(f"wrong while ok: {int(scored['wrong_while_ok'].sum())} cells", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
