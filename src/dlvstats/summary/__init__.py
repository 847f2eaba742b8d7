"""The report's summary: headline numbers, alerts, data-maturity notes, the 12-month trend and each
analysis's conclusion in a sentence. Frames in, dataclasses out.

Every function takes the small metric tables (pandas frames) of a report run and returns formatted
figures and sentences in the reader's language; none opens a database or calls a metric
(``dlvstats.report.metric_run`` computes each table once). Must not import the report, papermill
or the mail module.
"""

from dlvstats.summary.alerts import (
    HARD_BOUNCE_DAY_LINE,
    HARD_BOUNCE_DAY_MIN_SENDS,
    HARD_BOUNCE_LINE,
    blocklist_now_alerts,
    bounce_dimensions,
    daily_bounce_alerts,
    listing_alerts,
    month_alerts,
    open_listings,
    sort_alerts,
)
from dlvstats.summary.conclusions import age_conclusion, analysis_conclusions
from dlvstats.summary.headlines import (
    HEADLINE_SPECS,
    IMMATURE_DAYS,
    PURCHASE_WINDOW_DAYS,
    TREND_COLUMNS,
    TREND_KEYS,
    headline_totals,
    headlines,
    maturity_notes,
    no_sends_note,
    summary_frame,
    trend_rows,
    year_before_totals,
)
from dlvstats.summary.model import Alert, Headline, Summary

__all__ = [
    "HARD_BOUNCE_DAY_LINE", "HARD_BOUNCE_DAY_MIN_SENDS", "HARD_BOUNCE_LINE", "HEADLINE_SPECS", "IMMATURE_DAYS",
    "PURCHASE_WINDOW_DAYS", "TREND_COLUMNS", "TREND_KEYS", "Alert", "Headline", "Summary", "age_conclusion",
    "analysis_conclusions", "blocklist_now_alerts", "bounce_dimensions", "daily_bounce_alerts",
    "headline_totals", "headlines", "listing_alerts", "maturity_notes", "month_alerts", "no_sends_note",
    "open_listings", "sort_alerts", "summary_frame", "trend_rows", "year_before_totals",
]
