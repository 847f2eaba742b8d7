"""The report's pooled headline rates: the same numbers as engagement-by-age pooled over its age
buckets (one quantity, one name), each with a 95 % interval that contains it."""

from __future__ import annotations

import pandas as pd
import pytest

from dlvstats.metrics.engagement import engagement_by_age
from dlvstats.metrics.headlines import headline_rates


@pytest.mark.parametrize("account_id", [None, "acct_oldlist"])
def test_headline_rates_pool_engagement_by_age(sim, account_id):
    by_age = engagement_by_age(sim.db_path, "2026-10-01", "2026-11-01", account_id)
    row = headline_rates(sim.db_path, "2026-10-01", "2026-11-01", account_id).iloc[0]
    assert row["delivered"] == by_age["delivered"].sum() > 0
    for rate, numerator in (("human_open_rate", "human_openers"), ("click_rate", "human_clickers"),
                            ("unsubscribe_rate", "unsubscribes")):
        assert row[numerator] == by_age[numerator].sum(), rate
        assert row[rate] == pytest.approx(by_age[numerator].sum() / by_age["delivered"].sum())
        assert row[f"{rate}_low"] <= row[rate] <= row[f"{rate}_high"], rate
        assert row[f"{rate}_high"] - row[f"{rate}_low"] > 0, rate
    # clustered by recipient: at least as wide as a binomial interval on the same counts
    from dlvstats.metrics.common import wilson

    _, low, high = wilson(row["human_openers"], row["delivered"])
    assert row["human_open_rate_high"] - row["human_open_rate_low"] >= (high - low) * 0.999
    assert isinstance(by_age, pd.DataFrame)
