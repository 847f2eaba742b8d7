"""Human/machine classification precision and recall in each simulated world, against its truth.

    python benchmarks/classification_worlds.py --contacts 4000 --months 4 [--worlds realistic,scanner_pools]

For each world (each mechanism alone at its default strength, ``realistic``, and the default world),
simulates, ingests into a real DuckDB file (the default rules label every event on ingest), and
scores opens and clicks against ``truth_machine_events.csv.gz``: machine and human precision and
recall, with the counts. Prints a Markdown table (the one in docs/classification.md). The same
scoring is asserted in tests/test_classification_worlds.py. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WORLDS = ("default", "scanner_pools", "proxy_prefetch", "mpp_variants", "device_blocking",
          "blocked_click_ratio", "plain_text", "old_lists", "thin_providers", "realistic")


def run_world(spec: str, out: Path, seed: int, contacts: int, months: int) -> Path:
    from dlvstats.ingest import ingest_paths
    from dlvstats.simulate import simulate
    from dlvstats.simulate.worlds import parse_world

    simulate(out, seed=seed, contacts=contacts, months=months, fmt="parquet",
             world=None if spec == "default" else parse_world(spec))
    db_path = out / "sim.duckdb"
    ingest_paths(db_path, sorted((out / "drops").iterdir()))
    return db_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worlds", default=",".join(WORLDS), help="';'-separated world specs")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--contacts", type=int, default=4000)
    parser.add_argument("--months", type=int, default=4)
    parser.add_argument("--keep", help="directory to keep the simulations in")
    parser.add_argument("--errors", action="store_true", help="also print the wrong labels by rule and truth")
    args = parser.parse_args()
    from tests.classification_scoring import confusion, errors, scores

    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="clf-worlds-"))
    print("| world | kind | machine P | machine R | human P | human R | machine (truth) | events |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for spec in args.worlds.split(";") if ";" in args.worlds else args.worlds.split(","):
        out = base / spec.replace(":", "_").replace(",", "+")
        db_path = run_world(spec, out, args.seed, args.contacts, args.months)
        for kind in ("opens", "clicks"):
            counts = confusion(db_path, out, kind)
            s = scores(counts)
            truly = counts.get((True, True), 0) + counts.get((True, False), 0)
            print(f"| {spec} | {kind} | {s['machine_precision']:.4f} | {s['machine_recall']:.4f} | "
                  f"{s['human_precision']:.4f} | {s['human_recall']:.4f} | {truly:,} | {sum(counts.values()):,} |",
                  flush=True)
            if args.errors:
                for row in errors(db_path, out, kind):
                    print("    ", row)


if __name__ == "__main__":
    main()
