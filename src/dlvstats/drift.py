"""Drift alarms: signs that the human/machine rules are going stale.

Classification rules are built on how machines behaved when they were written; a provider that
silently changes its proxy's user agent, a new scanner fleet in networks no list knows, or an old
networks snapshot break every engagement number without any error. Three checks, each in SQL
(sql/classify/drift_*.sql) over the stored labels:

- a provider's machine-open share moving sharply from one month to the next (``provider_shifts``);
- the share of machine events from addresses in no listed network growing (``unlisted_machines``);
- the networks snapshot being old (``stale_networks``).

``alarms(con)`` turns them into sentences for ``dlvstats classify``, ``dlvstats info`` and the
monthly report. Read-only: works on a read-only connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from dlvstats import db, networks


@dataclass(frozen=True)
class DriftThresholds:
    #: a provider's machine-open share moving by this much (absolute) month to month ...
    share_points: float = 0.10
    #: ... in months of at least this many opens each (smaller months are flagged, not alarmed)
    min_opens: int = 500
    #: the share of machine events from unlisted addresses growing by this much month to month ...
    unlisted_points: float = 0.05
    #: ... in months of at least this many machine events each
    min_events: int = 200
    #: a networks list older than this is stale (cloud providers add ranges every week)
    max_snapshot_age_days: int = 365

    def params(self) -> dict:
        return {"drift_share_points": self.share_points, "drift_min_opens": self.min_opens,
                "drift_unlisted_points": self.unlisted_points, "drift_min_events": self.min_events}


DEFAULT_THRESHOLDS = DriftThresholds()


def provider_shifts(con, thresholds: DriftThresholds = DEFAULT_THRESHOLDS):
    """Per provider and send month: opens, machine_opens, machine_open_share (+ interval), the
    month before, change, is_small_cell, is_alarm (a DataFrame)."""
    return db.query_df(con, "classify/drift_providers", **thresholds.params())


def unlisted_machines(con, thresholds: DriftThresholds = DEFAULT_THRESHOLDS):
    """Per month: machine events, those from no listed network, their share, the month before,
    is_small_cell, is_alarm (a DataFrame)."""
    networks.ensure(con)
    return db.query_df(con, "classify/drift_unlisted", **thresholds.params())


def stale_networks(con, thresholds: DriftThresholds = DEFAULT_THRESHOLDS) -> list[tuple[str, str, int]]:
    """(network, snapshot_date, age_days) of the loaded networks older than the threshold."""
    rows = networks.info(con)
    return [(network, str(day), int(age)) for network, _kind, _p, _a, day, age, _s in rows
            if age is not None and age > thresholds.max_snapshot_age_days]


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def alarms(con, thresholds: DriftThresholds = DEFAULT_THRESHOLDS, month: str | None = None) -> list[str]:
    """The drift alarms as sentences (none: an empty list). With ``month`` ('YYYY-MM'), only the
    alarms of that month (the snapshot's age always)."""
    out = []
    for row in provider_shifts(con, thresholds).itertuples():
        if not row.is_alarm or (month and str(row.month)[:7] != month):
            continue
        out.append(
            f"Machine-open share of {row.provider} moved from {_pct(row.prev_share)} to "
            f"{_pct(row.machine_open_share)} ({row.machine_opens:,} of {row.opens:,} opens of messages sent "
            f"in {str(row.month)[:7]}; 95% interval {_pct(row.share_low)}–{_pct(row.share_high)}): "
            "a provider or Apple changing its proxy or user agent does this; check the rules "
            "(docs/classification.md) before trusting this provider's open rates.")
    for row in unlisted_machines(con, thresholds).itertuples():
        if not row.is_alarm or (month and str(row.month)[:7] != month):
            continue
        out.append(
            f"Machine events from networks in no list grew from {_pct(row.prev_share)} to "
            f"{_pct(row.unlisted_share)} in {str(row.month)[:7]} ({row.unlisted_events:,} of "
            f"{row.machine_events:,}): machines the networks snapshot does not know; run "
            "`dlvstats networks update`, or add their ranges with `dlvstats networks load`.")
    stale = stale_networks(con, thresholds)
    if stale:
        names = ", ".join(f"{n} ({day}, {age} days)" for n, day, age in stale)
        out.append(f"Networks snapshot older than {thresholds.max_snapshot_age_days} days: {names}; "
                   "run `dlvstats networks update` where the machine has internet.")
    return out
