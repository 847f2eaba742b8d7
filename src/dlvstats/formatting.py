"""One rule for showing numbers, rates and intervals to a reader: the terminal table
(``export.to_table``), the report page (its summary and the notebooks' tables) and the e-mail.

The rule (the project's naming convention): a column whose name ends in ``_rate`` or ``_share`` (or
holds ``_rate_`` / ``share``) is a fraction shown as a percentage, and its interval bounds
(``..._low``, ``..._high``) are shown like it; counts get thousands separators; a missing value is a
dash, never a number. Locale-aware through ``dlvstats.i18n`` (English by default). No data, no I/O.
"""

from __future__ import annotations

import math
import re

from dlvstats.i18n import ENGLISH, Locale

#: What a missing value looks like once a frame is printed (pandas, DuckDB, HTML-escaped).
MISSING_TEXTS = frozenset({"NaN", "nan", "None", "<NA>", "&lt;NA&gt;", "NaT"})
DASH = "–"


def is_rate_column(name: str) -> bool:
    """Rates and shares are fractions; an interval bound is shown like its quantity (``half_life_low``
    is in years, not a fraction)."""
    base = name.removesuffix("_low").removesuffix("_high")
    return base.endswith(("_rate", "_share")) or "_rate_" in base or "share" in base


def is_plain_number_column(name: str) -> bool:
    """Years and ids are numbers without thousands separators (2026 is not 2,026)."""
    return "year" in name or name.endswith("_id")


def number(value) -> float | None:
    """A finite float, or None for what is missing or not a number."""
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def table_rate_digits(value: float) -> int:
    """Decimals of a percentage in a table: 2, or 3 under 1% (0.01% and 0.02% must not look alike)."""
    return 2 if abs(value * 100) >= 1 or value == 0 else 3


def format_value(value, kind: str, digits: int = 2, loc: Locale | None = None) -> str:
    """A headline figure: ``kind`` "rate" as a percentage with ``digits`` decimals, else a count."""
    loc = loc or ENGLISH
    return loc.percent(value, digits) if kind == "rate" else loc.integer(value)


def format_interval(low, high, kind: str, digits: int = 2, loc: Locale | None = None) -> str:
    """'95% CI 1.20% – 1.50%' (in the reader's language), or '' when a bound is missing."""
    loc = loc or ENGLISH
    if low is None or high is None:
        return ""
    return loc.gettext("95% CI {low} – {high}").format(
        low=format_value(low, kind, digits, loc), high=format_value(high, kind, digits, loc))


def format_change(kind: str, now, before, higher_is: str, digits: int = 2,
                  loc: Locale | None = None) -> tuple[str, str]:
    """('+3.1%' or '+0.04 pp', tone) — percentage points for rates, relative change for counts; the
    tone is good, bad or neutral by ``higher_is``."""
    loc = loc or ENGLISH
    now, before = number(now), number(before)
    if now is None or before is None:
        return "", "neutral"
    if kind == "rate":
        delta = (now - before) * 100
        moved = abs(delta) >= 0.5 * 10 ** -digits
        text = loc.points(delta, digits) if moved else "±0 " + loc.gettext("pp")
    else:
        if before == 0:
            return (loc.gettext("new") if now else "±0"), "neutral"
        delta = (now - before) / before * 100
        sign = "+" if delta >= 0 else "-"
        text = sign + loc.percent(abs(delta) / 100, 1)
        moved = abs(delta) >= 0.05
    if not moved or higher_is == "neutral":
        return text, "neutral"
    return text, ("good" if (delta > 0) == (higher_is == "good") else "bad")


_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d+")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")


def format_cell_text(text: str, rate: bool, plain: bool = False, loc: Locale | None = None) -> str:
    """A table cell as pandas printed it, shown to a reader: a rate as a percentage, a count printed
    as a float as an integer with separators, a long decimal to 4 significant digits, a timestamp
    to the second, a missing value as a dash; anything else unchanged."""
    stripped = text.strip()
    if stripped in MISSING_TEXTS:
        return DASH
    if _TIMESTAMP.fullmatch(stripped):
        return stripped.split(".")[0]  # a timestamp to the second is enough for a reader
    if not _NUMBER.fullmatch(stripped):
        return text
    value = float(stripped)
    loc = loc or ENGLISH
    if rate:
        return loc.percent(value, table_rate_digits(value))
    if re.fullmatch(r"-?\d+\.0", stripped) or (re.fullmatch(r"-?\d{5,}", stripped) and not plain):
        return f"{int(value)}" if plain else loc.integer(value)
    if "e" in stripped.lower() or ("." in stripped and len(stripped.split(".")[1]) > 4):
        return loc.decimal(value, 2) if abs(value) >= 1 else loc.significant(value, 4)
    if "." in stripped and loc.code != "en":
        return loc.decimal(value, len(stripped.split(".")[1]))
    if re.fullmatch(r"-?\d{4}", stripped) and loc.code != "en" and not plain:
        return loc.integer(value)
    return text


__all__ = ["DASH", "MISSING_TEXTS", "format_cell_text", "format_change", "format_interval", "format_value",
           "is_plain_number_column", "is_rate_column", "number", "table_rate_digits"]
