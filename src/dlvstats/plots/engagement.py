"""Figures for the engagement-decay analysis (notebook 01). DataFrames from
``dlvstats.metrics.engagement`` in, plotly Figures out; each carries a ``reading`` note."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dlvstats.config import COMPLAINT_RATE_TARGET
from dlvstats.plots.base import PALETTE, _finish, built_from_data, heatmap, rate_chart

ENGAGEMENT_LABELS = {
    "human_open_rate": "human opens",
    "measured_open_rate": "human opens (no machine open)",
    "human_click_rate": "human clicks",
    "est_read_rate": "estimated readers (images blocked included)",
}
RISK_LABELS = {
    "complaint_rate": "complaints",
    "hard_bounce_rate": "hard bounces (per send)",
    "unsubscribe_rate": "unsubscribes",
}


def _known_ages(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of a known age, their age as float (the 'unknown' row is said in the table, not drawn)."""
    known = df[df["age_years"].notna()].copy()
    known["age_years"] = known["age_years"].astype(float)
    return known


def engagement_by_age_chart(df: pd.DataFrame) -> go.Figure:
    """Engagement rates by address age, with 95 % intervals; hollow points are small cells (the row of
    unknown age has no place on the axis: it stays in the table)."""
    return rate_chart(
        _known_ages(df), "age_years", ["est_read_rate", "measured_open_rate", "human_click_rate"],
        title="Engagement by address age", x_title="Address age (years since collected)",
        y_title="Share of delivered messages", labels=ENGAGEMENT_LABELS,
        reading="Look at how fast the estimated read rate falls in the first years and where it levels off: "
        "that plateau is the list's old, still-reading core. Hollow points are small cells.",
    )


def risk_by_age_chart(df: pd.DataFrame) -> go.Figure:
    """Complaint, hard-bounce and unsubscribe rates by address age, on a log scale (complaints are
    a hundred times rarer than bounces) with Gmail's 0.1 % complaint target."""
    fig = rate_chart(
        _known_ages(df), "age_years", ["complaint_rate", "hard_bounce_rate", "unsubscribe_rate"],
        title="Complaints, hard bounces and unsubscribes by address age",
        x_title="Address age (years since collected)", y_title="Rate (log scale)", labels=RISK_LABELS,
        reading="Complaints and hard bounces that rise with age are the cost of mailing old addresses. "
        "The scale is logarithmic; the dashed line is the 0.1 % complaint target (a cell at zero is not drawn).",
    )
    fig.add_hline(y=COMPLAINT_RATE_TARGET * 100, line_dash="dash", line_color=PALETTE[3],
                  annotation_text="0.1 % complaint target", annotation_position="top left")
    fig.update_yaxes(type="log")
    return fig


def by_dimension_chart(df: pd.DataFrame, x: str, *, x_title: str, title: str, reading: str) -> go.Figure:
    """Engagement rates (bars with intervals) by a categorical dimension (source, recency, ...)."""
    return rate_chart(df, x, ["est_read_rate", "measured_open_rate", "human_click_rate"], title=title,
                      x_title=x_title, y_title="Share of delivered messages", labels=ENGAGEMENT_LABELS,
                      kind="bar", reading=reading)


def _hover(df: pd.DataFrame, value: str) -> pd.Series:
    """'12.34% [11.00%–13.70%], 5,432 delivered (small cell)' per row (small table)."""
    text = [f"{v:.2%} [{lo:.2%}–{hi:.2%}], {int(n):,} delivered" + (" (small cell)" if small else "")
            for v, lo, hi, n, small in zip(df[value], df[f"{value}_low"], df[f"{value}_high"], df["delivered"],
                                           df["small_cell"])]
    return pd.Series(text, index=df.index, dtype=object)


def surface_chart(df: pd.DataFrame, value: str = "est_read_rate") -> go.Figure:
    """Age band x recency heatmap of one rate; hover shows its interval and volume."""
    data = df.assign(hover=_hover(df, value))
    data = data.sort_values(["age_band_start", "recency_order"])
    data["recency"] = pd.Categorical(data["recency"], ordered=True,
                                     categories=list(dict.fromkeys(data["recency"])))
    data["age_band"] = pd.Categorical(data["age_band"], ordered=True, categories=list(dict.fromkeys(data["age_band"])))
    label = ENGAGEMENT_LABELS.get(value, value).capitalize()
    return built_from_data(heatmap(
        data, "recency", "age_band", value, text="hover",
        title=f"{label} by address age and recency",
        x_title="Months since the last human signal", y_title="Address age (years)",
        reading="Read across a row: within the same age, recency separates readers from the inactive. "
        "Read down a column: at equal recency, older addresses read less. Hover for intervals.",
    ), title=("{rate} by address age and recency", {"rate": label}))


def cohort_chart(df: pd.DataFrame, value: str = "human_click_rate") -> go.Figure:
    """Signup cohort x months since signup heatmap."""
    data = df.assign(hover=_hover(df, value))
    label = ENGAGEMENT_LABELS.get(value, value).capitalize()
    fig = heatmap(
        data, "months_since_signup", "signup_cohort", value, text="hover",
        title=f"{label} by signup cohort and months since signup",
        x_title="Months since signup", y_title="Signup cohort (collection month)",
        reading="Each row is a cohort of sign-ups; the colour fading to the right is the new-subscriber "
        "honeymoon wearing off. Cohorts collected before the data start are seen only from then on, and "
        "only those still on the list: they look better than they were.",
    )
    built_from_data(fig, title=("{rate} by signup cohort and months since signup", {"rate": label}))
    fig.update_yaxes(type="category")
    fig.update_xaxes(type="category")
    return fig


def decay_chart(table: pd.DataFrame, fit: dict, rate: str = "est_read_rate") -> go.Figure:
    """Cells with intervals, the fitted decay curve and its bootstrap band, the half-life in the title."""
    curve = fit["curve"]
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=pd.concat([curve["t"], curve["t"][::-1]]), y=pd.concat([curve["fitted_high"], curve["fitted_low"][::-1]]) * 100,
        fill="toself", fillcolor="rgba(31,95,168,0.15)", line={"width": 0}, name="fit, 95% band", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=curve["t"], y=curve["fitted"] * 100, mode="lines", name="fitted curve",
                             line={"color": PALETTE[0]}))
    cells = _known_ages(table[table[rate].notna()])
    fig.add_trace(go.Scatter(
        x=cells["age_years"] + 0.5, y=cells[rate] * 100, mode="markers", name="observed (by age year)",
        marker={"color": PALETTE[1], "symbol": ["circle-open" if s else "circle" for s in cells["small_cell"]]},
        error_y={"type": "data", "array": (cells[f"{rate}_high"] - cells[rate]) * 100,
                 "arrayminus": (cells[rate] - cells[f"{rate}_low"]) * 100}))
    label = ENGAGEMENT_LABELS.get(rate, rate)
    if curve.empty:
        return built_from_data(
            _finish(fig, f"Decay of {label} with address age: not fitted", "Address age (years)",
                    f"{label.capitalize()} (%)", f"No curve: {fit['model']}. The points are the age cells."),
            title=("Decay of {rate} with address age: not fitted", {"rate": label}),
            reading=("No curve: {model}. The points are the age cells.", {"model": str(fit["model"])}))
    half = f"{fit['half_life']:.1f} years [{fit['half_life_low']:.1f}–{fit['half_life_high']:.1f}]"
    fig = _finish(
        fig, f"Decay of {label} with address age: half-life {half}",
        "Address age (years)", f"{label.capitalize()} (%)",
        f"The excess over the plateau ({fit['plateau']:.1%}) halves every {fit['half_life']:.1f} years; "
        "the band is the 95% bootstrap interval of the curve.",
    )
    return built_from_data(
        fig, title=("Decay of {rate} with address age: half-life {half} years [{low}–{high}]",
                    {"rate": label, "half": ("decimal", fit["half_life"], 1),
                     "low": ("decimal", fit["half_life_low"], 1), "high": ("decimal", fit["half_life_high"], 1)}),
        reading=(("The excess over the plateau ({plateau}) halves every {half} years; the band is the 95% "
                 "bootstrap interval of the curve."),
                 {"plateau": ("percent", fit["plateau"], 1), "half": ("decimal", fit["half_life"], 1)}))


def sunset_chart(df: pd.DataFrame) -> go.Figure:
    """What suppression at each inactivity threshold would have removed, as shares of the period's totals."""
    fig = go.Figure()
    series = {"sends_removed_share": "sends", "complaints_removed_share": "complaints",
              "hard_bounces_removed_share": "hard bounces", "human_clickers_removed_share": "human clickers",
              "orders_removed_share": "orders"}
    categories = [str(int(m)) for m in df["threshold_months"]]
    for i, (col, name) in enumerate(series.items()):
        fig.add_trace(go.Bar(x=categories, y=df[col].fillna(0) * 100, name=name,
                             marker={"color": PALETTE[i % len(PALETTE)]}))
    # On a category axis plotly places an annotation by the category's position (0, 1, 2, ...), not by
    # its label: "6" would land over the seventh bucket. Give the position, with the order pinned.
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=categories)
    recommended = [i for i, flag in enumerate(df["recommended"].fillna(False)) if flag]
    if recommended:
        fig.add_annotation(x=recommended[0], y=1.0, yref="paper", yanchor="bottom", showarrow=False,
                           text="recommended", font={"color": PALETTE[3]})
    fig.update_layout(barmode="group")
    return _finish(
        fig, "What suppressing inactive people would have removed", "Inactivity threshold (months without a human signal)",
        "Share of the period's total (%)",
        "A good threshold removes a larger share of complaints and hard bounces than of clicks and orders. "
        "These are counts over the whole period, not estimates: no interval. A threshold longer than the "
        "loaded history removes nothing: inactivity cannot be seen further back than the data.",
    )
