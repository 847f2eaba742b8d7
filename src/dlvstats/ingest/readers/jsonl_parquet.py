"""Stage one JSON-lines or Parquet file (one record per physical line; Parquet rows numbered from
the file's own row numbers)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from dlvstats.ingest.readers.base import DropError, ReadOptions, Staged, _ident, _set_timezone, _sql_string
from dlvstats.ingest.readers.csv_file import _check_columns
from dlvstats.ingest.readers.dates import resolve_dates, sample_has_dmy
from dlvstats.ingest.schema import KINDS
from dlvstats.ingest.validation import conversion_sql


def _jsonl_read_error(path: Path, exc: Exception) -> DropError:
    message = str(exc)
    line = re.search(r"Line:\s*(\d+)", message)
    where = f", line {line.group(1)}" if line else ""
    if "unicode" in message.lower() or "utf-8" in message.lower():
        return DropError(f"{path}{where}: not valid UTF-8 text (JSON lines must be UTF-8)")
    if "maximum line size" in message.lower():
        return DropError(f"{path}{where}: a line is longer than 32 MiB")
    return DropError(f"{path}{where}: cannot read as JSON lines: {message.splitlines()[0]}")


def stage_jsonl(con, kind: str, path: Path, table: str, options: ReadOptions) -> tuple[Staged, list[dict]]:
    """Stage JSON lines: one object per physical line, so line numbers are exact."""
    path = Path(path)
    compression = "gzip" if path.name.endswith(".gz") else "none"
    lines = (
        "read_csv($path, columns={'raw': 'VARCHAR'}, header=false, auto_detect=false, "
        "delim=E'\\x1f', quote='', escape='', compression=$compression, strict_mode=false, "
        # buffer_size = max_line_size: DuckDB would otherwise reserve 16 x the line size per
        # buffer (2 GiB for 128 MiB lines), which a --memory-limit below that refuses outright
        "max_line_size=33554432, buffer_size=33554432)"
    )
    spec = KINDS[kind]
    cols = ", ".join(
        f"CASE WHEN json_valid(raw) AND json_type(raw) = 'OBJECT' THEN "
        f"json_extract_string(raw, {_sql_string('$.' + json_key(c))}) END AS {_ident(c)}"
        for c in spec.column_names
    )
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table}_lines AS "
            f"SELECT raw, row_number() OVER ()::BIGINT AS __line FROM {lines}",
            {"path": str(path), "compression": compression},
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {cols}, $file AS __file, __line, "
            f"raw AS __raw, CASE WHEN NOT json_valid(raw) THEN 'not valid JSON' "
            f"WHEN json_type(raw) <> 'OBJECT' THEN 'a JSON object expected, found ' || lower(json_type(raw)) END AS __error "
            f"FROM {table}_lines WHERE trim(raw) <> ''",
            {"file": str(path)},
        )
        keys = con.execute(
            f"SELECT DISTINCT unnest(json_keys(raw)) FROM {table}_lines "
            f"WHERE trim(raw) <> '' AND json_valid(raw) AND json_type(raw) = 'OBJECT'"
        ).fetchall()
    except duckdb.Error as exc:
        raise _jsonl_read_error(path, exc) from exc
    present = [k[0].strip().lower() for k in keys if k[0] is not None]
    missing = [c.name for c in spec.columns if c.required and c.name not in present]
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    if missing and present:
        raise DropError(
            f"{path}: no record has the required field(s) {', '.join(missing)} for kind '{kind}'"
        )
    ignored = sorted(set(present) - set(spec.column_names))
    con.execute(f"DROP TABLE {table}_lines")
    resolved, notes = resolve_dates(con, kind, table, path, options, options)
    return Staged(kind, str(path), table, rows, ignored, fmt="jsonl", read_options=resolved, notes=notes), []


def json_key(column: str) -> str:
    return column


def stage_parquet(con, kind: str, path: Path, table: str, options: ReadOptions) -> tuple[Staged, list[dict]]:
    path = Path(path)
    try:
        described = con.execute("DESCRIBE SELECT * FROM read_parquet($p)", {"p": str(path)}).fetchall()
    except duckdb.Error as exc:
        raise DropError(f"{path}: cannot read as Parquet: {str(exc).splitlines()[0]}") from exc
    present = [row[0].strip().lower() for row in described]
    original = {row[0].strip().lower(): row[0] for row in described}
    usable, ignored = _check_columns(kind, path, present)
    select_cols = ", ".join(
        f"CAST({_ident(original[c])} AS VARCHAR) AS {_ident(c)}" if c in usable else f"NULL::VARCHAR AS {_ident(c)}"
        for c in KINDS[kind].column_names
    )
    rows_sql = (
        f"(SELECT {select_cols}, $file AS __file, (file_row_number + 1)::BIGINT AS __line, NULL::VARCHAR AS __raw, "
        f"NULL::VARCHAR AS __error FROM read_parquet($file, file_row_number=true))"
    )
    params = {"file": str(path)}
    try:
        if _convert_while_reading(con, kind, rows_sql, params, options):
            return _stage_parquet_converted(con, kind, path, table, rows_sql, params, options, ignored)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {rows_sql}", params)
    except duckdb.Error as exc:
        raise DropError(f"{path}: cannot read as Parquet: {str(exc).splitlines()[0]}") from exc
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    resolved, notes = resolve_dates(con, kind, table, path, options, options)
    return Staged(kind, str(path), table, rows, ignored, fmt="parquet", read_options=resolved, notes=notes), []


def _convert_while_reading(con, kind: str, rows_sql: str, params: dict, options: ReadOptions) -> bool:
    """One pass (read, convert, validate) when the loader's zone is known and the first rows hold no
    day/month dates (see ``readers.csv_file``)."""
    if options.convert_timezone is None:
        return False
    return bool(options.date_format) or not sample_has_dmy(con, kind, rows_sql, params)


def _stage_parquet_converted(con, kind, path: Path, table: str, rows_sql: str, params: dict,
                             options: ReadOptions, ignored: list[str]):
    fmt_param = f"{table}_date_format" if options.date_formats() else None
    if fmt_param:
        params = {**params, fmt_param: options.date_formats()}
    zone = con.execute("SELECT current_setting('TimeZone')").fetchone()[0]
    con.execute("SET TimeZone = $tz", {"tz": options.convert_timezone})
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS "
                    + conversion_sql(kind, rows_sql, fmt_param, bool(options.decimal_comma)), params)
    finally:
        _set_timezone(con, zone)
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return Staged(kind, str(path), table, rows, ignored, fmt="parquet", read_options=options,
                  converted=options.convert_timezone), []
