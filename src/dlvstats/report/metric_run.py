"""The metric tables of one report run, each computed once, and the summary built from them.

``MetricRun`` calls the registered metric functions (the same ones the notebooks call) on the run's
database, account and time zone; ``compute_summary`` hands their frames to ``dlvstats.summary``
(frames in, dataclasses out) and keeps the tables for the CSV files.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from dlvstats import summary as summaries
from dlvstats.i18n import ENGLISH, Locale
from dlvstats.months import month_bounds, month_shift, previous_month
from dlvstats.summary import Alert, Summary

log = logging.getLogger("dlvstats.report")


class MetricRun:
    """The metric tables of one report run, each computed once: the headline numbers, the alerts and
    the CSV files share them. Every figure comes from a registered metric function (the same ones the
    notebooks call), on the run's database and account filter."""

    def __init__(self, db_path: Path, account_id: str | None, timezone: str | None = "UTC"):
        self.db_path = db_path
        self.account_id = account_id
        self.timezone = timezone
        self._frames: dict = {}

    def table(self, func: Callable, month: str, **options):
        key = (func.__module__, func.__qualname__, month,
               tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in options.items())))
        if key not in self._frames:
            start, end = month_bounds(month, self.timezone)
            if "timezone" in inspect.signature(func).parameters and "timezone" not in options:
                options = {**options, "timezone": self.timezone or "UTC"}  # days cut where the month is
            began = time.monotonic()
            self._frames[key] = func(self.db_path, start, end, self.account_id, **options)
            log.debug("%s %s %s: %.2f s", func.__qualname__, month, options, time.monotonic() - began)
        return self._frames[key]

    def registered(self, name: str):
        """A metric function from the registry, or None (logged) when this build lacks it."""
        from dlvstats import metrics

        try:
            return metrics.get(name)
        except (ImportError, AttributeError, KeyError) as exc:
            log.warning("metric %s is not available (%s); the report goes on without it", name, exc)
            return None

    def health(self):
        try:
            from dlvstats.metrics import sender_health
        except ImportError as exc:
            log.warning("sender-health is not available (%s)", exc)
            return None
        return sender_health

    def health_month(self, month: str):
        """Sender health pooled over the month: 'all', per provider and (ESP's report) per account."""
        health = self.health()
        if health is None:
            return None
        by = ["all", "provider"] if self.account_id else ["all", "account", "provider"]
        return self.table(health.sender_health, month, by=by, grain="period")



def metric_tables(run: MetricRun, month: str) -> dict:
    """The CSV files: every registered metric for the month (defaults, as `dlvstats metrics` prints
    them), plus the pooled sender health, its daily view and the blocklist listings behind the alerts."""
    from dlvstats.metrics import REGISTRY

    tables = {}
    for name in REGISTRY:
        func = run.registered(name)
        if func is not None:
            tables[name] = run.table(func, month)
    health = run.health()
    if health is not None:
        tables["sender-health-month"] = run.health_month(month)
        tables["sender-health-daily"] = run.table(health.sender_health, month,
                                                  by=["all"] if run.account_id else ["account"], grain="day")
        if "blocklist-events" not in tables:
            tables["blocklist-events"] = run.table(health.blocklist_events, month)
    if run.account_id:
        tables = {k: _without_cross_client_columns(v) for k, v in tables.items()}
    return tables


def _without_cross_client_columns(frame):
    """An account's pack holds no ranking against other clients."""
    drop = [c for c in frame.columns if c in ("risk_rank", "accounts_using") or c.endswith("_rank")]
    return frame.drop(columns=drop)


def data_end(db_path: Path) -> datetime | None:
    """The newest send, open, click or complaint in the database (UTC)."""
    from dlvstats import overview

    frame = overview.coverage(db_path)
    frame = frame[frame["kind"].isin(["sends", "opens", "clicks", "complaints"])]
    values = [v for v in frame["last_at"].tolist() if v is not None and str(v) not in ("NaT", "None", "nan")]
    if not values:
        return None
    import pandas as pd

    return max(pd.Timestamp(v).to_pydatetime().replace(tzinfo=None) for v in values)


def freshness(db_path: Path, month: str, timezone: str | None = "UTC") -> tuple[bool, datetime | None, str]:
    """(complete, data end, message): complete when the data reaches the month's last day."""
    _, end = month_bounds(month, timezone)
    last = data_end(db_path)
    if last is None:
        return False, None, "the database holds no sends, opens, clicks or complaints"
    if last >= end - timedelta(days=1):
        return True, last, f"data runs to {last:%Y-%m-%d %H:%M} UTC"
    return False, last, (f"the data stops at {last:%Y-%m-%d %H:%M} UTC, before the end of {month} "
                         f"({end - timedelta(days=1):%Y-%m-%d} is missing)")


def classification_drift(db_path: Path, month: str) -> tuple[list[Alert], list[str]]:
    """Drift alarms of the human/machine labels (dlvstats.drift), over all the ESP's traffic: a
    provider's machine-open share or the unlisted machines moving in ``month`` are warnings; an old
    networks snapshot is a note."""
    from dlvstats import db, drift

    con = db.connect(db_path, read_only=True)
    try:
        sentences = drift.alarms(con, month=month)
    finally:
        con.close()
    alerts = [Alert("warning", "Classification drift (all traffic): " + s) for s in sentences
              if not s.startswith("Networks snapshot")]
    notes = [s for s in sentences if s.startswith("Networks snapshot")]
    return alerts, notes



def month_totals(run: MetricRun, month: str) -> dict:
    """The month's headline figures, each from the metric that defines it."""
    from dlvstats.metrics.headlines import headline_rates

    engagement = run.registered("engagement-by-age")
    return summaries.headline_totals(run.health_month(month), run.table(headline_rates, month),
                                     run.table(engagement, month) if engagement is not None else None)


def headline_trend(run: MetricRun, month: str, months: int = 12):
    """The headline rates of ``month`` and the ``months`` before it, one row per month of the
    reporting time zone (metrics.headlines.headline_trend): the page's trend and its year-before
    column. Months without messages have no row."""
    from dlvstats.metrics.headlines import headline_trend as trend

    start, _ = month_bounds(month_shift(month, -months), run.timezone)
    _, end = month_bounds(month, run.timezone)
    began = time.monotonic()
    frame = trend(run.db_path, start, end, run.account_id, timezone=run.timezone or "UTC")
    log.debug("headline_trend %s: %.2f s", month, time.monotonic() - began)
    return frame


def _blocklist_now(run: MetricRun, month: str, already: set) -> list[Alert]:
    """Alerts from the latest DNS blocklist check (``summary.blocklist_now_alerts``)."""
    func = run.registered("blocklist-status")
    return [] if func is None else summaries.blocklist_now_alerts(run.table(func, month), already)


def compute_alerts(run: MetricRun, month: str, loc: Locale | None = None) -> list[Alert]:
    """Complaint rate over 0.1%/0.3% per account and provider, hard-bounce spikes, blocklist listings
    and the latest DNS check, critical first."""
    loc = loc or ENGLISH
    health = run.health()
    if health is None:
        return []
    account_id = run.account_id
    alerts = summaries.month_alerts(run.health_month(month), run.health_month(previous_month(month)),
                                    account_id, loc)
    daily = run.table(health.sender_health, month, by=summaries.bounce_dimensions(account_id), grain="day")
    alerts += summaries.daily_bounce_alerts(daily, alerts, account_id, loc)
    listings = run.table(health.blocklist_events, month)
    culprit_func = None if account_id else run.registered("blocklist-culprits")  # a pack names no other client
    culprits = run.table(culprit_func, month) if culprit_func is not None and len(listings) else None
    alerts += summaries.listing_alerts(listings, culprits, account_id, loc)
    alerts += _blocklist_now(run, month, summaries.open_listings(listings))
    return summaries.sort_alerts(alerts)


def _gift_pooled(run: MetricRun, month: str):
    """The matured gift campaigns pooled, for the e-mail's conclusion (None without the analysis)."""
    try:
        from dlvstats.metrics import gift
    except ImportError as exc:  # pragma: no cover - a build without the gift analysis
        log.warning("gift conclusions not available (%s)", exc)
        return None
    _, end = month_bounds(month, run.timezone)
    return gift.matured_pooled(run.db_path, end, run.account_id)


def compute_summary(db_path: Path, month: str, account_id: str | None, last: datetime | None,
                    timezone: str | None = "UTC", loc: Locale | None = None) -> Summary:
    """Headlines, alerts, notes, trend and conclusions of the month, and the CSV tables."""
    loc = loc or ENGLISH
    run = MetricRun(db_path, account_id, timezone)
    now, before = month_totals(run, month), month_totals(run, previous_month(month))
    alerts = compute_alerts(run, month, loc)
    tables = metric_tables(run, month)
    trend = headline_trend(run, month)
    tables["headline-trend"] = trend
    notes = summaries.maturity_notes(month, last, tables.get("sender-health-daily"), tables.get("gift-campaigns"),
                                     timezone, loc)
    drift_alerts, drift_notes = classification_drift(db_path, month)
    alerts += drift_alerts
    notes += drift_notes
    if not now.get("sends"):
        log.warning("no message was sent in %s %s", month, f"by account {account_id}" if account_id else "at all")
        notes.insert(0, summaries.no_sends_note(month, account_id, loc))
    return Summary(headlines=summaries.headlines(now, before, loc, summaries.year_before_totals(trend, month)),
                   alerts=alerts, notes=notes, tables=tables, trend=summaries.trend_rows(trend, month, loc),
                   conclusions=summaries.analysis_conclusions(tables, now, _gift_pooled(run, month), loc))
