"""Headline figures, the 12-month trend, the data-maturity notes and the summary table.

Every function here takes the small metric tables (pandas frames) a report run computed and returns
formatted figures and sentences in the reader's language; none opens a database or calls a metric
(``dlvstats.report.metric_run`` does that, once per table). Rates shown are the metrics' own, pooled
as sums of counts over sums of denominators, never averages of rates. Must not import the report,
papermill or the mail module.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dlvstats.formatting import DASH, format_change, format_interval, format_value, number
from dlvstats.i18n import ENGLISH, Locale
from dlvstats.months import month_bounds, month_label, month_shift, month_short
from dlvstats.summary.model import Headline, Summary

#: Opens, clicks and complaints of a campaign mostly arrive within a week of its sending.
IMMATURE_DAYS = 7
#: Gift-campaign purchases are followed for 90 days.
PURCHASE_WINDOW_DAYS = 90

# --------------------------------------------------------------------------------------------------
# Headline figures

_HEALTH_COLUMNS = ("sends", "delivered", "complaints", "complaint_rate", "complaint_rate_fbl", "delivered_fbl",
                   "hard_bounces", "hard_bounce_rate", "blocklist_listings")
_POOLED_RATES = ("open_rate", "human_open_rate", "human_click_rate", "unsubscribe_rate")
#: Rates pooled from the engagement-by-age table when the headline-rates table lacks them:
#: (numerator, denominator) columns; the age buckets partition the month's messages.
_ENGAGEMENT_POOLED = {
    "human_open_rate": ("human_openers", "delivered"),
    "human_click_rate": ("human_clickers", "delivered"),
    "unsubscribe_rate": ("unsubscribes", "delivered"),
    "est_read_rate": ("est_readers", "measurable_delivered"),
}


def headline_totals(health_month=None, pooled_rates=None, engagement=None) -> dict:
    """The month's headline figures (``key``, ``key_low``, ``key_high``), each from the table that
    defines it: sender health pooled over the month (its ``all`` row), the headline rates, and the
    engagement-by-age table for what the rates table lacks."""
    totals: dict = {}
    if health_month is not None:
        rows = health_month[health_month["dimension"] == "all"]
        if len(rows):
            row = rows.iloc[0]
            for column in _HEALTH_COLUMNS:
                if column in health_month.columns:
                    totals[column] = number(row[column])
                for bound in ("low", "high"):
                    if f"{column}_{bound}" in health_month.columns:
                        totals[f"{column}_{bound}"] = number(row[f"{column}_{bound}"])
            if totals.get("sends"):
                from dlvstats.metrics.common import wilson

                # a message is delivered or not whoever it goes to: a plain Wilson interval
                rate, low, high = wilson(totals.get("delivered") or 0, totals["sends"])
                totals["delivery_rate"] = float(rate)
                totals["delivery_rate_low"], totals["delivery_rate_high"] = float(low), float(high)
    if pooled_rates is not None and len(pooled_rates):
        row = pooled_rates.iloc[0]
        for rate in _POOLED_RATES:
            for column in (rate, f"{rate}_low", f"{rate}_high"):
                totals[column] = number(row[column])
    if engagement is not None:
        for rate, (num, den) in _ENGAGEMENT_POOLED.items():
            if rate not in totals and num in engagement.columns and den in engagement.columns:
                total = number(engagement[den].sum())
                if total:
                    totals[rate] = number(engagement[num].sum()) / total
    return totals


#: (key, label, kind, which direction is good, decimals of a percentage, note). Complaint and
#: unsubscribe rates live around 0.1%: they get three decimals, or 0.01% and 0.02% would look alike.
HEADLINE_SPECS = [
    ("sends", "Messages sent", "count", "neutral", 0, ""),
    ("delivered", "Delivered", "count", "neutral", 0, ""),
    ("delivery_rate", "Delivery rate", "rate", "good", 2, "delivered / sent"),
    ("hard_bounce_rate", "Hard-bounce rate", "rate", "bad", 2, "per message sent"),
    ("complaint_rate_fbl", "Complaint rate (providers with a feedback loop)", "rate", "bad", 3,
     "the rate to hold against the 0.1% and 0.3% lines; Gmail's own rate is only in Postmaster Tools"),
    ("complaint_rate", "Complaint rate (all delivered)", "rate", "bad", 3, ""),
    ("human_open_rate", "Human open rate", "rate", "good", 2, "human opens / delivered messages; machine opens (Apple MPP, scanners) excluded"),
    ("open_rate", "Open rate as ESPs count it", "rate", "neutral", 2,
     "every open, machine opens included: the figure an ESP's dashboard shows, to reconcile with it"),
    ("est_read_rate", "Estimated read rate", "rate", "good", 2,
     ("readers / delivered messages without a machine open (what Apple MPP prefetches hide is left out, so "
     "not the human open rate's denominator); readers whose images were blocked included; its intervals "
     "are by provider and by age, in the analyses")),
    ("human_click_rate", "Click rate", "rate", "good", 2, "human clickers / delivered; unsubscribe links excluded"),
    ("unsubscribe_rate", "Unsubscribe rate", "rate", "bad", 3, "people leaving the list by themselves"),
    ("blocklist_listings", "Blocklist listings", "count", "bad", 0, "of the sending IPs and domains"),
]


def headlines(now: dict, before: dict, loc: Locale | None = None, year_before: dict | None = None) -> list[Headline]:
    """The headline rows: this month, the previous one and the change, and (``year_before``: the
    same month a year earlier, from the trend) the figure of a year before where the data reach."""
    loc = loc or ENGLISH
    year_before = year_before or {}
    rows = []
    for key, label, kind, higher_is, digits, note in HEADLINE_SPECS:
        if key not in now:
            continue
        change, tone = format_change(kind, now.get(key), before.get(key), higher_is, digits, loc)
        rows.append(Headline(
            label=loc.gettext(label), value=format_value(now.get(key), kind, digits, loc),
            previous=format_value(before.get(key), kind, digits, loc) if key in before else "",
            change=change, tone=tone, note=loc.gettext(note),
            interval=format_interval(now.get(f"{key}_low"), now.get(f"{key}_high"), kind, digits, loc),
            year_before=(format_value(year_before[key], kind, digits, loc)
                         if year_before.get(key) is not None else "")))
    return rows


# --------------------------------------------------------------------------------------------------
# The 12-month trend

#: The headlines the trend carries (the per-message rates and counts of each month's messages).
TREND_KEYS = ("sends", "delivered", "delivery_rate", "hard_bounce_rate", "complaint_rate", "human_open_rate",
              "open_rate", "human_click_rate", "unsubscribe_rate")
#: The trend table's columns: (key, kind, decimals of a percentage).
TREND_COLUMNS = (("sends", "count", 0), ("delivery_rate", "rate", 2), ("hard_bounce_rate", "rate", 2),
                 ("complaint_rate", "rate", 3), ("human_open_rate", "rate", 2), ("open_rate", "rate", 2),
                 ("human_click_rate", "rate", 2), ("unsubscribe_rate", "rate", 3))


def year_before_totals(trend, month: str) -> dict:
    """The trend's row for the same month a year earlier, as headline totals (empty when the data do
    not reach back that far)."""
    if trend is None or not len(trend):
        return {}
    rows = trend[trend["month"] == month_shift(month, -12)]
    if not len(rows):
        return {}
    row = rows.iloc[0]
    return {key: number(row[key]) for key in TREND_KEYS if key in trend.columns}


def trend_rows(trend, month: str, loc: Locale | None = None) -> list[dict]:
    """The trend's months, newest first, formatted for the page (a dozen rows)."""
    loc = loc or ENGLISH
    if trend is None or not len(trend):
        return []
    rows = []
    for record in trend.sort_values("month", ascending=False).to_dict("records"):
        cells = []
        for key, kind, digits in TREND_COLUMNS:
            value = number(record.get(key))
            cells.append(DASH if value is None else format_value(value, kind, digits, loc))
        rows.append({"month": month_short(record["month"], loc), "current": record["month"] == month,
                     "cells": cells})
    return rows


# --------------------------------------------------------------------------------------------------
# Notes: what is not settled yet


def _late_share(daily_sends, cutoff: datetime) -> float | None:
    """The share of the month's messages sent on or after ``cutoff``, from sender health by day."""
    if daily_sends is None or not len(daily_sends):
        return None
    # One dimension's rows partition the messages (accounts in the ESP's report, 'all' in a pack).
    sends = daily_sends[daily_sends["dimension"] == daily_sends["dimension"].iloc[0]]
    total = number(sends["sends"].sum())
    late = number(sends.loc[sends["period_start"] >= cutoff, "sends"].sum())
    return late / total if total else None


def _gift_note(gift, loc: Locale) -> str | None:
    if gift is None or not len(gift) or "is_immature" not in gift.columns:
        return None
    late = gift[gift["is_immature"].fillna(False).astype(bool)]
    if not len(late):
        return None
    names = ", ".join(f"“{n}”" for n in late.get("name", late.get("campaign_id")).astype(str).head(5))
    more = loc.gettext(" and {count} more").format(count=len(late) - 5) if len(late) > 5 else ""
    return loc.ngettext(
        "{count} gift campaign ({names}{more}) has a {days}-day purchase window that runs past the "
        "data: buyer rates are provisional.",
        "{count} gift campaigns ({names}{more}) have a {days}-day purchase window that runs past the "
        "data: buyer rates are provisional.", len(late)).format(
        count=loc.integer(len(late)), names=names, more=more, days=PURCHASE_WINDOW_DAYS)


def maturity_notes(month: str, data_end: datetime | None, daily_sends=None, gift=None,
                   timezone: str | None = "UTC", loc: Locale | None = None) -> list[str]:
    """What is not settled yet: late events of the last campaigns, 90-day purchases, and the
    month-over-month comparison (the previous month has had longer to collect its late events)."""
    loc = loc or ENGLISH
    _ = loc.gettext
    start, end = month_bounds(month, timezone)
    if data_end is None:
        return [_("The database holds no sends, opens, clicks or complaints.")]
    if data_end < start:
        return [_("The data ends {end} UTC, before {month} begins: nothing of this month is loaded yet.").format(
            end=loc.moment(data_end), month=month_label(month, loc))]
    cutoff = min(end, data_end) - timedelta(days=IMMATURE_DAYS)
    share = _late_share(daily_sends, cutoff)
    what = (_("{share} of the month's messages").format(share=loc.percent(share, 1)) if share is not None
            else _("The messages"))
    notes = [_("Immature campaigns: {what} went out on or after {cutoff}, less than {days} days before the "
               "data ends ({end} UTC). Their opens, clicks and complaints are still arriving, so this "
               "month's rates will still rise a little.").format(
        what=what, cutoff=loc.day(cutoff), days=IMMATURE_DAYS, end=loc.moment(data_end))]
    gift_note = _gift_note(gift, loc)
    if gift_note:
        notes.append(gift_note)
    notes.append(_("Month-over-month changes compare this month as measured now with the previous month, "
                   "which has had a month longer to collect its late opens, clicks and complaints: this "
                   "month's engagement and complaint rates are understated in comparison."))
    return notes


def no_sends_note(month: str, account_id: str | None, loc: Locale | None = None) -> str:
    loc = loc or ENGLISH
    text = (loc.gettext("No message was sent in {month} by account {account}: check the month and the account id.")
            if account_id else
            loc.gettext("No message was sent in {month} at all: check the month and that its drop was loaded."))
    return text.format(month=month_label(month, loc), account=account_id)


def summary_frame(summary: Summary):
    """The summary as the ``summary.csv`` table: headlines, alerts and notes, one row each."""
    import pandas as pd

    rows = [{"kind": "headline", "label": h.label, "value": h.value, "previous_month": h.previous,
             "change": h.change, "year_before": h.year_before, "note": h.note} for h in summary.headlines]
    rows += [{"kind": f"alert:{a.level}", "label": a.text} for a in summary.alerts]
    rows += [{"kind": "note", "label": n} for n in summary.notes]
    return pd.DataFrame(rows, columns=["kind", "label", "value", "previous_month", "change", "year_before", "note"])
