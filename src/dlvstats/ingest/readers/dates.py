"""Dates that are not ISO 8601: the day/month order of a file's timestamps, detected when a value
proves it and none contradicts it; the ``--date-format`` check."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb

from dlvstats.ingest.readers.base import DropError, ReadOptions, _ident
from dlvstats.ingest.schema import KINDS

_DMY = r"([0-9]{1,2})([/.-])([0-9]{1,2})[/.-]([0-9]{4})(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
#: rows sampled to see whether a file has non-ISO dates at all (the full scan runs only if so)
_DATE_SAMPLE_ROWS = 20000


def _formats_for(order: str, separators: list[str]) -> tuple[str, ...]:
    formats = []
    for s in separators:
        date = f"%d{s}%m{s}%Y" if order == "dmy" else f"%m{s}%d{s}%Y"
        for t in (" ", "T"):
            formats += [f"{date}{t}%H:%M:%S.%f", f"{date}{t}%H:%M:%S", f"{date}{t}%H:%M"]
        formats.append(date)
    return tuple(formats)


def sample_has_dmy(con, kind: str, source: str, params: dict | None = None) -> bool:
    """Whether the first rows of ``source`` (a table, or a parenthesised SELECT with ``params``)
    hold a timestamp written day/month/year or month/day/year (the full scan runs only if so)."""
    columns = [c.name for c in KINDS[kind].columns if c.type == "timestamp"]
    if not columns:
        return False
    values = ", ".join(_ident(c) for c in columns)
    return bool(con.execute(
        f"SELECT count(*) FROM (SELECT unnest([{values}]) AS v FROM (SELECT {values} FROM {source} "
        f"LIMIT {_DATE_SAMPLE_ROWS})) WHERE regexp_full_match(trim(v), $p)",
        {**(params or {}), "p": _DMY},
    ).fetchone()[0])


def resolve_dates(con, kind: str, table: str, path: Path, resolved: ReadOptions, options: ReadOptions):
    """Detect a day/month/year (or month/day/year) layout of timestamps when it is unambiguous."""
    if options.date_format:
        return resolved, []
    columns = [c.name for c in KINDS[kind].columns if c.type == "timestamp"]
    if not columns:
        return resolved, []
    values = ", ".join(_ident(c) for c in columns)
    if not sample_has_dmy(con, kind, table):
        return resolved, []
    first, second, separators, example, line = con.execute(
        f"WITH v AS (SELECT trim(u.v) AS v, __line FROM {table}, unnest([{values}]) AS u(v) "
        f"WHERE regexp_full_match(trim(u.v), $p)) "
        f"SELECT max(regexp_extract(v, $p, 1)::INTEGER), max(regexp_extract(v, $p, 3)::INTEGER), "
        f"list(DISTINCT regexp_extract(v, $p, 2)), arg_min(v, __line), min(__line) FROM v",
        {"p": _DMY},
    ).fetchone()
    separators = sorted(separators)
    if first > 12 and second <= 12:
        order, words = "dmy", "day/month/year"
    elif second > 12 and first <= 12:
        order, words = "mdy", "month/day/year"
    elif first > 12 and second > 12:
        return resolved, []  # neither order fits every value: the rows are refused one by one
    else:
        s = separators[0]
        raise DropError(
            f"{path}, record {line}: dates like {example!r} could be day/month or month/day (no value "
            f"has a day above 12). Pass `--date-format '%d{s}%m{s}%Y %H:%M'` (day first) or "
            f"`--date-format '%m{s}%d{s}%Y %H:%M'` (month first)."
        )
    formats = _formats_for(order, separators)
    note = (
        f"{path}: dates like {example!r} read as {words} ({formats[2]}), detected; naive times are "
        "UTC unless --timezone says otherwise"
    )
    return replace(resolved, date_format=formats), [note]


def check_date_format(con, options: ReadOptions) -> None:
    """Refuse a --date-format DuckDB's strptime does not understand, before reading anything."""
    formats = options.date_formats()
    if not formats:
        return
    try:
        con.execute("SELECT try_strptime('2026-01-01', $f::VARCHAR[])", {"f": formats}).fetchone()
    except duckdb.Error as exc:
        raise DropError(
            f"--date-format {options.date_format!r} is not a strptime pattern DuckDB understands "
            f"({str(exc).splitlines()[0]}); e.g. '%d/%m/%Y %H:%M' for 27/11/2026 14:03"
        ) from exc
