"""Each estimator's error against the simulator's latent truth, on any simulated database.

    python benchmarks/accuracy.py --db data/dlvstats.duckdb --truth data/demo/truth.json

Prints, for the simulated period: image_blocked_share and est_read_rate per provider (hidden-images)
against the truth's per-provider figures; est_read_rate per age_years (engagement-by-age) against
the true read rate by address age; the gift campaigns' reregistered, removed_from_source and
buyer counts against the truth. The tests assert the same on the test simulation
(tests/test_metrics_hidden_images.py, test_metrics_engagement.py, test_metrics_gift.py); this script
gives the figures for the demo data. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--truth", required=True)
    args = parser.parse_args()
    from dlvstats.metrics.engagement import engagement_by_age
    from dlvstats.metrics.gift import gift_campaigns
    from dlvstats.metrics.hidden_images import hidden_images

    truth = json.loads(open(args.truth, encoding="utf-8").read())
    period = (truth["period"]["start"][:10], truth["period"]["end"][:10])
    print(f"period {period[0]} to {period[1]} (seed {truth['seed']})")

    print("\nhidden-images, per provider: estimate - truth")
    print(f"{'provider':<10}{'delivered':>11}{'blocked':>9}{'error':>9}{'est_read':>10}{'error':>9}  flag")
    hi = hidden_images(args.db, *period).set_index("provider")
    for provider, row in hi.iterrows():
        t = truth["providers"].get(provider)
        if t is None:
            continue
        flag = "" if row.is_measurable else f"not measurable ({row.note})"
        blocked = row.image_blocked_share
        read = row.est_read_rate
        print(f"{provider:<10}{int(row.delivered):>11,}{blocked:>9.4f}{blocked - t['image_blocked_share']:>+9.4f}"
              f"{read:>10.4f}{read - t['measurable_read_rate']:>+9.4f}  {flag}")

    print("\nengagement-by-age, est_read_rate per age_years: estimate - truth (ages with >= 5,000 delivered)")
    by_age = engagement_by_age(args.db, *period)
    for row in by_age.itertuples():
        t = truth["read_rate_by_age_year"].get(str(row.age_years))
        if t is None or row.delivered < 5000:
            continue
        print(f"age {row.age_years:>2}: delivered {int(row.delivered):>9,}  est {row.est_read_rate:.4f}  "
              f"truth {t['measurable_read_rate']:.4f}  error {row.est_read_rate - t['measurable_read_rate']:+.4f}")

    print("\ngift-campaigns: measured vs truth")
    gifts = gift_campaigns(args.db, *period).set_index("campaign_id")
    exact = 0
    for campaign_id, t in truth["gift_campaigns"].items():
        if campaign_id not in gifts.index:
            print(f"{campaign_id}: missing")
            continue
        row = gifts.loc[campaign_id]
        same = int(row.reregistered) == t["reregistered"] and int(row.removed_from_source) == t["removed_from_source"]
        exact += same
        print(f"{campaign_id}: reregistered {int(row.reregistered)} vs {t['reregistered']}, removed "
              f"{int(row.removed_from_source)} vs {t['removed_from_source']}, buyers_90d {int(row.buyers_90d)} vs "
              f"{t['buyers_90d']}")
    print(f"reregistered and removed_from_source exact for {exact} of {len(truth['gift_campaigns'])} campaigns")


if __name__ == "__main__":
    main()
