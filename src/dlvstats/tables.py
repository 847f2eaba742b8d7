"""The notebooks' tables, rendered from their data: ``show_table(frame, locale=..., caption=...)``.

A small pandas (or polars) frame becomes an HTML table through the autoescaped Jinja template
``templates/table.html.j2``, each cell written from its value by ``dlvstats.formatting``'s one rule:
column labels from the column dictionary in the reader's language, rates and shares (and their 95%
interval bounds) as percentages, whole numbers as counts with separators (years and ids without),
long decimals to 2 decimals (4 significant digits under 1), a column's decimals alike, timestamps to
the second (dates alone when a column holds only midnights), missing values as a dash; a default
0..n-1 index (any unnamed integer index) is not shown, a real one is; an empty table says so. Text
(campaign names, statuses, reasons) is shown as it is, escaped, cut where pandas cuts it
(``display.max_colwidth``) with the whole text in the cell's ``title``. A row whose ``small_cell``
flag is set carries the class ``small-cell``.

The notebook shows the object returned (its ``_repr_html_``); the report page takes that HTML as the
notebook recorded it, through ``report.sanitize_html`` like every other output.
"""

from __future__ import annotations

import datetime as dt
import decimal
import numbers
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from dlvstats.config import PACKAGE_DIR
from dlvstats.formatting import (
    DASH,
    float_decimals,
    format_number,
    is_plain_number_column,
    is_rate_column,
    number,
    trim_timestamp_text,
)
from dlvstats.i18n import Locale, column_label, locale_of

TEMPLATES_DIR = PACKAGE_DIR / "templates"
TEMPLATE = "table.html.j2"
#: Boolean columns that flag a row's estimate as resting on too few messages (or buyers).
SMALL_FLAGS = ("small_cell", "small_cell_buyers")


@dataclass(frozen=True)
class Table:
    """A rendered table: ``html`` for the page (and Jupyter), ``text`` for a console."""

    html: str
    text: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text


def show_table(frame, locale: str | Locale | None = None, caption: str | None = None) -> Table:
    """A frame (pandas or polars; a Series is a one-column frame) as a table for a reader."""
    loc = locale_of(locale)
    frame = _as_pandas(frame)
    index = _index_columns(frame)
    columns = [(name, frame.iloc[:, i]) for i, name in enumerate(frame.columns)]
    header = [_label(name, loc) for name, _ in index + columns]
    index_texts = [_column_texts(values, name, loc) for name, values in index]
    cell_texts = [_column_texts(values, name, loc) for name, values in columns]
    small = _small_rows(frame)
    width = pd.get_option("display.max_colwidth")
    rows = [{"index": [texts[r] for texts in index_texts], "cells": [_shorten(texts[r], width) for texts in cell_texts],
             "small": small[r]} for r in range(len(frame))]
    html = _template().render(header=header, rows=rows, caption=caption, empty=loc.gettext("None."))
    return Table(html=html, text=frame.to_string())


def _as_pandas(frame) -> pd.DataFrame:
    if isinstance(frame, pd.DataFrame):
        return frame
    if isinstance(frame, pd.Series):
        return frame.to_frame()
    if hasattr(frame, "to_pandas"):  # polars (DataFrame or Series), pyarrow
        return _as_pandas(frame.to_pandas())
    raise TypeError(f"show_table needs a pandas or polars frame, not {type(frame).__name__}")


def _index_columns(frame: pd.DataFrame) -> list[tuple[object, pd.Series]]:
    """The index levels a reader should see: none for a default (unnamed integer) index."""
    index = frame.index
    if isinstance(index, pd.MultiIndex):
        return [(name or "", pd.Series(index.get_level_values(i))) for i, name in enumerate(index.names)]
    if index.name is None and pd.api.types.is_integer_dtype(index.dtype):
        return []
    return [(index.name or "", pd.Series(index))]


def _name(name) -> str:
    return " / ".join(str(part) for part in name) if isinstance(name, tuple) else str(name)


def _label(name, loc: Locale) -> str:
    """A column's label from the column dictionary, in the reader's language; else its name."""
    text = _name(name)
    return column_label(text, loc) or text


def _column_texts(values: pd.Series, name, loc: Locale) -> list[str]:
    """Each cell of a column as a reader sees it; the column's numbers share their decimals."""
    name = _name(name)
    items = list(values)
    figures = [number(v) for v in items if _is_number(v)]
    decimals = max((0 if f.is_integer() else float_decimals(f) for f in figures if f is not None), default=0)
    moments = [v for v in items if isinstance(v, dt.datetime) and not _missing(v)]
    dates_only = bool(moments) and all(m.tzinfo is None and m.time() == dt.time() and not getattr(m, "nanosecond", 0)
                                       for m in moments)
    rate, plain = is_rate_column(name), is_plain_number_column(name)
    return [_cell(v, rate, plain, decimals, dates_only, loc) for v in items]


def _cell(value, rate: bool, plain: bool, decimals: int, dates_only: bool, loc: Locale) -> str:
    if _missing(value):
        return DASH
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if _is_number(value):
        return format_number(value, rate=rate, plain=plain, decimals=decimals, loc=loc)
    if isinstance(value, dt.datetime):
        moment = pd.Timestamp(value).floor("s")
        return moment.strftime("%Y-%m-%d") if dates_only else moment.isoformat(sep=" ")
    if isinstance(value, str):
        return trim_timestamp_text(value)
    return str(value)


def _shorten(text: str, width: int | None) -> dict:
    """A cell's text cut as pandas cuts it (``display.max_colwidth``: 50 by default), the whole text
    kept in its ``title`` (shown on hover): a status reason is a sentence, and in English."""
    if width is None or len(text) < width:
        return {"text": text, "title": None}
    return {"text": text[:width - 4] + "...", "title": text}


def _is_number(value) -> bool:
    return isinstance(value, (numbers.Real, decimal.Decimal)) and not isinstance(value, (bool, np.bool_))


def _missing(value) -> bool:
    try:
        return bool(pd.api.types.is_scalar(value) and pd.isna(value))
    except (TypeError, ValueError):
        return False


def _small_rows(frame: pd.DataFrame) -> list[bool]:
    flags = [frame[c] for c in SMALL_FLAGS if c in frame.columns and isinstance(frame[c], pd.Series)]
    return [any(_flag(f.iloc[r]) for f in flags) for r in range(len(frame))]


def _flag(value) -> bool:
    return not _missing(value) and bool(value)


@lru_cache(maxsize=1)
def _template():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,  # every cell, label and caption is escaped: a table carries no markup of its data
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(TEMPLATE)


__all__ = ["SMALL_FLAGS", "TEMPLATE", "Table", "show_table"]
