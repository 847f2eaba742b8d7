"""Charts of the mailbox providers' own signals (``metrics.provider_signals``)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dlvstats.plots.base import _finish


def gmail_spam_rate_chart(df: pd.DataFrame, *, min_delivered: int = 0) -> go.Figure:
    """Gmail's spam rate (Postmaster Tools) and dlvstats' complaint rate per domain and day."""
    fig = go.Figure()
    for domain, rows in df.sort_values("day").groupby("domain"):
        gpt = rows[rows["gpt_spam_rate"].notna()]
        fig.add_trace(go.Scatter(x=gpt["day"], y=gpt["gpt_spam_rate"] * 100, mode="lines+markers",
                                 name=f"{domain}: Gmail spam rate (Postmaster Tools)"))
        ours = rows[rows["delivered"] >= max(min_delivered, 1)]
        fig.add_trace(go.Scatter(
            x=ours["day"], y=ours["complaint_rate"] * 100, mode="markers", name=f"{domain}: dlvstats complaint rate",
            error_y={"type": "data", "symmetric": False,
                     "array": (ours["complaint_rate_high"] - ours["complaint_rate"]) * 100,
                     "arrayminus": (ours["complaint_rate"] - ours["complaint_rate_low"]) * 100}))
    fig.add_hline(y=0.3, line_dash="dot", annotation_text="0.3% line")
    return _finish(fig, "Gmail's own spam rate beside dlvstats' complaint rate", "Day (UTC)", "Rate (%)",
                   "Gmail sends no per-message complaints, so dlvstats' rate misses most Gmail complaints: when "
                   "the Gmail line rises above the dots, the complaints dlvstats cannot see are the ones rising. "
                   "Days without a Gmail point had no Postmaster Tools figure (under Gmail's volume floor).")


def snds_chart(df: pd.DataFrame) -> go.Figure:
    """SNDS trap hits per IP and day, each marker coloured by SNDS's filter result."""
    colours = {"GREEN": "#2e9c5b", "YELLOW": "#c9a227", "RED": "#b5384b"}
    data = df[df["snds_filter"].notna()].sort_values("day")
    fig = go.Figure()
    for ip, rows in data.groupby("ip"):
        fig.add_trace(go.Scatter(x=rows["day"], y=rows["snds_trap_hits"], mode="lines+markers", name=ip,
                                 marker={"size": 11, "color": [colours.get(c, "#5b6770") for c in rows["snds_filter"]]},
                                 text=rows["snds_filter"], hovertemplate="%{x}: %{y} trap hits, filter %{text}"))
    return _finish(fig, "Microsoft SNDS: trap hits and filter colour by sending IP", "Day (SNDS activity start)",
                   "Spam-trap hits (SNDS)",
                   "Each marker is one IP-day as Microsoft saw it, coloured by its filter result (green, yellow, "
                   "red); trap hits mean mail reached addresses nobody owns: an old or bought list on that IP.")
