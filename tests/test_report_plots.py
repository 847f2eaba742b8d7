"""Figures checked on their own data (no browser): where an annotation sits, what a chart draws."""

from __future__ import annotations

import pandas as pd
import pytest

from dlvstats.plots.engagement import sunset_chart


def sunset_table(thresholds: list[int], recommended: int | None) -> pd.DataFrame:
    n = len(thresholds)
    return pd.DataFrame({
        "threshold_months": thresholds,
        "sends_removed_share": [0.5 / (i + 1) for i in range(n)],
        "complaints_removed_share": [0.6 / (i + 1) for i in range(n)],
        "hard_bounces_removed_share": [0.7 / (i + 1) for i in range(n)],
        "human_clickers_removed_share": [0.1 / (i + 1) for i in range(n)],
        "orders_removed_share": [0.05 / (i + 1) for i in range(n)],
        "recommended": [m == recommended for m in thresholds],
    })


@pytest.mark.parametrize("thresholds, recommended", [
    ([1, 2, 3, 6, 9, 12, 18, 24], 6),   # the report's case: "6" was drawn over the 12-month bars
    ([1, 2, 3, 6, 12], 1),              # the SES-only case: "1" was drawn over 2 months
    ([3, 6, 12, 24], 24),
])
def test_sunset_annotation_sits_over_the_recommended_bucket(thresholds, recommended):
    fig = sunset_chart(sunset_table(thresholds, recommended))
    notes = [a for a in fig.layout.annotations if a.text == "recommended"]
    assert len(notes) == 1
    axis = fig.layout.xaxis
    # plotly places annotations on a category axis by position in the category order
    assert axis.type == "category" and list(axis.categoryarray) == [str(m) for m in thresholds]
    position = notes[0].x
    assert isinstance(position, int)
    assert axis.categoryarray[position] == str(recommended)
    for bars in fig.data:
        assert bars.x[position] == str(recommended)


def test_no_recommended_bucket_no_annotation():
    fig = sunset_chart(sunset_table([1, 2, 3], None))
    assert [a for a in fig.layout.annotations if a.text == "recommended"] == []
