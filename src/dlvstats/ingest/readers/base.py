"""What every reader shares: the drop error, the read options, the staged-table record, and the
few helpers that build SQL text from fixed names."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dlvstats.ingest.schema import FILE_EXTENSIONS


class DropError(ValueError):
    """The drop cannot be read as a whole (unknown kind, unreadable file, missing column...)."""


@dataclass(frozen=True)
class ReadOptions:
    """How to read text files. ``None`` means: detect it per file (see the module docstring)."""

    #: CSV field separator; None = detected from the header line.
    delimiter: str | None = None
    #: text encoding (any Python codec name: utf-8, latin-1, cp1252, utf-16...); None = detected.
    encoding: str | None = None
    #: strptime pattern(s) for timestamps that are not ISO 8601, e.g. '%d/%m/%Y %H:%M';
    #: None = ISO 8601 only, or the day/month order detected per file when it is unambiguous.
    date_format: str | tuple[str, ...] | None = None
    #: accept '12,50' in decimal columns; None = yes when the file's separator is not a comma.
    decimal_comma: bool | None = None
    #: ``--map``: a ``mapping.ColumnMapping`` applied to the files it is given for (docs/inputs.md).
    mapping: object | None = None
    #: internal (set by ``ingest_paths``): the loader's ``--timezone``. When set, a UTF-8 CSV file
    #: whose first rows hold no day/month dates is converted and validated while it is read (one
    #: pass, no VARCHAR copy; ``Staged.converted``), with this zone for naive times.
    convert_timezone: str | None = None

    def date_formats(self) -> list[str]:
        if not self.date_format:
            return []
        return [self.date_format] if isinstance(self.date_format, str) else list(self.date_format)


@dataclass
class Staged:
    """One input file staged into a temporary table."""

    kind: str
    file: str
    table: str
    read_rows: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    #: True when line numbers are record numbers + 1 and must be mapped to physical lines on error.
    lines_are_records: bool = False
    fmt: str = "csv"
    #: the options this file was read with, after detection (None: the load's options apply).
    read_options: ReadOptions | None = None
    #: what was detected or assumed while reading this file, for the ingest summary.
    notes: list[str] = field(default_factory=list)
    #: When set, the staged table's ``__raw`` is NULL and this SQL expression (over the staged
    #: table aliased ``s``, with ``raw_params``) rebuilds a record's raw text: the loader fills it
    #: in for bad rows only, since building it for every row of a big file costs a third of staging.
    raw_sql: str | None = None
    raw_params: dict = field(default_factory=dict)
    #: With ``raw_sql``: the relation it reads (default: the staged table), e.g. the file read again.
    raw_source: str | None = None
    #: The time zone the staged table was already converted in (its rows are the loader's converted
    #: rows, ``__reason`` included), or None when the loader converts it.
    converted: str | None = None


def _kind_and_ext(path: Path) -> tuple[str | None, str | None]:
    name = path.name
    for ext in FILE_EXTENSIONS:
        if name.endswith(ext):
            return name[: -len(ext)], ext
    return None, None


def _sql_string(value: str) -> str:
    """A SQL string literal, for the rare place a value cannot be a prepared parameter."""
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    """A quoted SQL identifier (names here come from the fixed schema, but quote them properly)."""
    return '"' + name.replace('"', '""') + '"'


def _set_timezone(con, zone: str) -> None:
    """Restore the session's zone; after an error the transaction is aborted and rolled back by
    the caller, and the zone goes with the connection."""
    import duckdb

    try:
        con.execute("SET TimeZone = $tz", {"tz": zone})
    except duckdb.Error:
        pass
