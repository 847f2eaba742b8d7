"""Months as the report names them (``YYYY-MM``): parsing, arithmetic, bounds in the reporting time
zone, and their names in the reader's language. No data, no I/O."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from dlvstats.i18n import ENGLISH, Locale

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class MonthError(ValueError):
    """Not a ``YYYY-MM`` month."""


def parse_month(text: str) -> str:
    if not _MONTH.match(text or ""):
        raise MonthError(f"--month {text!r}: expected YYYY-MM, e.g. 2026-10")
    return text


def first_day(month: str) -> datetime:
    """The month's first day at midnight (wall clock, no zone)."""
    year, mon = (int(x) for x in parse_month(month).split("-"))
    return datetime(year, mon, 1)


def last_complete_month(now: datetime | None = None) -> str:
    """The month before the current UTC month (on 1 Nov 2026 at 06:00 UTC: 2026-10)."""
    now = now or datetime.now(UTC)
    prev = datetime(now.year, now.month, 1) - timedelta(days=1)
    return f"{prev.year:04d}-{prev.month:02d}"


def month_bounds(month: str, timezone: str | None = "UTC") -> tuple[datetime, datetime]:
    """The month's first instant and the next month's, as stored (naive UTC), the month being cut
    in the reporting time zone ``timezone`` (Europe/Paris starts November at 23:00 UTC)."""
    from dlvstats.metrics.common import utc_instant  # pandas and DuckDB: not at import (the CLI imports this)

    start = first_day(month)
    return utc_instant(start, timezone), utc_instant(first_day(month_shift(month, 1)), timezone)


def month_shift(month: str, months: int) -> str:
    """'2026-10' shifted by ``months`` (negative: earlier)."""
    year, mon = (int(x) for x in month.split("-"))
    index = year * 12 + mon - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def previous_month(month: str) -> str:
    return month_shift(parse_month(month), -1)


def month_label(month: str, loc: Locale | None = None) -> str:
    """'October 2026' (or 'octobre 2026' in French)."""
    return (loc or ENGLISH).month_long(first_day(month))


def month_short(month: str, loc: Locale | None = None) -> str:
    """'Oct 2026' (or its French form)."""
    return (loc or ENGLISH).month_short(first_day(month))
