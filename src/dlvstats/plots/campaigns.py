"""The per-campaign chart: each campaign's human open and click rates, with their intervals."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dlvstats.plots.base import rate_chart


def campaign_rates_chart(df: pd.DataFrame, max_campaigns: int = 30) -> go.Figure:
    """Bars per campaign (the ``max_campaigns`` largest by delivered, in sending order): human open
    rate and click rate with their 95 % intervals; campaigns with too few messages are labelled "(small)"."""
    shown = df.nlargest(max_campaigns, "delivered").sort_values("first_sent_at") if len(df) else df
    label = shown["campaign_name"].fillna(shown["campaign_id"]).fillna("(no campaign id)").astype(str)
    shown = shown.assign(campaign=label.where(~shown["small_cell"].astype(bool), label + " (small)"))
    return rate_chart(
        shown, "campaign", ["human_open_rate", "human_click_rate"], kind="bar",
        labels={"human_open_rate": "Human open rate", "human_click_rate": "Click rate"},
        title="Human open and click rates by campaign", x_title="Campaign (in sending order)",
        y_title="Share of delivered messages",
        reading=("Each pair of bars is one campaign of the period (the largest ones, in sending order); the "
                 "whiskers are 95% intervals. A campaign far below the others on both rates reached people who "
                 "no longer read; '(small)' marks campaigns with too few messages to compare."))
