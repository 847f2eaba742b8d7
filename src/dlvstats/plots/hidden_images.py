"""Figures for the hidden-images analysis (notebook 03). DataFrames from
``dlvstats.metrics.hidden_images`` in, plotly Figures out; each carries a ``reading`` note."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dlvstats.plots.base import rate_chart


def _label_unmeasurable(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    imprecise = out["note"].fillna("").str.startswith("imprecise")
    flag = imprecise.map({True: " (imprecise)", False: " (unmeasurable)"})
    out["provider_label"] = out["provider"].where(out["is_measurable"], out["provider"] + flag)
    return out


def read_rate_by_provider_chart(df: pd.DataFrame) -> go.Figure:
    """Measured open rate against the estimated read rate, per provider, with intervals."""
    data = _label_unmeasurable(df)
    return rate_chart(
        data, "provider_label", ["measured_open_rate", "est_read_rate"], kind="bar",
        labels={"measured_open_rate": "measured open rate", "est_read_rate": "estimated read rate"},
        title="Measured opens against estimated readers, by mailbox provider",
        x_title="Mailbox provider", y_title="Share of delivered messages without a machine open",
        reading="The gap between the two bars is the readers whose images were blocked. Providers marked "
        "unmeasurable (Apple Mail Privacy Protection) get no estimate: their opens are machine prefetches; "
        "'imprecise' ones have too few clicking people for a blocked share of their own.",
    )


def blocked_share_by_provider_chart(df: pd.DataFrame) -> go.Figure:
    data = _label_unmeasurable(df)
    return rate_chart(
        data, "provider_label", ["image_blocked_share"], kind="bar",
        labels={"image_blocked_share": "human clickers without an open"},
        title="Share of readers whose images were blocked, by mailbox provider",
        x_title="Mailbox provider", y_title="Human clickers without a human open",
        reading="Higher where people read in clients that block images by default (Outlook desktop, "
        "Thunderbird, corporate mail). Wide intervals mean few human clickers.",
    )


def blocked_share_by_device_chart(df: pd.DataFrame) -> go.Figure:
    data = df.assign(device=df["device_os"] + " / " + df["form_factor"])
    return rate_chart(
        data, "device", ["image_blocked_share"], kind="bar",
        labels={"image_blocked_share": "clickers without an open"},
        title="Image-blocked share by the clicking device",
        x_title="Device and OS of the click", y_title="Human clickers without a human open",
        reading="Blocked readers leave no open user agent, so the click's browser is the only trace of "
        "their device. Desktop Windows is where Outlook blocks images by default.",
    )


def opener_clients_chart(df: pd.DataFrame) -> go.Figure:
    return rate_chart(
        df, "client", ["share_of_openers"], kind="bar", labels={"share_of_openers": "share of human openers"},
        title="Mail clients of the human openers",
        x_title="Mail client (from the open's user agent)", y_title="Share of human openers",
        reading="Only readers who loaded images appear here; Gmail's and Yahoo's proxies hide the client "
        "behind their own user agent, so their readers are a block of their own.",
    )


def read_rate_by_age_chart(df: pd.DataFrame) -> go.Figure:
    df = df[df["age_years"].notna()].astype({"age_years": float})  # the unknown-age row stays in the table
    return rate_chart(
        df, "age_years", ["measured_open_rate", "est_read_rate", "image_blocked_share"],
        labels={"measured_open_rate": "measured open rate", "est_read_rate": "estimated read rate",
                "image_blocked_share": "clickers without an open (this age's own share)"},
        title="Measured opens, estimated readers and blocked share by address age",
        x_title="Address age (years since collected)", y_title="Share",
        reading="The estimate applies each provider's pooled blocked share to each age's openers, so old "
        "addresses are not inflated by their few clickers; the blocked-share line is shown only to check "
        "that it does not drift with age.",
    )


def estimator_checks_chart(df: pd.DataFrame) -> go.Figure:
    data = df[df["provider"] == "all"]
    return rate_chart(
        data, "evidence", ["share_without_open"], kind="bar",
        labels={"share_without_open": "proven readers without an open"},
        title="Check of the estimator's assumption: readers without an open, by kind of proof",
        x_title="How we know the message was read", y_title="Share without a human open",
        reading="If clickers load images like other readers, every bar matches the first one within its "
        "interval; a clearly different bar means the blocked share is biased for that group.",
    )
