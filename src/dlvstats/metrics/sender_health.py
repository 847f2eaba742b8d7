"""Sender health: complaint and bounce rates against the mailbox providers' lines, bounces by
category, blocklist listings, compliance with opt-outs, and the accounts that put shared IPs at risk.

Every table is computed by packaged DuckDB SQL (``sql/metrics/sender_health*.sql``, with the
relations ``sql/relations/bounce_category.sql`` and ``blocklist_periods.sql``) on a read-only
connection; only small, already-aggregated tables reach pandas, where ``finish_rates`` adds the
95% intervals (clusters = recipients). No output column holds a recipient address.

Two complaint-rate denominators (docs/metrics_gift_health.md):
- ``complaint_rate``: complaints / all delivered messages;
- ``complaint_rate_fbl``: complaints / messages delivered to providers that report complaints
  per message (``data/complaint_feedback_providers.csv``: Yahoo CFL, Microsoft JMRP, the French
  ISPs covered by Signal Spam). This is the one to hold against the 0.1% / 0.3% lines. Gmail's
  own spam rate is not in any log: it exists only in Google Postmaster Tools.

Must not import plots, notebooks or the report.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from dlvstats import db
from dlvstats.aggregates import unusable_for
from dlvstats.config import (
    COMPLAINT_RATE_CRITICAL,
    COMPLAINT_RATE_TARGET,
    MIN_CELL_DELIVERED,
    PACKAGE_DATA_DIR,
)
from dlvstats.metrics.cache import shared
from dlvstats.metrics.common import Period, choose_source, finish_rates, readonly, relation, zone

#: The dimensions a sender-health table can be cut by (the SQL knows exactly these).
DIMENSIONS = ("account", "provider", "sending_ip", "sending_domain", "all")
#: Time buckets: day, ISO week (Monday), month (cut in the reporting time zone, UTC by default),
#: or the whole period pooled.
GRAINS = ("day", "week", "month", "period")
BOUNCE_CATEGORIES = ("invalid_mailbox", "bad_domain", "mailbox_full", "policy_block", "content", "other")

#: SMTP reply -> bounce category rules (priority, field, pattern, category, note).
BOUNCE_RULES_CSV = PACKAGE_DATA_DIR / "bounce_categories.csv"
#: Which mailbox providers report complaints per message, and how (provider, per_message, channel, label).
FEEDBACK_PROVIDERS_CSV = PACKAGE_DATA_DIR / "complaint_feedback_providers.csv"

HEALTH_RATES = [
    "complaint_rate", "complaint_rate_fbl", "hard_bounce_rate", "invalid_address_rate", "block_rate",
]
COMPLIANCE_RATES = [
    "sent_after_unsubscribe_rate", "sent_after_unsubscribe_over_2d_rate", "sent_after_complaint_rate",
    "sent_after_hard_bounce_rate", "over_2d_rate",
]
#: The columns notebooks show of each table (every column stays in the DataFrame and the CSV).
HEALTH_COLUMNS = [
    "dimension", "dimension_value", "period_start", "sends", "delivered", "complaints", "complaint_rate",
    "delivered_fbl", "complaints_fbl", "complaint_rate_fbl", "complaint_rate_fbl_low",
    "complaint_rate_fbl_high", "over_target", "over_critical", "hard_bounce_rate", "invalid_address_rate",
    "block_rate", "blocklist_listings", "small_cell_fbl",
]
PROVIDER_COLUMNS = [
    "dimension_value", "delivered", "complaints", "complaint_rate", "delivered_fbl", "complaint_rate_fbl",
    "complaint_rate_fbl_low", "complaint_rate_fbl_high", "complaint_feedback", "hard_bounce_rate",
    "bounces_policy_block", "small_cell",
]
RISK_COLUMNS = [
    "risk_rank", "account_id", "risk_score", "sends", "shared_ip_share", "old_address_share",
    "old_import_share", "never_engaged_share", "complaint_rate_fbl", "invalid_address_rate", "small_cell",
]
COMPLIANCE_COLUMNS = [
    "account_id", "sends", "sent_after_unsubscribe", "sent_after_unsubscribe_over_2d", "sent_after_complaint",
    "sent_after_hard_bounce", "unsubscribe_events", "unsubscribes_followed_by_send", "unsubscribes_over_2d",
    "over_2d_rate", "honour_hours_median", "honour_hours_max",
]
RISK_RATES = [
    "complaint_rate", "complaint_rate_fbl", "hard_bounce_rate", "invalid_address_rate", "old_address_share",
    "old_import_share", "never_engaged_share",
]


def complaint_feedback_providers(path: str | Path | None = None) -> pd.DataFrame:
    """The provider list behind ``complaint_rate_fbl``: provider, per_message, channel, label."""
    frame = pd.read_csv(path or FEEDBACK_PROVIDERS_CSV, dtype={"provider": str, "channel": str, "label": str})
    frame["per_message"] = frame["per_message"].astype(str).str.lower().isin(["true", "1", "yes"])
    return frame


def _fbl_list(fbl_providers) -> list[str]:
    if fbl_providers is None:
        frame = complaint_feedback_providers()
        return frame.loc[frame["per_message"], "provider"].tolist()
    if isinstance(fbl_providers, str):
        return [p.strip() for p in fbl_providers.split(",") if p.strip()]
    return list(fbl_providers)


def _dimension_list(by) -> list[str]:
    names = [b.strip() for b in by.split(",")] if isinstance(by, str) else list(by)
    unknown = [n for n in names if n not in DIMENSIONS]
    if unknown or not names:
        raise ValueError(f"by={by!r}: choose among {', '.join(DIMENSIONS)} (or several, comma-separated)")
    return names


def _check_grain(grain: str) -> str:
    if grain not in GRAINS:
        raise ValueError(f"grain={grain!r}: choose one of {', '.join(GRAINS)}")
    return grain


def _check_timezone(con, timezone: str | None) -> str:
    """The reporting time zone by its IANA name (ValueError naming it when unknown)."""
    name = timezone or "UTC"
    if getattr(con, "engine", "duckdb") != "duckdb":  # Spark has no pg_timezone_names(): the IANA database here
        return zone(name).key
    found = con.execute("SELECT name FROM pg_timezone_names() WHERE lower(name) = lower($tz) LIMIT 1",
                        {"tz": name}).fetchone()
    if not found:
        raise ValueError(f"{name!r} is not a time zone name (e.g. UTC, Europe/Paris)")
    return found[0]


def _build_relations(con, period: Period, account_id, bounce_rules) -> None:
    relation(con, "relations/bounce_category", rules_path=str(bounce_rules or BOUNCE_RULES_CSV),
             account_id=account_id, **period.params())
    relation(con, "relations/blocklist_periods")


@shared
def sender_health(
    db_path: str | Path,
    date_from,
    date_to,
    account_id: str | None = None,
    *,
    by: str | list[str] = "account",
    grain: str = "week",
    fbl_providers: list[str] | str | None = None,
    bounce_rules: str | Path | None = None,
    min_delivered: int = MIN_CELL_DELIVERED,
    target: float = COMPLAINT_RATE_TARGET,
    critical: float = COMPLAINT_RATE_CRITICAL,
    timezone: str = "UTC",
    source: str = "auto",
) -> pd.DataFrame:
    """Complaint and bounce rates per dimension value and time bucket (a long table).

    One row per (``dimension``, ``dimension_value``, ``period_start``); ``by`` is one of
    ``account``, ``provider``, ``sending_ip``, ``sending_domain``, ``all`` or several
    (a list, or comma-separated); ``grain`` is ``day``, ``week``, ``month`` or ``period``.
    Columns: see ``sql/metrics/sender_health.sql``; beside each rate its ``_low``/``_high``
    interval; ``small_cell`` (delivered < ``min_delivered``), ``small_cell_fbl`` (the same for
    ``delivered_fbl``), ``over_target`` / ``over_critical`` (``complaint_rate_fbl`` above ``target``
    / ``critical``: 0.1% / 0.3% by default), and for provider rows ``complaint_feedback`` (how that
    provider reports complaints; Gmail's says its own rate is only in Postmaster Tools).
    Days, weeks and months are cut in ``timezone`` (``--report-timezone``); ``period_start`` is
    the UTC instant where the bucket begins (2026-10-31 23:00 for November in Europe/Paris).
    ``source``: ``auto`` reads the monthly aggregates (``dlvstats.aggregates``) when the period is
    whole months of their zone (one month for ``week`` and ``period``, which pool persons) with
    the default rules and providers, else raw messages; ``raw`` / ``aggregates`` force one.
    """
    period = Period.parse(date_from, date_to)
    dimensions = _dimension_list(by)
    with readonly(db_path) as con:
        tz = _check_timezone(con, timezone)
        reason = unusable_for(con, period.start, period.end, tz, fbl_providers=_fbl_list(fbl_providers),
                              bounce_rules=bounce_rules, one_month=_check_grain(grain) in ("week", "period"))
        if choose_source(source, reason, "sender_health") == "aggregates":
            relation(con, "relations/blocklist_periods")
            frame = db.query_df(con, "metrics/sender_health_from_aggregates", account_id=account_id,
                                dimensions=dimensions, grain=grain, tz=tz, **period.params())
        else:
            _build_relations(con, period, account_id, bounce_rules)
            frame = db.query_df(con, "metrics/sender_health", account_id=account_id, dimensions=dimensions,
                                grain=grain, fbl_providers=_fbl_list(fbl_providers), tz=tz, **period.params())
    frame = finish_rates(frame, HEALTH_RATES, min_delivered=min_delivered)
    frame["small_cell_fbl"] = frame["delivered_fbl"].fillna(0) < min_delivered
    fbl_rate = frame["complaint_rate_fbl"].fillna(0)
    frame["over_target"] = fbl_rate > target
    frame["over_critical"] = fbl_rate > critical
    labels = complaint_feedback_providers().set_index("provider")["label"]
    frame["complaint_feedback"] = np.where(
        frame["dimension"] == "provider",
        frame["dimension_value"].map(labels).fillna("No per-message feedback loop known"),
        None,
    )
    frame.attrs["fbl_providers"] = _fbl_list(fbl_providers)
    frame.attrs["lines"] = {"target": target, "critical": critical}
    return frame.reset_index(drop=True)


@shared
def bounce_categories(
    db_path: str | Path,
    date_from,
    date_to,
    account_id: str | None = None,
    *,
    by: str | list[str] = "all",
    grain: str = "period",
    bounce_rules: str | Path | None = None,
    min_delivered: int = MIN_CELL_DELIVERED,
    timezone: str = "UTC",
) -> pd.DataFrame:
    """Bounced messages by category (why they bounced), per dimension value and time bucket
    (cut in ``timezone``, as in ``sender_health``).

    One row per (``dimension``, ``dimension_value``, ``period_start``, ``category``); categories
    ``invalid_mailbox``, ``bad_domain``, ``mailbox_full``, ``policy_block``, ``content``, ``other``
    from the SMTP and enhanced status codes and the reply text (``data/bounce_categories.csv``).
    ``bounce_rate`` (per send) has its interval; ``small_cell`` flags cells under ``min_delivered``
    sends.
    """
    period = Period.parse(date_from, date_to)
    with readonly(db_path) as con:
        _build_relations(con, period, account_id, bounce_rules)
        frame = db.query_df(con, "metrics/sender_health_bounces", account_id=account_id,
                            dimensions=_dimension_list(by), grain=_check_grain(grain),
                            tz=_check_timezone(con, timezone), **period.params())
    return finish_rates(frame, ["bounce_rate"], min_delivered=min_delivered, volume_column="sends")


@shared
def blocklist_events(db_path: str | Path, date_from, date_to, account_id: str | None = None) -> pd.DataFrame:
    """Blocklist listings of the sending IPs and domains that overlap the period (for timelines).

    One row per listing: ``target, target_kind, blocklist, listed_at, delisted_at, listed_hours,
    accounts_using`` (NULL in an account's own view), ``sends_30d_before``,
    ``complaint_rate_30d_before``.
    """
    period = Period.parse(date_from, date_to)
    with readonly(db_path) as con:
        relation(con, "relations/blocklist_periods")
        return db.query_df(con, "metrics/sender_health_blocklists", account_id=account_id, **period.params())


@shared
def compliance(
    db_path: str | Path,
    date_from,
    date_to,
    account_id: str | None = None,
    *,
    honour_hours: int = 48,
    bounce_grace_hours: int = 24,
    bounce_rules: str | Path | None = None,
    min_delivered: int = MIN_CELL_DELIVERED,
) -> pd.DataFrame:
    """Messages sent after an unsubscribe, a complaint or a hard bounce; time to honour opt-outs.

    One row per account. ``honour_hours`` is the rule (48 h: Gmail's and Yahoo's two days);
    ``bounce_grace_hours`` is how long after its message a hard bounce is known. Every rate has
    its count and interval; ``small_cell`` flags accounts with fewer than ``min_delivered`` sends.
    Only hard bounces of dead addresses (invalid mailbox, bad domain) count: a message refused for a
    blocklisted IP says nothing of its recipient.
    """
    period = Period.parse(date_from, date_to)
    with readonly(db_path) as con:
        # bounces before the period count too: categorise every message up to its end
        _build_relations(con, Period(datetime(1970, 1, 1), period.end), account_id, bounce_rules)
        frame = db.query_df(con, "metrics/sender_health_compliance", account_id=account_id,
                            honour_hours=int(honour_hours), bounce_grace_hours=int(bounce_grace_hours),
                            **period.params())
    return finish_rates(frame, COMPLIANCE_RATES, min_delivered=min_delivered, volume_column="sends")


@shared
def account_risk(
    db_path: str | Path,
    date_from,
    date_to,
    account_id: str | None = None,
    *,
    old_years: float = 3.0,
    fbl_providers: list[str] | str | None = None,
    complaint_line: float = COMPLAINT_RATE_CRITICAL,
    bounce_line: float = 0.02,
    old_line: float = 0.5,
    never_line: float = 0.5,
    cap: float = 3.0,
    weights: dict[str, float] | None = None,
    bounce_rules: str | Path | None = None,
    min_delivered: int = MIN_CELL_DELIVERED,
) -> pd.DataFrame:
    """Accounts ranked by the risk they put on the shared sending IPs (``risk_rank`` 1 = riskiest).

    ``risk_score`` is the weighted mean of four components, each divided by its line and capped
    at ``cap``: complaint_rate_fbl / ``complaint_line`` (0.3%), invalid_address_rate (hard bounces
    of dead addresses, not blocks) / ``bounce_line`` (2% per send), old_address_share / ``old_line``
    (half the addresses at least ``old_years`` old), never_engaged_share / ``never_line``.
    ``weights`` maps ``complaint``, ``bounce``, ``old``, ``never`` to weights (default 1 each). With ``account_id`` only that
    account's row comes back, unranked.
    """
    period = Period.parse(date_from, date_to)
    w = {"complaint": 1.0, "bounce": 1.0, "old": 1.0, "never": 1.0, **(weights or {})}
    with readonly(db_path) as con:
        _build_relations(con, period, account_id, bounce_rules)
        frame = db.query_df(
            con, "metrics/sender_health_account_risk", account_id=account_id,
            fbl_providers=_fbl_list(fbl_providers), old_years=float(old_years),
            complaint_line=float(complaint_line), bounce_line=float(bounce_line), old_line=float(old_line),
            never_line=float(never_line), cap=float(cap), w_complaint=float(w["complaint"]),
            w_bounce=float(w["bounce"]), w_old=float(w["old"]), w_never=float(w["never"]),
            **period.params(),
        )
    frame = finish_rates(frame, RISK_RATES, min_delivered=min_delivered)
    frame["risk_rank"] = frame["risk_rank"].astype("Int64")
    return frame
