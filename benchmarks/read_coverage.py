"""Coverage of the per-age est_read_rate 95 % intervals (stratified estimator, person-level bootstrap)
over simulated worlds and seeds.

    .venv/bin/python benchmarks/read_coverage.py --world device_blocking --seeds 1-10 --contacts 6000

For each seed: simulate the world, ingest it, compute engagement_by_age over the whole simulated period
and compare each age row with the world's truth (measurable_read_rate of that age year: readers among
delivered messages without a machine open). Rows counted: not small, and whose age rests on a real
collection date for most sends (age_is_lower_bound_share <= 0.5: otherwise the row's age is not the
truth's age). Also per provider (hidden_images, providers with an estimate): est_read_rate against the
truth's measurable_read_rate. Prints one line per seed and the pooled coverage; exit 0 always (a measurement).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from dlvstats.ingest import ingest_paths
from dlvstats.metrics.engagement import engagement_by_age
from dlvstats.metrics.hidden_images import hidden_images
from dlvstats.simulate import simulate
from dlvstats.simulate.worlds import parse_world


def one(seed: int, world: str, contacts: int, months: int) -> list[tuple]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sim"
        truth = simulate(out, seed=seed, contacts=contacts, months=months, world=parse_world(world), fmt="parquet")
        db_path = Path(tmp) / "sim.duckdb"
        ingest_paths(db_path, sorted((out / "drops").iterdir()))
        start, end = truth["period"]["start"][:10], truth["period"]["end"][:10]
        df = engagement_by_age(db_path, start, end)
        prov = hidden_images(db_path, start, end)
    by_age = truth["world"]["by_age_year"]
    rows = []
    for r in df.itertuples(index=False):
        t = by_age.get(str(int(r.age_years))) if r.age_years == r.age_years else None
        if t is None or r.small_cell or r.age_is_lower_bound_share > 0.5 or t["measurable_read_rate"] is None:
            continue
        truth_rate = t["measurable_read_rate"]
        rows.append((int(r.age_years), truth_rate, r.est_read_rate, r.est_read_rate_low, r.est_read_rate_high,
                     r.est_read_rate_low <= truth_rate <= r.est_read_rate_high, r.estimate_status))
    providers = []
    for r in prov.itertuples(index=False):
        t = truth["world"]["by_provider"].get(r.provider)
        if t is None or r.estimate_status == "unmeasurable" or r.est_read_rate != r.est_read_rate:
            continue
        providers.append(r.est_read_rate_low <= t["measurable_read_rate"] <= r.est_read_rate_high)
    return rows, providers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--world", default="device_blocking")
    ap.add_argument("--seeds", default="1-10", help="a range a-b")
    ap.add_argument("--contacts", type=int, default=6000)
    ap.add_argument("--months", type=int, default=6)
    args = ap.parse_args()
    a, _, b = args.seeds.partition("-")
    covered = total = pcov = ptot = 0
    for seed in range(int(a), int(b or a) + 1):
        rows, providers = one(seed, args.world, args.contacts, args.months)
        pcov, ptot = pcov + sum(providers), ptot + len(providers)
        c = sum(r[5] for r in rows)
        covered, total = covered + c, total + len(rows)
        print(json.dumps({"seed": seed, "rows": len(rows), "covered": c,
                          "detail": [(r[0], round(r[1], 3), round(r[2], 3), round(r[3], 3), round(r[4], 3), r[6])
                                     for r in rows]}), flush=True)
    print(f"world {args.world}: {covered}/{total} per-age 95% intervals cover the truth "
          f"({covered / max(total, 1):.0%}); {pcov}/{ptot} per-provider est_read_rate intervals "
          f"({pcov / max(ptot, 1):.0%})")


if __name__ == "__main__":
    main()
