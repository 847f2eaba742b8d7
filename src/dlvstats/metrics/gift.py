"""Gift (and re-engagement) campaigns: who re-registered from list A to list B, what the move cost
on A, and whether the re-registrants buy - against the closest comparable group, the campaign's
human clickers who did not re-register.

Each table is computed by packaged DuckDB SQL (``sql/metrics/gift_*.sql``) on a read-only
connection; only small, already-aggregated tables reach pandas, where the 95% intervals are
added (clusters = recipients: ``finish_rates`` for rates, ``finish_means`` for money per message).
No output column holds a recipient address. Definitions: docs/metrics_gift_health.md.

Must not import plots, notebooks or the report.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dlvstats import db
from dlvstats.config import MIN_CELL_DELIVERED
from dlvstats.i18n import DEFAULT_LOCALE, format_message, locale_of
from dlvstats.metrics.cache import shared
from dlvstats.metrics.common import Z95, Period, finish_rates, readonly, wilson

KINDS = ("gift", "reengagement")

CAMPAIGN_RATES = [
    "human_open_rate", "human_click_rate", "rereg_rate", "complaint_rate", "unsubscribe_rate",
    "hard_bounce_rate", "engaged_next_rate_90d", "buyer_rate_90d", "control_buyer_rate_90d",
]
KIND_RATES = ["human_open_rate", "human_click_rate", "complaint_rate", "unsubscribe_rate", "hard_bounce_rate"]
MEANS = ["revenue_per_delivered", "click_revenue_per_delivered_7d"]
#: The columns notebooks show of each table (every column stays in the DataFrame and the CSV).
CAMPAIGN_COLUMNS = [
    "account_id", "campaign_id", "sent_at", "delivered", "human_opener_recipients", "human_clicker_recipients", "reregistered",
    "rereg_rate", "rereg_rate_low", "rereg_rate_high", "removed_from_source", "complaints", "complaint_rate",
    "unsubscribe_rate", "buyers_90d", "buyer_rate_90d", "control_clickers", "control_buyers_90d",
    "control_buyer_rate_90d", "is_immature", "small_cell",
]
BUYER_COLUMNS = [
    "account_id", "campaign_id", "reregistered", "buyers_90d", "buyer_rate_90d", "buyer_rate_90d_low",
    "buyer_rate_90d_high", "control_clickers", "control_buyers_90d", "control_buyer_rate_90d",
    "control_buyer_rate_90d_low", "control_buyer_rate_90d_high", "is_immature", "small_cell_buyers",
]
COMEBACK_COLUMNS = [
    "account_id", "campaign_id", "sent_at", "delivered", "human_clicker_recipients", "reregistered", "rereg_rate",
    "engaged_next_90d", "engaged_next_rate_90d", "engaged_next_rate_90d_low", "engaged_next_rate_90d_high",
    "buyers_90d", "control_buyer_rate_90d", "complaint_rate", "unsubscribe_rate", "is_immature",
]
GREY_RATES = [
    "human_open_rate", "human_click_rate", "complaint_rate", "unsubscribe_rate", "hard_bounce_rate",
    "buyer_share",
]


#: What rests on `orders`: without any order of the account in the data these are unknown, not 0.
ORDER_COLUMNS = ["buyers_90d", "buyer_rate_90d", "buyer_rate_90d_low", "buyer_rate_90d_high", "control_buyers_90d",
                 "control_buyer_rate_90d", "control_buyer_rate_90d_low", "control_buyer_rate_90d_high",
                 "revenue_per_delivered", "revenue_per_delivered_low", "revenue_per_delivered_high",
                 "click_revenue_per_delivered_7d", "click_revenue_per_delivered_7d_low",
                 "click_revenue_per_delivered_7d_high", "buyer_share", "buyer_share_low", "buyer_share_high"]


def mark_missing_orders(con, frame: pd.DataFrame) -> pd.DataFrame:
    """``orders_loaded`` per row (the account has at least one order in the data); where it has none,
    every figure that rests on orders is NA: "no order was loaded" is not "nobody bought"."""
    with_orders = {r[0] for r in con.execute("SELECT DISTINCT account_id FROM orders").fetchall()}
    out = frame.copy()
    out["orders_loaded"] = out["account_id"].isin(with_orders) if "account_id" in out.columns else bool(with_orders)
    missing = ~out["orders_loaded"]
    if missing.any():
        for column in ORDER_COLUMNS:
            if column in out.columns:
                out[column] = out[column].astype(float)
                out.loc[missing, column] = np.nan
    return out


def finish_means(df: pd.DataFrame, means: list[str], z: float = Z95) -> pd.DataFrame:
    """Like ``finish_rates`` for means that are not proportions (money per delivered message).

    From the cluster sums ``M__num`` ... ``M__k`` (clusters = recipients) gives ``M`` = Σy/Σn and a
    normal interval ``M_low``/``M_high`` from the linearised ratio-estimator variance
    Σ(y_i − M·n_i)² / (Σn)² · k/(k−1), floored at zero.
    """
    out = df.copy()
    for mean in means:
        cols = [f"{mean}__{s}" for s in ("num", "den", "y2", "yn", "n2", "k")]
        num, den, y2, yn, n2, k = (out[c].to_numpy(dtype=float) for c in cols)
        with np.errstate(divide="ignore", invalid="ignore"):
            m = np.where(den > 0, num / den, np.nan)
            resid = np.maximum(y2 - 2 * m * yn + m**2 * n2, 0.0)
            se = np.where(k > 1, np.sqrt(resid / den**2 * k / (k - 1)), np.nan)
        out[mean] = m
        out[f"{mean}_low"] = np.maximum(m - z * se, 0.0)
        out[f"{mean}_high"] = m + z * se
        out = out.drop(columns=cols)
    return out


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r}: choose one of {', '.join(KINDS)}")
    return kind


@shared
def gift_campaigns(
    db_path: str | Path,
    date_from,
    date_to,
    account_id: str | None = None,
    *,
    kind: str = "gift",
    min_delivered: int = MIN_CELL_DELIVERED,
    min_reregistered: int = 30,
) -> pd.DataFrame:
    """One row per campaign of ``kind`` ('gift' or 'reengagement') sent in [date_from, date_to).

    Public columns: ``campaign_id, sent_at, delivered, human_opener_recipients, human_clicker_recipients,
    reregistered, rereg_rate, removed_from_source, complaints, complaint_rate, unsubscribe_rate,
    buyers_90d, buyer_rate_90d, control_buyer_rate_90d`` with ``_low``/``_high`` intervals, plus
    counts behind every rate (``control_clickers``, ``control_buyers_90d``, ``unsubscribes``, ...),
    ``engaged_next_rate_90d`` (who came back), revenue per delivered message, ``is_immature``
    (the 90-day windows run past the data), ``small_cell`` (delivered < ``min_delivered``) and
    ``small_cell_buyers`` (fewer than ``min_reregistered`` re-registrants behind buyer_rate_90d).
    Every definition: ``sql/metrics/gift_campaigns.sql``.
    """
    period = Period.parse(date_from, date_to)
    with readonly(db_path) as con:
        frame = db.query_df(con, "metrics/gift_campaigns", kind=_check_kind(kind), account_id=account_id,
                            **period.params())
        frame = finish_means(frame, MEANS)
        frame = finish_rates(frame, CAMPAIGN_RATES, min_delivered=min_delivered)
        frame["small_cell_buyers"] = frame["reregistered"] < min_reregistered
        return mark_missing_orders(con, frame)


def add_pooled(frame: pd.DataFrame, min_reregistered: int = 30) -> pd.DataFrame:
    """The campaigns table with one more row per account: its mature campaigns pooled.

    Per-campaign buyer rates rest on a few dozen re-registrants each; pooled, the comparison with the
    control says something. The pooled row (``campaign_id`` = 'pooled (mature, <account>)', ``sent_at`` = the
    first campaign's) sums the counts of the campaigns that are not ``is_immature`` and recomputes
    ``rereg_rate``, ``buyer_rate_90d``, ``control_buyer_rate_90d`` and ``human_click_rate`` with
    Wilson intervals (a person re-registers once; a control clicker of two campaigns counts twice, a
    small approximation).
    """
    mature = frame[~frame["is_immature"].astype(bool)]
    if mature.empty:
        return frame
    sums = mature.groupby("account_id", as_index=False).agg(
        sent_at=("sent_at", "min"), delivered=("delivered", "sum"), human_clicker_recipients=("human_clicker_recipients", "sum"),
        reregistered=("reregistered", "sum"), buyers_90d=("buyers_90d", "sum"),
        control_clickers=("control_clickers", "sum"), control_buyers_90d=("control_buyers_90d", "sum"),
        removed_from_source=("removed_from_source", "sum"), complaints=("complaints", "sum"),
    )
    sums["campaign_id"] = "pooled (mature, " + sums["account_id"].astype(str) + ")"
    sums["is_immature"] = False
    for rate, num, den in [("rereg_rate", "reregistered", "delivered"),
                           ("human_click_rate", "human_clicker_recipients", "delivered"),
                           ("buyer_rate_90d", "buyers_90d", "reregistered"),
                           ("control_buyer_rate_90d", "control_buyers_90d", "control_clickers")]:
        sums[rate], sums[f"{rate}_low"], sums[f"{rate}_high"] = wilson(sums[num], sums[den])
    sums["small_cell"] = sums["delivered"] < MIN_CELL_DELIVERED
    sums["small_cell_buyers"] = sums["reregistered"] < min_reregistered
    if "orders_loaded" in mature.columns:  # an account without orders: its buyer figures stay unknown
        loaded = mature.groupby("account_id")["orders_loaded"].all()
        sums["orders_loaded"] = sums["account_id"].map(loaded).astype(bool)
        for column in ORDER_COLUMNS:
            if column in sums.columns:
                sums[column] = sums[column].astype(float)
                sums.loc[~sums["orders_loaded"], column] = np.nan
    return pd.concat([frame, sums], ignore_index=True)


def reengagement_campaigns(db_path: str | Path, date_from, date_to, account_id: str | None = None,
                           **options) -> pd.DataFrame:
    """The gift-campaigns view for campaigns of kind 'reengagement': who came back (re-registered,
    engaged again within 90 days) and what they did next (bought, against the clickers who did not)."""
    options.pop("kind", None)
    return gift_campaigns(db_path, date_from, date_to, account_id, kind="reengagement", **options)


@shared
def campaign_kinds(
    db_path: str | Path,
    date_from,
    date_to,
    account_id: str | None = None,
    *,
    min_delivered: int = MIN_CELL_DELIVERED,
) -> pd.DataFrame:
    """Gift campaigns against the account's regular (and other) campaigns: one row per
    (account_id, kind) with engagement, complaint, unsubscribe and bounce rates and revenue per
    delivered message, each with its interval (``sql/metrics/gift_campaign_kinds.sql``)."""
    period = Period.parse(date_from, date_to)
    with readonly(db_path) as con:
        frame = db.query_df(con, "metrics/gift_campaign_kinds", account_id=account_id, **period.params())
        frame = finish_means(frame, MEANS)
        return mark_missing_orders(con, finish_rates(frame, KIND_RATES, min_delivered=min_delivered))


@shared
def gift_migration(
    db_path: str | Path,
    date_from,
    date_to,
    account_id: str | None = None,
    *,
    kind: str = "gift",
    min_delivered: int = MIN_CELL_DELIVERED,
) -> pd.DataFrame:
    """The A -> B migration: per source list and gift send k, the share of list A's cohort that has
    re-registered after k gift sends (``cum_rereg_share``) and what remains on A
    (``remaining_on_source``, ``remaining_share``: the grey list), with Wilson intervals."""
    period = Period.parse(date_from, date_to)
    with readonly(db_path) as con:
        frame = db.query_df(con, "metrics/gift_migration", kind=_check_kind(kind), account_id=account_id,
                            **period.params())
    return finish_rates(frame, ["cum_rereg_share", "remaining_share"], min_delivered=min_delivered,
                        volume_column="cohort_size")


@shared
def grey_list(
    db_path: str | Path,
    date_from,
    date_to,
    account_id: str | None = None,
    *,
    kind: str = "gift",
    min_delivered: int = MIN_CELL_DELIVERED,
) -> pd.DataFrame:
    """How the gift cohort behaves between gift sends, by segment: 'migrated' (on list B), 'grey'
    (still on A, never moved), 'left'. One row per (account_id, list_id, gift_number, segment)
    with open, click, complaint, unsubscribe, hard-bounce rates and the share who bought."""
    period = Period.parse(date_from, date_to)
    with readonly(db_path) as con:
        frame = db.query_df(con, "metrics/gift_grey_list", kind=_check_kind(kind), account_id=account_id,
                            **period.params())
        return mark_missing_orders(con, finish_rates(frame, GREY_RATES, min_delivered=min_delivered))


#: The trailing window, in months, over which the monthly report pools the matured gift campaigns.
MATURED_WINDOW_MONTHS = 12


def matured_pooled(db_path: str | Path, date_to, account_id: str | None = None, *,
                   window_months: int = MATURED_WINDOW_MONTHS, kind: str = "gift",
                   min_reregistered: int = 30) -> pd.DataFrame:
    """Do gift-takers buy, against the control? The campaigns of ``kind`` sent in the ``window_months``
    before ``date_to`` whose 90-day purchase windows are complete in the data, pooled per account
    (``add_pooled``), with ``window_from``/``window_to`` and ``campaigns_pooled`` stated. A month's own
    campaigns are still inside their windows; this answers the question every month. Empty when no
    campaign of the window has matured (say so: ``gift_in_plain_words``)."""
    end = pd.Timestamp(Period.parse("2000-01-01", date_to).end)
    start = end - pd.DateOffset(months=window_months)
    frame = gift_campaigns(db_path, start.to_pydatetime(), end.to_pydatetime(), account_id, kind=kind,
                           min_reregistered=min_reregistered)
    mature = frame[~frame["is_immature"].astype(bool)]
    pooled = add_pooled(mature, min_reregistered=min_reregistered)
    pooled = pooled[pooled["campaign_id"].astype(str).str.startswith("pooled")].copy()
    counts = mature.groupby("account_id").size()
    pooled["campaigns_pooled"] = pooled["account_id"].map(counts).astype("Int64")
    pooled["window_from"], pooled["window_to"] = f"{start:%Y-%m-%d}", f"{end:%Y-%m-%d}"
    return pooled.reset_index(drop=True)


def gift_in_plain_words(pooled: pd.DataFrame, window_months: int = MATURED_WINDOW_MONTHS,
                        locale: str = DEFAULT_LOCALE) -> str:
    """One sentence per account from ``matured_pooled``: buyer rate of re-registrants against the control,
    in the reader's language."""
    if locale != DEFAULT_LOCALE:
        return _gift_in_plain_words_localized(pooled, window_months, locale)
    if pooled.empty:
        return (f"No gift campaign of the last {window_months} months has a complete 90-day purchase window "
                "yet (or no campaign kinds, subscriptions or orders are loaded): whether gift-takers buy cannot "
                "be answered.")
    parts = []
    for row in pooled.itertuples(index=False):
        if not getattr(row, "orders_loaded", True):
            parts.append(f"{row.account_id}: no order is loaded for this account, so whether its gift-takers buy "
                         "cannot be answered (load its orders: docs/inputs.md).")
            continue
        parts.append(
            f"{row.account_id}: over {int(row.campaigns_pooled)} matured gift campaign(s) of {row.window_from} to "
            f"{row.window_to}, {row.buyer_rate_90d:.1%} of {int(row.reregistered):,} gift-takers bought within 90 "
            f"days (95% {row.buyer_rate_90d_low:.1%}-{row.buyer_rate_90d_high:.1%}) against "
            f"{row.control_buyer_rate_90d:.1%} of {int(row.control_clickers):,} comparable clickers "
            f"(95% {row.control_buyer_rate_90d_low:.1%}-{row.control_buyer_rate_90d_high:.1%})"
            + (" - too few gift-takers to conclude" if row.small_cell_buyers else "") + ".")
    return " ".join(parts)


def _gift_in_plain_words_localized(pooled: pd.DataFrame, window_months: int, locale: str) -> str:
    """``gift_in_plain_words`` through the catalogue (dates as the table gives them)."""
    loc = locale_of(locale)
    if pooled.empty:
        return format_message(loc, "No gift campaign of the last {months} months has a complete 90-day purchase "
                                   "window yet (or no campaign kinds, subscriptions or orders are loaded): whether "
                                   "gift-takers buy cannot be answered.", {"months": window_months})
    parts = []
    for row in pooled.itertuples(index=False):
        if not getattr(row, "orders_loaded", True):
            parts.append(format_message(loc, "{account}: no order is loaded for this account, so whether its "
                                             "gift-takers buy cannot be answered (load its orders: docs/inputs.md).",
                                        {"account": str(row.account_id)}))
            continue
        template = ("{account}: over {campaigns} matured gift campaign(s) of {start} to {end}, {rate} of {takers} "
                    "gift-takers bought within 90 days (95% {low}-{high}) against {control} of {clickers} "
                    "comparable clickers (95% {control_low}-{control_high})")
        if row.small_cell_buyers:
            template += " - too few gift-takers to conclude"
        parts.append(format_message(loc, template + ".", {
            "account": str(row.account_id), "campaigns": int(row.campaigns_pooled), "start": str(row.window_from),
            "end": str(row.window_to), "rate": ("percent", row.buyer_rate_90d, 1),
            "takers": ("integer", int(row.reregistered)), "low": ("percent", row.buyer_rate_90d_low, 1),
            "high": ("percent", row.buyer_rate_90d_high, 1), "control": ("percent", row.control_buyer_rate_90d, 1),
            "clickers": ("integer", int(row.control_clickers)),
            "control_low": ("percent", row.control_buyer_rate_90d_low, 1),
            "control_high": ("percent", row.control_buyer_rate_90d_high, 1)}))
    return " ".join(parts)
