"""Read a canonical drop (../shared/spec/canonical-logs.md) into staged tables.

A drop is a directory whose files (or sub-directories of files) are named after their kind. Each
file becomes one temporary staged table (see docs/architecture.md): every canonical column as
VARCHAR, plus ``__file``, ``__line``, ``__raw`` and ``__error``. DuckDB's own readers do the work
with an explicit dialect and explicit column types; nothing here loops over rows.

This module must not write to the canonical tables: ``core.load`` does that, atomically.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dlvstats.ingest.schema import FILE_EXTENSIONS, KINDS


class DropError(ValueError):
    """The drop cannot be read as a whole (unknown kind, unreadable file, missing column...)."""


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


@dataclass(frozen=True)
class ReadOptions:
    delimiter: str = ","
    encoding: str = "utf-8"
    date_format: str | None = None


def _kind_and_ext(path: Path) -> tuple[str | None, str | None]:
    name = path.name
    for ext in FILE_EXTENSIONS:
        if name.endswith(ext):
            return name[: -len(ext)], ext
    return None, None


def list_drop_files(drop: Path) -> list[tuple[str, Path, str]]:
    """(kind, file, extension) for every file of a drop, in a stable order; unknown kinds are an error."""
    drop = Path(drop)
    if not drop.exists():
        raise DropError(f"{drop}: no such file or directory")
    found: list[tuple[str, Path, str]] = []
    unknown: list[str] = []
    if drop.is_file():
        entries = [drop]
    else:
        entries = sorted(p for p in drop.iterdir() if not p.name.startswith("."))
    for entry in entries:
        if entry.is_dir():
            if entry.name not in KINDS:
                unknown.append(f"{entry}/ (directory)")
                continue
            parts = sorted(p for p in entry.iterdir() if p.is_file() and not p.name.startswith("."))
            for part in parts:
                _, ext = _kind_and_ext(part)
                if ext is None:
                    unknown.append(str(part))
                else:
                    found.append((entry.name, part, ext))
            continue
        if entry.name in ("truth.json", "README.md", "README.txt") or entry.name.startswith("truth_"):
            continue  # the simulator's latent truth and notes travel beside a drop; they are not data
        kind, ext = _kind_and_ext(entry)
        if kind not in KINDS:
            unknown.append(str(entry))
            continue
        found.append((kind, entry, ext))
    if unknown:
        raise DropError(
            "unknown kind(s) in drop "
            f"{drop}: {', '.join(unknown)}. Files must be named after a canonical kind "
            f"({', '.join(KINDS)}) with extension {', '.join(FILE_EXTENSIONS)}; move other files out "
            "of the drop, or use `--format` for ESP/MTA formats."
        )
    if not found:
        raise DropError(f"{drop}: no data files found (expected e.g. sends.csv, opens.parquet)")
    return found


def _open_text(path: Path, encoding: str):
    raw = gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")
    return io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")


def read_csv_header(path: Path, options: ReadOptions) -> list[str]:
    try:
        with _open_text(path, options.encoding) as handle:
            first = handle.readline()
    except UnicodeDecodeError as exc:
        raise DropError(
            f"{path}, line 1: not valid {options.encoding} text ({exc.reason}). If the file comes "
            "from a French export, try `--encoding latin-1` (or cp1252)."
        ) from exc
    except (OSError, EOFError) as exc:
        raise DropError(f"{path}: cannot read the file ({exc})") from exc
    first = first.lstrip("\ufeff")
    if not first.strip():
        raise DropError(f"{path}, line 1: empty file or missing header row")
    header = next(csv.reader([first], delimiter=options.delimiter))
    return [h.strip().lower() for h in header]


def _sql_string(value: str) -> str:
    """A SQL string literal for a table-function argument that cannot be a prepared parameter."""
    return "'" + value.replace("'", "''") + "'"


def _check_columns(kind: str, path: Path, present: list[str]) -> tuple[list[str], list[str]]:
    spec = KINDS[kind]
    missing = [c.name for c in spec.columns if c.required and c.name not in present]
    if missing:
        raise DropError(
            f"{path}, line 1: missing required column(s) {', '.join(missing)} for kind '{kind}' "
            f"(header has: {', '.join(present) or 'nothing'})"
        )
    duplicated = sorted({c for c in present if present.count(c) > 1})
    if duplicated:
        raise DropError(f"{path}, line 1: column(s) named twice: {', '.join(duplicated)}")
    ignored = [c for c in present if c not in spec.column_names]
    return [c for c in spec.column_names if c in present], ignored


def stage_csv(con, kind: str, path: Path, table: str, options: ReadOptions) -> tuple[Staged, list[dict]]:
    """Stage a CSV file; returns the staged table and structural errors (line, reason, raw)."""
    header = read_csv_header(path, options)
    usable, ignored = _check_columns(kind, path, header)
    columns = "{" + ", ".join(f"{_sql_string(h or f'column{i}')}: 'VARCHAR'" for i, h in enumerate(header)) + "}"
    encoding = {"utf-8": "utf-8", "utf8": "utf-8"}.get(options.encoding.lower(), options.encoding.lower())
    reader = (
        f"read_csv({_sql_string(str(path))}, columns={columns}, header=true, auto_detect=false, "
        f"delim={_sql_string(options.delimiter)}, quote='\"', escape='\"', strict_mode=true, "
        f"encoding={_sql_string(encoding)}, store_rejects=true, ignore_errors=true, "
        f"rejects_scan='reject_scans', rejects_table='reject_errors')"
    )
    select_cols = ", ".join(
        f'"{c}"' if c in usable else f'NULL::VARCHAR AS "{c}"' for c in KINDS[kind].column_names
    )
    raw_struct = ", ".join(f"{_sql_string(c)}: \"{c}\"" for c in header if c)
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS "
            f"SELECT {select_cols}, {_sql_string(str(path))} AS __file, "
            f"(row_number() OVER () + 1)::BIGINT AS __line, "
            f"to_json({{{raw_struct}}})::VARCHAR AS __raw, NULL::VARCHAR AS __error FROM {reader}"
        )
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        hint = ""
        if "unicode" in message.lower() or "utf" in message.lower():
            hint = " The file is not valid UTF-8: pass `--encoding latin-1` (or cp1252) if it comes from a French export."
        raise DropError(f"{path}: cannot read as CSV: {message}.{hint}") from exc
    errors = con.execute(
        # DuckDB may report one error per surplus column of the same record: one row per line here
        "SELECT e.line, arg_min(e.error_type, e.column_idx), arg_min(e.error_message, e.column_idx), "
        "trim(arg_min(e.csv_line, e.column_idx), chr(10) || chr(13)) FROM reject_errors e "
        "JOIN reject_scans s USING (scan_id) WHERE s.file_path = $p GROUP BY e.line ORDER BY e.line",
        {"p": str(path)},
    ).fetchall()
    con.execute("DELETE FROM reject_errors")
    con.execute("DELETE FROM reject_scans")
    structural = [
        {"line": int(line), "reason": f"{etype.lower()}: {message}", "raw": raw}
        for line, etype, message, raw in errors
    ]
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    staged = Staged(kind, str(path), table, rows + len(structural), ignored, lines_are_records=True)
    return staged, structural


def stage_jsonl(con, kind: str, path: Path, table: str, options: ReadOptions) -> tuple[Staged, list[dict]]:
    """Stage JSON lines: one object per physical line, so line numbers are exact."""
    compression = "gzip" if path.name.endswith(".gz") else "none"
    lines = (
        f"read_csv({_sql_string(str(path))}, columns={{'raw': 'VARCHAR'}}, header=false, auto_detect=false, "
        f"delim=E'\\x1f', quote='', escape='', compression='{compression}', strict_mode=false, "
        f"max_line_size=134217728)"
    )
    spec = KINDS[kind]
    cols = ", ".join(
        f"CASE WHEN json_valid(raw) AND json_type(raw) = 'OBJECT' THEN "
        f"json_extract_string(raw, {_sql_string('$.' + json_key(c))}) END AS \"{c}\""
        for c in spec.column_names
    )
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table}_lines AS "
            f"SELECT raw, row_number() OVER ()::BIGINT AS __line FROM {lines}"
        )
    except duckdb.Error as exc:
        raise DropError(f"{path}: cannot read as JSON lines: {str(exc).splitlines()[0]}") from exc
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {cols}, {_sql_string(str(path))} AS __file, __line, "
        f"raw AS __raw, CASE WHEN NOT json_valid(raw) THEN 'not valid JSON' "
        f"WHEN json_type(raw) <> 'OBJECT' THEN 'a JSON object expected, found ' || lower(json_type(raw)) END AS __error "
        f"FROM {table}_lines WHERE trim(raw) <> ''"
    )
    keys = con.execute(
        f"SELECT DISTINCT unnest(json_keys(raw)) FROM {table}_lines "
        f"WHERE trim(raw) <> '' AND json_valid(raw) AND json_type(raw) = 'OBJECT'"
    ).fetchall()
    present = [k[0].strip().lower() for k in keys]
    missing = [c.name for c in spec.columns if c.required and c.name not in present]
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    if missing and rows and not all(p is None for p in present):
        raise DropError(
            f"{path}: no record has the required field(s) {', '.join(missing)} for kind '{kind}'"
        )
    ignored = sorted(set(present) - set(spec.column_names))
    con.execute(f"DROP TABLE {table}_lines")
    return Staged(kind, str(path), table, rows, ignored, fmt="jsonl"), []


def json_key(column: str) -> str:
    return column


def stage_parquet(con, kind: str, path: Path, table: str, options: ReadOptions) -> tuple[Staged, list[dict]]:
    try:
        described = con.execute(
            f"DESCRIBE SELECT * FROM read_parquet({_sql_string(str(path))})"
        ).fetchall()
    except duckdb.Error as exc:
        raise DropError(f"{path}: cannot read as Parquet: {str(exc).splitlines()[0]}") from exc
    present = [row[0].strip().lower() for row in described]
    original = {row[0].strip().lower(): row[0] for row in described}
    usable, ignored = _check_columns(kind, path, present)
    select_cols = ", ".join(
        f'CAST("{original[c]}" AS VARCHAR) AS "{c}"' if c in usable else f'NULL::VARCHAR AS "{c}"'
        for c in KINDS[kind].column_names
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {select_cols}, {_sql_string(str(path))} AS __file, "
        f"(file_row_number + 1)::BIGINT AS __line, NULL::VARCHAR AS __raw, NULL::VARCHAR AS __error "
        f"FROM read_parquet({_sql_string(str(path))}, file_row_number=true)"
    )
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return Staged(kind, str(path), table, rows, ignored, fmt="parquet"), []


def stage_drop(con, drop: Path, options: ReadOptions, start_index: int = 0, progress=None):
    """Stage every file of a drop; returns (staged list, structural errors per staged table name)."""
    staged: list[Staged] = []
    structural: dict[str, list[dict]] = {}
    files = list_drop_files(drop)
    for i, (kind, path, ext) in enumerate(files):
        table = f"__stage_{start_index + i}"
        if ext in (".csv", ".csv.gz"):
            item, errors = stage_csv(con, kind, path, table, options)
        elif ext in (".jsonl", ".jsonl.gz"):
            item, errors = stage_jsonl(con, kind, path, table, options)
        else:
            item, errors = stage_parquet(con, kind, path, table, options)
        staged.append(item)
        structural[table] = errors
        if progress:
            progress("read", i + 1, len(files), f"{path} ({item.read_rows:,} rows)")
    return staged, structural


def physical_lines(path: str, record_lines: list[int], options: ReadOptions) -> dict[int, int]:
    """Map record numbers (+1 for the header) to physical line numbers, for error messages only.

    Quoted fields may hold newlines, so record N does not always start on line N. This scans the
    file once in Python, and only on the error path, for the few rows we report.
    """
    wanted = set(record_lines)
    mapping: dict[int, int] = {}
    with _open_text(Path(path), options.encoding) as handle:
        reader = csv.reader(handle, delimiter=options.delimiter)
        start = 1
        for record_index, _ in enumerate(reader, start=1):
            if record_index in wanted:
                mapping[record_index] = start
                if len(mapping) == len(wanted):
                    break
            start = reader.line_num + 1
    return mapping
