"""One rule for showing numbers, rates and intervals to a reader: the terminal table
(``export.to_table``), the report page (its summary and the notebooks' tables) and the e-mail.

The rule (the project's naming convention): a column whose name ends in ``_rate`` or ``_share`` (or
holds ``_rate_`` / ``share``) is a fraction shown as a percentage, and its interval bounds
(``..._low``, ``..._high``) are shown like it; counts get thousands separators; a missing value is a
dash, never a number. A table cell's number goes through ``format_number`` (the notebooks' tables,
``dlvstats.tables``, from their frames' values). Locale-aware through ``dlvstats.i18n`` (English by default). No data, no I/O.
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

#: The decimals a table looks at (pandas' display precision); a column needing more than
#: ``LONG_DECIMALS`` of them is shown to 2 decimals (4 significant digits under 1).
PRINT_PRECISION = 6
LONG_DECIMALS = 4


def float_decimals(value: float) -> int:
    """The decimals a number needs at the printing precision: 3.0 -> 0, 2.5 -> 1, 0.1234567 -> 6;
    a non-zero number too small for that precision needs more than it (it is a long decimal)."""
    if value != 0 and abs(value) < 10 ** -PRINT_PRECISION:
        return PRINT_PRECISION + 1
    return len(f"{value:.{PRINT_PRECISION}f}".rstrip("0").partition(".")[2])


def format_number(value, *, rate: bool = False, plain: bool = False, decimals: int | None = None,
                  loc: Locale | None = None) -> str:
    """A number in a table cell: a rate or share as a percentage (2 decimals, 3 under 1%), a whole
    number as a count with separators (a year or an id without: ``plain``), a long decimal to 2
    decimals (4 significant digits under 1), another decimal with its ``decimals`` (the column's: the
    most any of its numbers needs; None: this number's own); a missing or infinite value as a dash."""
    figure = number(value)
    if figure is None:
        return DASH
    loc = loc or ENGLISH
    if rate:
        return loc.percent(figure, table_rate_digits(figure))
    if decimals is None:
        decimals = 0 if figure.is_integer() else float_decimals(figure)
    if decimals == 0 and figure.is_integer():
        return f"{int(figure)}" if plain else loc.integer(figure)
    if decimals > LONG_DECIMALS or decimals == 0:
        return loc.decimal(figure, 2) if abs(figure) >= 1 else loc.significant(figure, 4)
    return loc.decimal(figure, decimals)


def trim_timestamp_text(text: str) -> str:
    """A timestamp written with fractions of a second, to the second (enough for a reader)."""
    stripped = text.strip()
    return stripped.split(".")[0] if _TIMESTAMP.fullmatch(stripped) else text


def format_cell_text(text: str, rate: bool, plain: bool = False, loc: Locale | None = None) -> str:
    """A number, timestamp or missing value as it was printed (text), shown by ``format_number``'s
    rule: a missing value as a dash, a timestamp to the second; any other text unchanged."""
    stripped = text.strip()
    if stripped in MISSING_TEXTS:
        return DASH
    if _TIMESTAMP.fullmatch(stripped):
        return trim_timestamp_text(stripped)
    if not _NUMBER.fullmatch(stripped):
        return text
    decimals = LONG_DECIMALS + 1 if "e" in stripped.lower() else len(stripped.partition(".")[2].rstrip("0"))
    return format_number(float(stripped), rate=rate, plain=plain, decimals=decimals, loc=loc)


__all__ = ["DASH", "LONG_DECIMALS", "MISSING_TEXTS", "PRINT_PRECISION", "float_decimals", "format_cell_text",
           "format_change", "format_interval", "format_number", "format_value", "is_plain_number_column",
           "is_rate_column", "number", "table_rate_digits", "trim_timestamp_text"]
