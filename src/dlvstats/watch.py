"""``dlvstats watch``: the daily look between monthly reports; e-mails only when a line is crossed.

One run: the DNS blocklist check of the sending IPs and domains, then the complaint and hard-bounce
rates of each account and sending IP over the messages sent since the last run (the first run looks
at the last ``first_days`` days). An alert is raised for a target newly listed, and for a rate above
its line on at least ``min_delivered`` delivered messages (smaller cells are listed as too small to
judge, never alerted on). The run is recorded in ``watch_runs`` so the next one starts where this
one ended.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from dlvstats import blocklists, db, mail
from dlvstats.config import COMPLAINT_RATE_CRITICAL
from dlvstats.metrics.common import wilson

HARD_BOUNCE_LINE = 0.02  # as sender health's bounce_line: 2% of sends
MIN_DELIVERED = 200  # a day of one account is small; below this a rate is not judged


@dataclass
class WatchResult:
    from_ts: datetime | None
    through_ts: datetime | None
    check: blocklists.CheckResult | None
    rates: pd.DataFrame
    alerts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def rate_alerts(rates: pd.DataFrame, complaint_line: float, bounce_line: float, min_delivered: int) -> list[str]:
    alerts = []
    for r in rates.itertuples():
        if r.delivered < min_delivered:
            continue
        for label, num, den, low, line in (
            ("complaint rate", r.complaints, r.delivered, r.complaint_low, complaint_line),
            ("hard-bounce rate", r.hard_bounces, r.sends, r.hard_bounce_low, bounce_line),
        ):
            if den and num / den > line:
                sure = "above the line even at the low end of its 95% interval" if low > line else \
                       "the 95% interval still reaches below the line"
                alerts.append(f"{r.scope} {r.key}: {label} {num / den:.2%} ({num} of {den}) > {line:.2%}; {sure}")
    return alerts


def run(
    con,
    *,
    zones: list[blocklists.Zone],
    resolver: str | None = None,
    first_days: int = 1,
    complaint_line: float = COMPLAINT_RATE_CRITICAL,
    bounce_line: float = HARD_BOUNCE_LINE,
    min_delivered: int = MIN_DELIVERED,
    interval_seconds: float = 0.2,
    now: datetime | None = None,
) -> WatchResult:
    now = now or datetime.now(UTC).replace(tzinfo=None)
    from_ts, through_ts = db.run(con, "watch/window", first_days=first_days).fetchall()[0]
    if through_ts is None:
        return WatchResult(None, None, None, pd.DataFrame(), [], ["the database has no send yet: nothing to watch"])
    days = max(1, int((through_ts - from_ts).total_seconds() // 86400) + 1)
    check = blocklists.check(con, zones=zones, since_days=days, resolver=resolver,
                             interval_seconds=interval_seconds, now=now)
    alerts = [f"{e.target} newly listed on {e.blocklist} ({e.zone}): {e.return_code} {e.meaning}"
              for e in check.events.itertuples() if e.action == "listed"]
    notes = [f"{r.target} on {r.blocklist}: unknown ({r.meaning}); not counted as listed"
             for r in check.answers.itertuples() if r.status == "unknown"]
    rates = db.run(con, "watch/thresholds", from_ts=from_ts, through_ts=through_ts).df()
    if len(rates):
        rates["complaint_rate"], rates["complaint_low"], rates["complaint_high"] = wilson(rates.complaints, rates.delivered)
        rates["hard_bounce_rate"], rates["hard_bounce_low"], rates["hard_bounce_high"] = wilson(rates.hard_bounces, rates.sends)
        small = rates[rates.delivered < min_delivered]
        if len(small):
            notes.append(f"{len(small)} account/IP cells under {min_delivered} delivered messages: not judged")
    alerts += rate_alerts(rates, complaint_line, bounce_line, min_delivered) if len(rates) else []
    notes.append("complaints arrive days after the send: the latest days' complaint rates are a floor")
    db.run(con, "watch/record_run", ran_at=now, from_ts=from_ts, through_ts=through_ts, alerts=len(alerts))
    return WatchResult(from_ts, through_ts, check, rates, alerts, notes)


def format_text(result: WatchResult) -> str:
    if result.through_ts is None:
        return "\n".join(result.notes)
    lines = [(f"dlvstats watch: messages sent {result.from_ts:%Y-%m-%d %H:%M} to {result.through_ts:%Y-%m-%d %H:%M} UTC;"
             f" blocklists asked via {result.check.resolver}.")]
    lines += ["", "Alerts:"] + [f"  - {a}" for a in result.alerts] if result.alerts else ["", "No line crossed."]
    lines += ["", "Notes:"] + [f"  - {n}" for n in result.notes]
    return "\n".join(lines)


def format_html(result: WatchResult) -> str:
    from html import escape

    items = "".join(f"<li>{escape(a)}</li>" for a in result.alerts)
    notes = "".join(f"<li>{escape(n)}</li>" for n in result.notes)
    return (f"<p>{escape(format_text(result).splitlines()[0])}</p><h2>Alerts</h2><ul>{items}</ul>"
            f"<h3>Notes</h3><ul>{notes}</ul>")


def email(result: WatchResult, to: str, settings: mail.SmtpSettings) -> None:
    """Send the alerts (only called when there are some)."""
    subject = f"dlvstats watch: {len(result.alerts)} alert(s) through {result.through_ts:%Y-%m-%d}"
    message = mail.compose(subject, format_html(result), format_text(result), [], to, settings.mail_from)
    mail.send(message, settings)
