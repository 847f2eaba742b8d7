"""Monthly aggregates: the small tables the report's metrics read instead of a month of messages.

Three tables, each built by one SQL file in ``sql/aggregates/`` (grain and rules in its header):
- ``agg_health_cells``: sender health's cells per month, by scope (every account, or one), dimension
  (all, provider, sending IP, sending domain) and grain (day, week clipped to the month, month),
  with the per-person interval sums (Σy², Σyn, Σn², k) of each rate;
- ``agg_health_routes``: the sending IPs and domains of each account and provider per day (for the
  blocklist listings, joined at query time);
- ``agg_headline_month``: the headline rates' counts and per-person sums per month and account.

They are refreshed with ``message_facts`` (``classify.update_message_facts``): for the months of the
messages a drop can have changed, or whole. A month is cut in the aggregates' time zone, stored in
``meta`` (key ``aggregates``) with the bounce rules and feedback-loop providers they were built with;
it is the database's zone when they were first built (``DLVSTATS_REPORT_TIMEZONE``, default UTC)
and stays so until ``rebuild(con, timezone=...)``. ``unusable_for`` tells a metric whether a period
can be read from them, and why not (another zone, part of a month, other rules): the metric then
reads raw messages.

Must not know metrics, notebooks or the report; it only writes its own tables and meta key.
"""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dlvstats import db
from dlvstats.config import PACKAGE_DATA_DIR, settings

TABLES = {
    "agg_health_cells": "aggregates/health_cells",
    "agg_health_routes": "aggregates/health_routes",
    "agg_headline_month": "aggregates/headline_month",
}
META_KEY = "aggregates"
BOUNCE_RULES_CSV = PACKAGE_DATA_DIR / "bounce_categories.csv"
FEEDBACK_PROVIDERS_CSV = PACKAGE_DATA_DIR / "complaint_feedback_providers.csv"


def default_fbl_providers() -> list[str]:
    """The providers that report complaints per message (data/complaint_feedback_providers.csv)."""
    with open(FEEDBACK_PROVIDERS_CSV, newline="", encoding="utf-8") as handle:
        return sorted(row["provider"] for row in csv.DictReader(handle)
                      if str(row["per_message"]).strip().lower() in ("true", "1", "yes"))


def file_digest(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def stored(con) -> dict | None:
    """What the aggregates were built with (timezone, fbl_providers, bounce_rules), or None when the
    database has none (built before them, or invalidated)."""
    try:
        row = con.execute("SELECT value FROM meta WHERE key = $k", {"k": META_KEY}).fetchone()
    except Exception:  # noqa: BLE001 - a lake or another engine without meta: no aggregates
        return None
    return json.loads(row[0]) if row else None


def _canonical_zone(con, name: str) -> str:
    found = con.execute("SELECT name FROM pg_timezone_names() WHERE lower(name) = lower($tz) LIMIT 1",
                        {"tz": name}).fetchone()
    if not found:
        raise ValueError(f"{name!r} is not a time zone name (e.g. UTC, Europe/Paris)")
    return found[0]


def refresh(con, all_months: bool = False, timezone: str | None = None) -> list[datetime]:
    """Rebuild the aggregates of the months holding a message of ``__facts_scope`` (or, with
    ``all_months``, or when the database has none yet, of every month). Call it after
    ``message_facts`` is written, while ``__facts_scope`` exists. Returns the months rebuilt."""
    before = stored(con)
    all_months = all_months or before is None or not _tables_exist(con)
    zone_name = _canonical_zone(con, timezone or (before or {}).get("timezone") or settings().report_timezone)
    fbl = default_fbl_providers()
    db.install_macros(con)  # the aggregates' SQL calls the packaged macros: a bare connection has none
    db.run(con, "aggregates/months", tz=zone_name, all_months=all_months)
    bounds = con.execute("SELECT min(month_start), max(month_end) FROM __agg_months").fetchone()
    db.run(con, "relations/bounce_category", rules_path=str(BOUNCE_RULES_CSV), account_id=None,
           date_from=bounds[0] or datetime(1970, 1, 1), date_to=bounds[1] or datetime(1970, 1, 1))
    for table, sql_name in TABLES.items():
        db.run(con, sql_name, tz=zone_name, fbl_providers=fbl)
        rows = f"__{table}_rows"
        if all_months:
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {rows}")
        else:
            con.execute(f"DELETE FROM {table} WHERE month_start IN (SELECT month_start FROM __agg_months)")
            con.execute(f"INSERT INTO {table} SELECT * FROM {rows}")
        con.execute(f"DROP TABLE {rows}")
    months = [row[0] for row in con.execute("SELECT month_start FROM __agg_months ORDER BY 1").fetchall()]
    con.execute("DROP TABLE __agg_months")
    con.execute("DROP TABLE __bounce_category")
    record = {"timezone": zone_name, "fbl_providers": fbl, "bounce_rules": file_digest(BOUNCE_RULES_CSV)}
    con.execute("INSERT OR REPLACE INTO meta VALUES ($k, $v)", {"k": META_KEY, "v": json.dumps(record)})
    return months


def rebuild(con, timezone: str | None = None) -> list[datetime]:
    """Every month's aggregates from ``message_facts``, cut in ``timezone`` (default: the zone they
    were built in, else the database's configured zone)."""
    con.execute("CREATE OR REPLACE TEMP TABLE __facts_scope AS SELECT message_id FROM sends LIMIT 0")
    try:
        return refresh(con, all_months=True, timezone=timezone)
    finally:
        con.execute("DROP TABLE IF EXISTS __facts_scope")


def invalidate(con) -> None:
    """Forget the aggregates (metrics read raw messages until the next full build): after rows were
    removed behind the refresh's back (an erasure)."""
    con.execute("DELETE FROM meta WHERE key = $k", {"k": META_KEY})
    for table in TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}")


def _tables_exist(con) -> bool:
    names = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND schema_name = 'main'").fetchall()}
    return set(TABLES) <= names


def whole_months(start: datetime, end: datetime, timezone: str) -> int:
    """How many whole months of ``timezone`` [start, end) (UTC instants) spans, or 0 when either
    bound is not the first instant of a month there."""
    tz = ZoneInfo(timezone)
    local = [t.replace(tzinfo=UTC).astimezone(tz) for t in (start, end)]
    if any((t.day, t.hour, t.minute, t.second, t.microsecond) != (1, 0, 0, 0, 0) for t in local):
        return 0
    return (local[1].year - local[0].year) * 12 + local[1].month - local[0].month


def unusable_for(con, start: datetime, end: datetime, timezone: str | None, *, one_month: bool = False,
                 fbl_providers: list[str] | None = None, bounce_rules=None) -> str | None:
    """None when the period [start, end) can be read from the aggregates, else why not (the metric
    then reads raw messages and says so in its log). ``one_month``: the metric pools persons over
    the period, which the monthly sums allow only for a single month."""
    if getattr(con, "engine", "duckdb") != "duckdb":
        return "the aggregates are read on DuckDB only"
    record = stored(con)
    if record is None:
        return "the database has no aggregates (built before them, or invalidated)"
    if (timezone or "UTC").lower() != record["timezone"].lower():
        return f"the aggregates are cut in {record['timezone']}, the period in {timezone or 'UTC'}"
    months = whole_months(start, end, record["timezone"])
    if months == 0:
        return f"the period is not whole months of {record['timezone']}"
    if one_month and months > 1:
        return "the period pools persons over several months, which the monthly sums cannot"
    if fbl_providers is not None and sorted(fbl_providers) != record["fbl_providers"]:
        return "other feedback-loop providers than the aggregates were built with"
    if bounce_rules is not None and file_digest(bounce_rules) != record["bounce_rules"]:
        return "other bounce rules than the aggregates were built with"
    if file_digest(BOUNCE_RULES_CSV) != record["bounce_rules"]:
        return "the default bounce rules changed since the aggregates were built"
    return None
