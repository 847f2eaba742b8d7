"""Figures for the data overview."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dlvstats.plots.base import PALETTE, _finish


def daily_rows(daily: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for i, (kind, part) in enumerate(daily.groupby("kind", sort=True)):
        fig.add_trace(go.Scatter(x=part["day"], y=part["row_count"], mode="lines", name=kind,
                                 line={"color": PALETTE[i % len(PALETTE)]}))
    fig.update_yaxes(type="log")
    return _finish(
        fig, "Rows loaded per day, by kind", "Day (UTC)", "Rows per day (log scale)",
        "A gap or a sudden drop in one line means a missing or partial export for those days; "
        "opens and clicks should follow sends with a lag of hours to days.",
    )
