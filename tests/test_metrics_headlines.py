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
    for rate, numerator in (("human_open_rate", "human_openers"), ("human_click_rate", "human_clickers"),
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


@pytest.mark.parametrize("timezone", ["UTC", "Europe/Paris"])
def test_trend_rows_are_each_months_headlines(sim, timezone):
    """headline_trend has one row per month of the zone, each equal to that month's headline rates
    and sender-health figures (the same definitions); the raw open rate includes machine opens."""
    from dlvstats.metrics.common import Period
    from dlvstats.metrics.headlines import headline_trend
    from dlvstats.metrics.sender_health import sender_health

    first, last = Period.month("2026-08", timezone), Period.month("2026-10", timezone)
    trend = headline_trend(sim.db_path, first.start, last.end, timezone=timezone).set_index("month")
    assert list(trend.index) == ["2026-08", "2026-09", "2026-10"]
    for month in trend.index:
        period = Period.month(month, timezone)
        row = trend.loc[month]
        assert pd.Timestamp(row["month_start"]) == pd.Timestamp(period.start)
        head = headline_rates(sim.db_path, period.start, period.end).iloc[0]
        for column in ("delivered", "openers", "human_openers", "human_clickers", "unsubscribes"):
            assert row[column] == head[column], (month, column)
        for rate in ("open_rate", "human_open_rate", "human_click_rate", "unsubscribe_rate"):
            assert row[rate] == pytest.approx(head[rate]), (month, rate)
            assert row[f"{rate}_low"] == pytest.approx(head[f"{rate}_low"]), (month, rate)
        assert row["open_rate"] > row["human_open_rate"]  # machine opens (MPP) count in the raw rate
        health = sender_health(sim.db_path, period.start, period.end, by="all", grain="period",
                               timezone=timezone).iloc[0]
        for column in ("sends", "delivered", "hard_bounces", "complaints"):
            assert row[column] == health[column], (month, column)
        for rate in ("hard_bounce_rate", "complaint_rate"):
            assert row[rate] == pytest.approx(health[rate]), (month, rate)
            assert row[f"{rate}_low"] <= row[rate] <= row[f"{rate}_high"]
