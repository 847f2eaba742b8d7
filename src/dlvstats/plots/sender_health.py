"""Figures for the sender-health analysis (notebook 04). DataFrames from
``dlvstats.metrics.sender_health`` in, plotly Figures out; each carries a ``reading`` note
(``dlvstats.plots.reading_of``). Thresholds (0.1% / 0.3%) come from ``dlvstats.config``.

Must not query the database.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dlvstats.config import COMPLAINT_RATE_CRITICAL, COMPLAINT_RATE_TARGET
from dlvstats.plots.base import built_from_data, rate_chart, timeline


def _tidy(fig: go.Figure, thin_errors: bool = False) -> go.Figure:
    """Legend above the plot (long category labels stay clear of it); on timelines with many points,
    thin interval whiskers so the lines stay readable."""
    fig.update_layout(legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0}, margin={"t": 90})
    if thin_errors:
        fig.update_traces(error_y={"thickness": 1, "width": 0}, selector={"type": "scatter"})
    if not any(trace.x is not None and len(trace.x) for trace in fig.data):
        fig.add_annotation(text="No data for this period and account", showarrow=False,
                           xref="paper", yref="paper", x=0.5, y=0.5, font={"size": 16})
    return fig


def _wide(df: pd.DataFrame, x: str, column: str, rate: str) -> pd.DataFrame:
    """One column per value of ``column`` with its ``_low``/``_high`` interval (one trace each)."""
    if df.empty:
        return pd.DataFrame(columns=[x])
    parts = []
    for suffix in ("", "_low", "_high"):
        part = df.pivot_table(index=x, columns=column, values=rate + suffix, aggfunc="first", dropna=False)
        part.columns = [f"{c}{suffix}" for c in part.columns]
        parts.append(part)
    return pd.concat(parts, axis=1).reset_index().sort_values(x)


def _listing_events(events: pd.DataFrame | None) -> pd.DataFrame | None:
    if events is None or events.empty:
        return None
    label = "listed: " + events["target"].astype(str) + " on " + events["blocklist"].astype(str)
    return pd.DataFrame({"ts": events["listed_at"], "label": label})


def complaint_timeline(df: pd.DataFrame, events: pd.DataFrame | None = None, *,
                       rate: str = "complaint_rate_fbl", min_delivered: int = 0,
                       target: float = COMPLAINT_RATE_TARGET, critical: float = COMPLAINT_RATE_CRITICAL,
                       ) -> go.Figure:
    """Complaint rate per dimension value over time against the 0.1% and 0.3% lines, with listings.

    ``df`` is one dimension of ``sender_health`` (e.g. ``by="account"``); ``events`` is
    ``blocklist_events``. Cells whose denominator is under ``min_delivered`` are left out (they are
    flagged ``small_cell`` in the table; on a line chart their huge intervals hide everything else).
    """
    volume = "delivered_fbl" if rate == "complaint_rate_fbl" else "delivered"
    data = df[df[volume] >= max(min_delivered, 1)]
    wide = _wide(data, "period_start", "dimension_value", rate)
    values = sorted(data["dimension_value"].unique())
    denominator = ("messages delivered to providers that report complaints per message (Yahoo, Microsoft, "
                   "Signal Spam ISPs)" if rate == "complaint_rate_fbl" else "all delivered messages")
    return built_from_data(_tidy(timeline(
        wide, "period_start", values, title="Complaint rate against the 0.1% and 0.3% lines",
        x_title="Period start (UTC)",
        y_title=("Complaints / delivered to FBL providers" if rate == "complaint_rate_fbl"
                 else "Complaints / delivered"),
        hlines={"0.1% target": target, "0.3% line": critical}, events=_listing_events(events),
        reading=f"Denominator: {denominator}. Gmail's own spam rate is not in any log: only Postmaster Tools "
        "shows it. A line crossing 0.3% before a dotted blocklist marker is the story to look for.",
    ), thin_errors=True), reading=(
        ("Denominator: {denominator}. Gmail's own spam rate is not in any log: only Postmaster Tools shows it. "
        "A line crossing 0.3% before a dotted blocklist marker is the story to look for."),
        {"denominator": denominator}))


def ip_timeline(df: pd.DataFrame, events: pd.DataFrame | None = None, *, rate: str = "block_rate",
                min_sends: int = 0) -> go.Figure:
    """One rate per sending IP (or domain) over time, with the blocklist listings
    (``sender_health(by="sending_ip", grain=...)``); cells under ``min_sends`` sends are left out."""
    data = df[df["sends"] >= max(min_sends, 1)]
    wide = _wide(data, "period_start", "dimension_value", rate)
    names = {"block_rate": "Policy or reputation blocks / sends",
             "complaint_rate_fbl": "Complaints / FBL delivered",
             "hard_bounce_rate": "Hard bounces / sends", "invalid_address_rate": "Invalid addresses / sends"}
    what = "IP" if (df["dimension"] == "sending_ip").all() else "IP or domain"
    return built_from_data(_tidy(timeline(
        wide, "period_start", sorted(data["dimension_value"].unique()),
        title=f"{names.get(rate, rate)} by sending {what}",
        x_title="Period start (UTC)", y_title=names.get(rate, rate), events=_listing_events(events),
        reading="A listed IP shows its blocks jump at the dotted marker while the other IPs stay flat: the "
        "messages were refused for the IP's reputation, not because the addresses died.",
    ), thin_errors=True), title=("{rate} by sending {what}", {"rate": names.get(rate, rate), "what": what}))


def bounce_category_timeline(df: pd.DataFrame, events: pd.DataFrame | None = None) -> go.Figure:
    """Bounce rate per send by category over time (``bounce_categories`` with a time grain), with listings."""
    wide = _wide(df, "period_start", "category", "bounce_rate")
    present = set(df["category"])
    order = ("invalid_mailbox", "bad_domain", "mailbox_full", "policy_block", "content", "other")
    categories = [c for c in order if c in present]
    return _tidy(timeline(
        wide, "period_start", categories, title="Why messages bounced, over time",
        x_title="Period start (UTC)", y_title="Bounces of the category / sends",
        labels={"invalid_mailbox": "invalid mailbox", "bad_domain": "bad domain",
                "mailbox_full": "mailbox full", "policy_block": "policy or reputation block",
                "content": "content", "other": "other"},
        events=_listing_events(events),
        reading="Dead addresses show as invalid mailbox and bad domain; a blocklisting shows as a jump in "
        "policy or reputation blocks at the dotted marker, which suppressing addresses would not cure.",
    ), thin_errors=True)


def provider_complaints_chart(df: pd.DataFrame) -> go.Figure:
    """Both complaint-rate denominators per mailbox provider, pooled (``sender_health(by="provider",
    grain="period")``)."""
    data = df.assign(provider=df["dimension_value"].where(df["dimension_value"] != "gmail",
                                                          "gmail (Postmaster Tools only)"))
    return _tidy(rate_chart(
        data, "provider", ["complaint_rate", "complaint_rate_fbl"], kind="bar",
        labels={"complaint_rate": "complaints / all delivered",
                "complaint_rate_fbl": "complaints / delivered to providers reporting per message"},
        title="Complaint rate by mailbox provider, on both denominators",
        x_title="Mailbox provider", y_title="Complaint rate",
        reading="Only providers with a per-message feedback loop (Yahoo, Microsoft, Signal Spam for the "
        "French ISPs) have the second bar; compare it with 0.1%/0.3%. Gmail's rate exists only in "
        "Postmaster Tools: its bar here counts Signal Spam reports alone and understates it.",
    ))


def risk_chart(df: pd.DataFrame) -> go.Figure:
    """The risk components of each account (old and never-engaged shares), riskiest first."""
    order = ["risk_rank", "risk_score"] if df["risk_rank"].notna().any() else ["risk_score"]
    data = df.sort_values(order, ascending=[True, False][-len(order):]).assign(
        account=lambda d: d["account_id"].astype(str) + " (score " + d["risk_score"].round(2).astype(str)
        + ("" if "shared_ip_sends" not in d else d["shared_ip_sends"].gt(0).map({True: ", shared IP",
                                                                                 False: ", own IPs"})) + ")")
    return _tidy(rate_chart(
        data, "account", ["old_address_share", "never_engaged_share", "hard_bounce_rate"], kind="bar",
        labels={"old_address_share": "addresses collected long ago", "never_engaged_share": "never engaged",
                "hard_bounce_rate": "hard-bounce rate (per send)"},
        title="Accounts by risk to the shared sending IPs",
        x_title="Account (risk score: 1 = at the lines on average)", y_title="Share",
        reading="Old, never-engaged addresses come before the complaints and the blocklisting: an account "
        "high on both, sending through shared IPs, is the one to stop before it lists the pool.",
    ))


def compliance_chart(df: pd.DataFrame) -> go.Figure:
    """Messages sent to people who had opted out, complained or hard-bounced, per account."""
    return _tidy(rate_chart(
        df, "account_id", ["sent_after_unsubscribe_rate", "sent_after_unsubscribe_over_2d_rate",
                           "sent_after_complaint_rate", "sent_after_hard_bounce_rate"], kind="bar",
        labels={"sent_after_unsubscribe_rate": "after an unsubscribe",
                "sent_after_unsubscribe_over_2d_rate": "more than 2 days after an unsubscribe",
                "sent_after_complaint_rate": "after a complaint",
                "sent_after_hard_bounce_rate": "after a hard bounce (dead address)"},
        title="Messages sent to people who had asked to stop, per account",
        x_title="Account", y_title="Share of messages sent",
        reading="Every bar should be zero. Mail within 2 days of an unsubscribe is tolerated by Gmail and "
        "Yahoo; after that, or after a complaint or a hard bounce, it is a suppression failure.",
    ))


def honour_time_chart(df: pd.DataFrame, rule_hours: float = 48) -> go.Figure:
    """Time from an unsubscribe to the last message sent after it, per account, against the 2-day rule."""
    fig = rate_chart(
        df, "account_id", ["honour_hours_median", "honour_hours_p95", "honour_hours_max"], kind="bar",
        percent=False,
        labels={"honour_hours_median": "median", "honour_hours_p95": "95th percentile",
                "honour_hours_max": "longest"},
        title="Time to honour an unsubscribe (unsubscribes followed by a message)",
        x_title="Account", y_title="Hours from the unsubscribe to the last message after it",
        reading="Only unsubscribes followed by a message count here (the others were honoured at once, and "
        "are in the table). Bars over the dashed line break the 2-day rule of Gmail and Yahoo.",
    )
    fig.add_hline(y=rule_hours, line_dash="dash", line_color="#b5384b", annotation_text="2-day rule",
                  annotation_position="top left")
    return _tidy(fig)
