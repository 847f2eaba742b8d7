"""Figures for the gift-campaign analysis (notebook 02). DataFrames from ``dlvstats.metrics.gift`` in,
plotly Figures out; each carries a ``reading`` note (``dlvstats.plots.reading_of``).

Must not query the database.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dlvstats.plots.base import built_from_data, rate_chart


def _campaign_label(df: pd.DataFrame) -> pd.Series:
    """'2026-01-10 G1', with '(immature)' where the 90 days run past the data."""
    label = pd.to_datetime(df["sent_at"]).dt.strftime("%Y-%m-%d") + " " + df["campaign_id"].astype(str)
    if "is_immature" in df:
        label = label.where(~df["is_immature"].astype(bool), label + " (immature)")
    return label


def _tidy(fig: go.Figure) -> go.Figure:
    """Legend above the plot, so long rotated category labels never run into it."""
    fig.update_layout(legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
                      margin={"t": 90})
    return _mark_empty(fig)


def _mark_empty(fig: go.Figure) -> go.Figure:
    """A figure with nothing to draw says so (an account without gift campaigns, a quiet period)."""
    if not any(trace.x is not None and len(trace.x) for trace in fig.data):
        fig.add_annotation(text="No data for this period and account", showarrow=False,
                           xref="paper", yref="paper", x=0.5, y=0.5, font={"size": 16})
    return fig


def _gift_step(df: pd.DataFrame) -> pd.Series:
    """'#3 · 2026-01-11' (prefixed with account and list when several source lists are shown)."""
    label = "#" + df["gift_number"].astype(str)
    if "sent_at" in df:
        label = label + " · " + pd.to_datetime(df["sent_at"]).dt.strftime("%Y-%m-%d")
    if df[["account_id", "list_id"]].drop_duplicates().shape[0] > 1:
        label = df["account_id"].astype(str) + " " + df["list_id"].astype(str) + " " + label
    return label


def _wide(df: pd.DataFrame, keys: list[str], column: str, rate: str) -> pd.DataFrame:
    """One column per value of ``column`` (with its _low/_high), rows in the order of ``keys``, for
    builders that draw one trace per column; ``small_cell`` is true where any cell of the row is small."""
    if df.empty:
        return pd.DataFrame(columns=keys)
    parts = []
    for suffix in ("", "_low", "_high"):
        part = df.pivot_table(index=keys, columns=column, values=rate + suffix, aggfunc="first")
        part.columns = [f"{c}{suffix}" for c in part.columns]
        parts.append(part)
    wide = pd.concat(parts, axis=1).reset_index()
    if "small_cell" in df:
        wide = wide.merge(df.groupby(keys)["small_cell"].any().reset_index(), on=keys)
    return wide.sort_values(keys)


def reregistration_chart(df: pd.DataFrame) -> go.Figure:
    """Re-registration rate of each gift (or re-engagement) campaign, with its interval."""
    data = df.assign(campaign=_campaign_label(df))
    return _tidy(rate_chart(
        data, "campaign", ["rereg_rate", "human_click_rate"], kind="bar",
        labels={"rereg_rate": "re-registered / delivered", "human_click_rate": "human clickers / delivered"},
        title="Who re-registered from each campaign",
        x_title="Campaign (send date and id)", y_title="Share of delivered messages",
        reading="The gap between the two bars is the people who clicked the gift but did not re-register. "
        "A falling re-registration rate over successive gifts means list A is running out of takers.",
    ))


def comeback_chart(df: pd.DataFrame) -> go.Figure:
    """Re-engagement campaigns: who came back (re-registered, engaged again within 90 days)."""
    data = df.assign(campaign=_campaign_label(df))
    return _tidy(rate_chart(
        data, "campaign", ["human_click_rate", "rereg_rate", "engaged_next_rate_90d"], kind="bar",
        labels={"human_click_rate": "clicked the campaign", "rereg_rate": "re-registered",
                "engaged_next_rate_90d": "opened or clicked another message within 90 days"},
        title="Who came back after each re-engagement campaign",
        x_title="Campaign (send date and id)", y_title="Share of delivered recipients",
        reading="The last bar is the one that matters: a win-back that gets clicks but no later engagement "
        "only delays the sunset. Published win-back read rates are around 12% (Return Path).",
    ))


def buyers_chart(df: pd.DataFrame) -> go.Figure:
    """90-day buyer rate of re-registrants against the campaign's other human clickers."""
    data = df.assign(campaign=_campaign_label(df))
    return _tidy(rate_chart(
        data, "campaign", ["buyer_rate_90d", "control_buyer_rate_90d"], kind="bar",
        labels={"buyer_rate_90d": "re-registrants who bought within 90 days",
                "control_buyer_rate_90d": "clickers who did not re-register (control)"},
        title="Do gift re-registrants buy? Against the clickers who did not re-register",
        x_title="Campaign (send date and id)", y_title="Buyers within 90 days",
        small_cell_column="small_cell_buyers",
        reading="The control is the closest comparable group: people who clicked the same gift but did "
        "not re-register. Re-registrant bars below the control mean the gift brings sign-ups, not buyers. "
        "Campaigns marked immature still have purchase windows open; the pooled row carries the verdict.",
    ))


def campaign_kinds_chart(df: pd.DataFrame) -> go.Figure:
    """Gift campaigns against the account's regular ones: engagement and complaints per delivered."""
    data = df.assign(group=df["account_id"].astype(str) + " · " + df["kind"].astype(str))
    return _tidy(rate_chart(
        data, "group", ["human_open_rate", "human_click_rate", "unsubscribe_rate", "complaint_rate"],
        kind="bar",
        labels={"human_open_rate": "human open rate", "human_click_rate": "human click rate",
                "unsubscribe_rate": "unsubscribe rate", "complaint_rate": "complaint rate"},
        title="Gift campaigns against the same accounts' other campaigns",
        x_title="Account · campaign kind", y_title="Share of delivered messages",
        reading="Compare the bars within one account: a gift that lifts clicks but also complaints or "
        "unsubscribes pays for its sign-ups with the list's reputation.",
    ))


def revenue_chart(df: pd.DataFrame) -> go.Figure:
    """Revenue per delivered message by account and campaign kind, two attributions."""
    data = df.assign(group=df["account_id"].astype(str) + " · " + df["kind"].astype(str))
    return _tidy(rate_chart(
        data, "group", ["revenue_per_delivered", "click_revenue_per_delivered_7d"], kind="bar",
        percent=False,
        labels={"revenue_per_delivered": "orders naming the campaign",
                "click_revenue_per_delivered_7d": "orders within 7 days of a human click (last click)"},
        title="Revenue per delivered message, by campaign kind",
        x_title="Account · campaign kind", y_title="Revenue per delivered message (account currency)",
        reading="Two attributions of the same orders: the campaign the order names, and the last campaign "
        "the buyer clicked in the 7 days before. Where they agree the answer does not hang on the rule.",
    ))


def migration_chart(df: pd.DataFrame) -> go.Figure:
    """Share of list A re-registered after k gift sends, and what remains on A."""
    data = df.sort_values(["account_id", "list_id", "gift_number"])
    data = data.assign(step=_gift_step(data))
    return _tidy(rate_chart(
        data, "step", ["cum_rereg_share", "remaining_share"],
        labels={"cum_rereg_share": "re-registered on B after k gifts",
                "remaining_share": "still on A, never moved (grey list)"},
        title="The A → B migration over successive gift sends",
        x_title="Gift send k and its date", y_title="Share of list A's cohort",
        reading="The cohort is list A as the first gift found it. Each gift adds fewer re-registrants: the "
        "curve flattens, and what stays on A is the grey list - people who never take the gift.",
    ))


def grey_list_chart(df: pd.DataFrame, rate: str = "human_click_rate") -> go.Figure:
    """One rate of the cohort between gift sends, by segment (migrated, grey, left)."""
    keys = ["account_id", "list_id", "gift_number", "window_start_at"]
    wide = _wide(df, keys, "segment", rate)
    wide = wide.assign(step=_gift_step(wide.rename(columns={"window_start_at": "sent_at"})))
    segments = [s for s in ("migrated", "grey", "left") if s in wide.columns]
    names = {"human_click_rate": "human click rate", "human_open_rate": "human open rate",
             "complaint_rate": "complaint rate", "buyer_share": "share who bought"}
    return built_from_data(_tidy(rate_chart(
        wide, "step", segments,
        labels={"migrated": "migrated to B", "grey": "grey list (still on A)", "left": "left A otherwise"},
        title=f"How the gift cohort behaves between gift sends: {names.get(rate, rate)}",
        x_title="Gift send k and its date (window: until the next gift)",
        y_title=names.get(rate, rate).capitalize(),
        reading="Migrated people are the gift's takers and engage more; the grey list is what the gifts "
        "leave behind on A. A grey list that stops clicking while still being mailed is the next sunset "
        "candidate.",
    )), title=("How the gift cohort behaves between gift sends: {rate}", {"rate": names.get(rate, rate)}))
