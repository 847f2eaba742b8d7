"""Writing small result tables for people: terminal tables, CSV and JSON.

CSV cells that a spreadsheet would run as a formula (starting with =, +, -, @, tab or CR) are
neutralised with a leading apostrophe: campaign names and URLs are attacker-controlled text.
Numbers are left alone (a negative number is data, not a formula), and so is text that is exactly a
number (``-12.5``, ``+3``, ``-1.2e-05``, as an object column may hold): a spreadsheet reads it as the
number it is, and it cannot carry a formula.
"""

from __future__ import annotations

import io
import json
import math
import re

import pandas as pd

from dlvstats.formatting import is_rate_column

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _neutralise(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_for_spreadsheet(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(_neutralise)
    out.columns = [_neutralise(str(c)) for c in out.columns]
    return out


def to_csv(df: pd.DataFrame) -> str:
    return safe_for_spreadsheet(df).to_csv(index=False)


def to_json(df: pd.DataFrame) -> str:
    return df.to_json(orient="records", date_format="iso", indent=2)


def _format_cell(value, column: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        if is_rate_column(column):  # an interval is shown like its rate
            return f"{value * 100:.2f}%"
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def to_table(df: pd.DataFrame) -> str:
    """A plain aligned table for the terminal; rates shown as percentages."""
    if df.empty:
        return "(no rows for this period and filter)"
    records = df.astype(object).where(pd.notna(df), None).to_dict("records")
    cells = [[_format_cell(r[c], str(c)) for c in df.columns] for r in records]
    headers = [str(c) for c in df.columns]
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]
    buf = io.StringIO()
    buf.write("  ".join(h.rjust(w) for h, w in zip(headers, widths)) + "\n")
    buf.write("  ".join("-" * w for w in widths) + "\n")
    for row in cells:
        buf.write("  ".join(v.rjust(w) for v, w in zip(row, widths)) + "\n")
    return buf.getvalue().rstrip("\n")


def render(df: pd.DataFrame, fmt: str) -> str:
    if fmt == "csv":
        return to_csv(df)
    if fmt == "json":
        return to_json(df)
    return to_table(df)


__all__ = ["json", "render", "safe_for_spreadsheet", "to_csv", "to_json", "to_table"]
