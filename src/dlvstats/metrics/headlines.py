"""The monthly report's pooled engagement headlines, each with its 95 % interval.

The report's headline table pools engagement-by-age over its age buckets. The pooled rate is the
sum of the buckets' numerators over the sum of their denominators. Its interval cannot be pooled
from the buckets' intervals: a person can fall in two buckets in one month. So this one-row metric
recomputes it from ``message_facts``, clustered by recipient like every other rate. The numbers are
the same as the pooled engagement-by-age figures; ``tests/test_report.py`` checks that they agree.
"""

from __future__ import annotations

import pandas as pd

from dlvstats import db
from dlvstats.aggregates import unusable_for
from dlvstats.metrics.common import Period, choose_source, finish_rates, readonly

RATES = ["open_rate", "human_open_rate", "human_click_rate", "unsubscribe_rate"]
#: The trend's rates: the headlines that are per-message rates of the month's own messages.
TREND_RATES = ["delivery_rate", "hard_bounce_rate", "open_rate", "human_open_rate", "human_click_rate",
               "unsubscribe_rate", "complaint_rate"]


def headline_rates(db_path, date_from, date_to, account_id: str | None = None, *,
                   timezone: str = "UTC", source: str = "auto") -> pd.DataFrame:
    """One row: ``delivered, openers, human_openers, human_clickers, unsubscribes`` and ``open_rate``
    (machine opens included: what an ESP's dashboard shows), ``human_open_rate, human_click_rate,
    unsubscribe_rate``, each with ``_low``/``_high`` (see sql/metrics/headline_rates.sql).
    ``source``: ``auto`` reads the monthly aggregates when the period is one whole month of their
    zone (``timezone`` is the zone the period was cut in), else message_facts; ``raw`` /
    ``aggregates`` force one."""
    period = Period.parse(date_from, date_to)
    with readonly(db_path) as con:
        reason = unusable_for(con, period.start, period.end, timezone, one_month=True)
        name = ("metrics/headline_rates_from_aggregates"
                if choose_source(source, reason, "headline_rates") == "aggregates" else "metrics/headline_rates")
        raw = db.query_df(con, name, date_from=period.start, date_to=period.end, account_id=account_id)
    return finish_rates(raw, RATES, min_delivered=0)


def headline_trend(db_path, date_from, date_to, account_id: str | None = None, *,
                   timezone: str = "UTC", source: str = "auto") -> pd.DataFrame:
    """One row per month (of the reporting time zone) with messages sent in the period: ``month``
    (YYYY-MM), ``month_start`` (its first instant, UTC), the counts and ``TREND_RATES`` with their
    95 % intervals (clustered by recipient), on the definitions of the headlines (see
    sql/metrics/headline_trend.sql). The report's 12-month trend and its year-before column.
    ``source``: ``auto`` reads the monthly aggregates when the period is whole months of their
    zone and ``timezone`` is it, else message_facts; ``raw`` / ``aggregates`` force one."""
    from dlvstats.metrics.common import zone

    zone(timezone)  # a clear error for an unknown zone name
    period = Period.parse(date_from, date_to)
    with readonly(db_path) as con:
        reason = unusable_for(con, period.start, period.end, timezone)
        if choose_source(source, reason, "headline_trend") == "aggregates":
            raw = db.query_df(con, "metrics/headline_trend_from_aggregates", date_from=period.start,
                              date_to=period.end, account_id=account_id)
        else:
            raw = db.query_df(con, "metrics/headline_trend", date_from=period.start, date_to=period.end,
                              account_id=account_id, tz=timezone or "UTC")
    out = finish_rates(raw, TREND_RATES, min_delivered=0)
    starts = pd.to_datetime(out["month_start"]).dt.tz_localize("UTC").dt.tz_convert(timezone or "UTC")
    out.insert(0, "month", starts.dt.strftime("%Y-%m"))
    return out.drop(columns=["small_cell"]).reset_index(drop=True)
