"""What each campaign did: the headline rates per campaign, for the report's per-campaign section.

One row per campaign with messages sent in the period (``sql/metrics/campaign_summary.sql``), on
the headline definitions (so a campaign's rates add up to the month's), each rate with its 95 %
interval clustered by recipient; ``small_cell`` under ``min_delivered`` delivered messages.
"""

from __future__ import annotations

import pandas as pd

from dlvstats import db
from dlvstats.config import MIN_CELL_DELIVERED
from dlvstats.i18n import DEFAULT_LOCALE, format_message, locale_of
from dlvstats.metrics.common import Period, finish_rates, readonly

RATES = ["delivery_rate", "hard_bounce_rate", "open_rate", "human_open_rate", "human_click_rate", "unsubscribe_rate",
         "complaint_rate"]
#: What the notebook shows; the CSV has every column (counts and intervals).
DISPLAY_COLUMNS = ["account_id", "campaign_id", "campaign_name", "campaign_kind", "first_sent_at", "delivered",
                   "human_open_rate", "human_click_rate", "unsubscribe_rate", "complaint_rate", "hard_bounce_rate",
                   "open_rate", "small_cell"]


def campaign_summary(db_path, date_from, date_to, account_id: str | None = None, *,
                     min_delivered: int = MIN_CELL_DELIVERED) -> pd.DataFrame:
    """One row per (account, campaign) of the period: ``campaign_name``, ``campaign_kind`` (from the
    campaigns file; empty when none describes it), ``first_sent_at``, the counts (``sends, delivered,
    hard_bounces, openers, human_openers, human_clickers, unsubscribes, complaints``) and the rates
    ``RATES`` with ``_low``/``_high``. Every message of the period is in exactly one row."""
    period = Period.parse(date_from, date_to)
    with readonly(db_path) as con:
        raw = db.query_df(con, "metrics/campaign_summary", **period.params(), account_id=account_id)
    return finish_rates(raw, RATES, min_delivered=min_delivered).reset_index(drop=True)


def campaigns_in_plain_words(table: pd.DataFrame, locale: str = DEFAULT_LOCALE) -> str:
    """One or two sentences: how many campaigns, and which stood out (a handful of rows), in the
    reader's language (``locale``: the notebook's parameter)."""
    loc = locale_of(locale)
    if table.empty:
        return format_message(loc, "No campaign sent a message in this period.")
    sized = table[~table["small_cell"].astype(bool)]
    text = format_message(loc, "{campaigns} campaigns sent messages in this period ({sized} with enough volume to "
                               "compare).", {"campaigns": ("integer", len(table)), "sized": ("integer", len(sized))})
    if len(sized) >= 2:
        worst = sized.loc[sized["complaint_rate"].idxmax()]
        best = sized.loc[sized["human_click_rate"].idxmax()]

        def name(row):
            return str(row["campaign_name"]) if isinstance(row["campaign_name"], str) else str(row["campaign_id"])

        text += " " + format_message(
            loc, "Highest complaint rate: {worst} ({rate}, {complaints} of {delivered} delivered messages with a "
                 "complaint). Highest click rate: {best} ({click}).",
            {"worst": name(worst), "rate": ("percent", worst["complaint_rate"], 3),
             "complaints": ("integer", int(worst["complaints"])), "delivered": ("integer", int(worst["delivered"])),
             "best": name(best), "click": ("percent", best["human_click_rate"], 2)})
    return text
