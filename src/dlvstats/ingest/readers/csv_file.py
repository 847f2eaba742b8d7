"""Stage one CSV file: DuckDB's CSV reader with the resolved dialect and explicit VARCHAR columns
(named by position: nothing from the file's header enters the SQL text), the mapping's renames,
structural errors with their record numbers, and physical lines on the error path."""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from dlvstats.ingest.readers.base import DropError, ReadOptions, Staged, _ident, _kind_and_ext, _set_timezone
from dlvstats.ingest.readers.dates import resolve_dates, sample_has_dmy
from dlvstats.ingest.readers.dialect import (
    _CANDIDATE_DELIMITERS,
    _DELIMITER_NAMES,
    _MOJIBAKE_SQL,
    CsvDialect,
    _has_c1_bytes,
    _label,
    _open_text,
    codec_name,
    sniff_csv,
    transcode_to_utf8,
)
from dlvstats.ingest.schema import KINDS
from dlvstats.ingest.validation import conversion_sql


def _mapped_columns(kind: str, table: str, usable: list[str], position: dict[str, int], mapping):
    """The staging SELECT list: each canonical column from its file column (with the mapping's
    value renames as a CASE), a mapping constant, or NULL; and the parameters it uses."""
    params: dict = {}
    cols = []
    for c in KINDS[kind].column_names:
        if c in usable:
            expr = f"c{position[c]}"
            renames = mapping.values.get(c, {}) if mapping is not None else {}
            if renames:
                whens = []
                for j, (src, dst) in enumerate(renames.items()):
                    params[f"{table}_v{position[c]}_{j}"], params[f"{table}_w{position[c]}_{j}"] = src, dst
                    whens.append(f"WHEN ${table}_v{position[c]}_{j} THEN ${table}_w{position[c]}_{j}")
                expr = f"CASE trim({expr}) {' '.join(whens)} ELSE {expr} END"
        elif mapping is not None and c in mapping.constants:
            params[f"{table}_k_{c}"] = mapping.constants[c]
            expr = f"${table}_k_{c}::VARCHAR"
        else:
            expr = "NULL::VARCHAR"
        cols.append(f"{expr} AS {_ident(c)}")
    return ", ".join(cols), params


def _check_columns(kind: str, path: Path, present: list[str], delimiter: str | None = None,
                   detected: bool = True, mapping_hint: str = "") -> tuple[list[str], list[str]]:
    spec = KINDS[kind]
    missing = [c.name for c in spec.columns if c.required and c.name not in present]
    if missing:
        hint = ""
        if delimiter is not None and len(present) == 1:
            others = [d for d in _CANDIDATE_DELIMITERS if d != delimiter and d in present[0]]
            if others:
                hint = f" The header looks {_DELIMITER_NAMES[others[0]]}-separated: pass `--delimiter`."
            elif detected:
                hint = " If the file uses another field separator, pass `--delimiter`."
        shown = ", ".join(present) if present else "nothing"
        raise DropError(
            f"{path}, line 1: missing required column(s) {', '.join(missing)} for kind '{kind}' "
            f"(header has: {shown[:300]}).{hint}{mapping_hint}"
        )
    duplicated = sorted({c for c in present if present.count(c) > 1})
    if duplicated:
        raise DropError(f"{path}, line 1: column(s) named twice: {', '.join(duplicated)}")
    ignored = [c for c in present if c not in spec.column_names]
    return [c for c in spec.column_names if c in present], ignored


# ---------------------------------------------------------------------------------------------
# Staging


_STRUCTURAL_HINTS = {
    "invalid encoding": "not valid UTF-8 text; pass `--encoding cp1252` (or latin-1) if the file comes "
    "from a Windows or French export",
    "line size over maximum": "the record is longer than the CSV reader's limit (a broken quote, or a "
    "field of several MB)",
}


def _structural_reason(etype: str, message: str, dialect: CsvDialect, detected_delimiter: bool) -> str:
    kind = etype.lower()
    if kind in _STRUCTURAL_HINTS:
        return f"{kind}: {_STRUCTURAL_HINTS[kind]}"
    reason = f"{kind}: {message}"
    if kind in ("missing columns", "too many columns") and detected_delimiter:
        reason += f" (separator {_DELIMITER_NAMES.get(dialect.delimiter, repr(dialect.delimiter))} was detected from the header; `--delimiter` overrides it)"
    return reason


def stage_csv(con, kind: str, path: Path, table: str, options: ReadOptions) -> tuple[Staged, list[dict]]:
    """Stage a CSV file; returns the staged table and structural errors (line, reason, raw)."""
    path = Path(path)
    dialect = sniff_csv(path, kind, options)
    if dialect.codec == "iso8859-1" and not options.encoding and _has_c1_bytes(path):
        # Latin-1 was guessed from the first 64 KiB; Windows-1252 bytes come later: transcode instead.
        dialect.codec = "cp1252"
        dialect.notes = [n.replace("read as Latin-1", "read as Windows-1252 (bytes 0x80-0x9F further down)")
                         for n in dialect.notes]
    return _stage_csv(con, kind, path, table, options, dialect)


@dataclass
class _CsvColumns:
    """How one CSV file's columns are staged: the SELECT list and its parameters, and the SQL that
    rebuilds a record's raw text (``raw_sql``) or joins its fields (``text_sql``)."""

    header: list[str]
    usable: list[str]
    ignored: list[str]
    notes: list[str]
    resolved: ReadOptions
    select_sql: str
    params: dict
    raw_sql: str
    raw_params: dict
    text_sql: str


def _csv_columns(kind, path: Path, table: str, options: ReadOptions, dialect: CsvDialect) -> _CsvColumns:
    header = [h or f"column{i + 1}" for i, h in enumerate(dialect.header)]
    mapping = options.mapping
    source_header = list(header)
    if mapping is not None:
        mapping.check_header(path, header)
        header = mapping.rename(header)
    present = header + [c for c in (mapping.constants if mapping is not None else {}) if c not in header]
    usable, ignored = _check_columns(kind, path, present, dialect.delimiter, not options.delimiter,
                                     mapping.missing_hint() if mapping is not None else "")
    usable = [c for c in usable if c in header]
    notes = list(dialect.notes)
    decimal_comma = options.decimal_comma if options.decimal_comma is not None else dialect.delimiter != ","
    if decimal_comma and options.decimal_comma is None and "amount" in usable:
        notes.append(f"{path}: decimal commas accepted in amount ('12,50'), as the file is not comma-separated")
    resolved = replace(
        options, delimiter=dialect.delimiter, encoding=dialect.codec, decimal_comma=decimal_comma
    )
    # Columns are named by position (c0, c1, ...): nothing from the file's header enters the SQL text.
    position = {name: i for i, name in enumerate(header)}
    select_cols, map_params = _mapped_columns(kind, table, usable, position, mapping)
    # Header columns not staged under a canonical name (ignored or repeated ones) are kept as
    # __c<i>, so a bad row's raw record can be rebuilt whole, with every column, on the error path.
    staged_as = {
        i: _ident(name) if name in usable and position[name] == i else f'"__c{i}"'
        for i, name in enumerate(header)
    }
    extra_cols = "".join(f", c{i} AS {ref}" for i, ref in staged_as.items() if ref.startswith('"__c'))
    raw_params = {f"{table}_k{i}": name for i, name in enumerate(source_header)}
    raw_sql = "json_object(" + ", ".join(f"${table}_k{i}, s.{ref}" for i, ref in staged_as.items()) + ")::VARCHAR"
    text_sql = "concat_ws(chr(31), " + ", ".join(ref for ref in staged_as.values()) + ")"
    return _CsvColumns(header, usable, ignored, notes, resolved, select_cols + extra_cols, dict(map_params),
                       raw_sql, raw_params, text_sql)


def _reader(prefix: str = "", rejects: bool = True) -> str:
    """DuckDB's CSV reader with the resolved dialect; its parameters are ``_reader_params``'s."""
    return (
        f"read_csv(${prefix}source, columns=${prefix}columns, header=true, auto_detect=false, delim=${prefix}delim, "
        f"quote='\"', escape='\"', strict_mode=true, encoding=${prefix}encoding, skip=${prefix}skip, ignore_errors=true"
        + (", store_rejects=true, rejects_scan='reject_scans', rejects_table='reject_errors')" if rejects else ")")
    )


def _reader_params(source: Path, dialect: CsvDialect, columns: _CsvColumns, prefix: str = "") -> dict:
    return {
        f"{prefix}source": str(source),
        f"{prefix}columns": {f"c{i}": "VARCHAR" for i in range(len(columns.header))},
        f"{prefix}delim": dialect.delimiter,
        f"{prefix}encoding": dialect.duckdb_encoding or "utf-8",
        f"{prefix}skip": int(dialect.skip),
    }


def _staged_rows(columns: _CsvColumns, dialect: CsvDialect, reader: str) -> str:
    """The staged rows of the file, as the body of a SELECT: every canonical column as VARCHAR."""
    return (
        f"SELECT {columns.select_sql}, $file AS __file, "
        f"(row_number() OVER () + 1 + {int(dialect.skip)})::BIGINT AS __line, "
        f"NULL::VARCHAR AS __raw, NULL::VARCHAR AS __error FROM {reader}"
    )


def _read_csv_into(con, table: str, path: Path, dialect: CsvDialect, columns: _CsvColumns,
                   convert=None) -> list[tuple]:
    """``CREATE TEMP TABLE table`` from the file with DuckDB's CSV reader; returns the records it
    refused (line, error type, message, text), one per record. ``convert`` (rows SQL -> (SQL,
    parameters)) turns the staged rows into what the table holds (default: the staged rows)."""
    params = dict(columns.params)
    transcoded: Path | None = None
    source = path
    if dialect.duckdb_encoding is None:
        transcoded = transcode_to_utf8(path, dialect.codec)
        source = transcoded
    params.update(_reader_params(source, dialect, columns), file=str(path))
    body = _staged_rows(columns, dialect, _reader())
    if convert is not None:
        body, more = convert(f"({body})")
        params.update(more)
    try:
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {body}", params)
        except duckdb.Error as exc:
            raise _csv_read_error(path, exc) from exc
        errors = con.execute(
            # DuckDB may report one error per surplus column of the same record: one row per line here
            # (column_idx is NULL for record-level errors such as an over-long line)
            "SELECT e.line, arg_min(e.error_type, coalesce(e.column_idx, -1)), "
            "arg_min(e.error_message, coalesce(e.column_idx, -1)), "
            "trim(arg_min(e.csv_line, coalesce(e.column_idx, -1)), chr(10) || chr(13)) FROM reject_errors e "
            "JOIN reject_scans s USING (scan_id) WHERE s.file_path = $p GROUP BY e.line ORDER BY e.line",
            {"p": str(source)},
        ).fetchall()
        # (on an error the whole ingest's transaction rolls back: no clean-up needed there)
        con.execute("DELETE FROM reject_errors")
        con.execute("DELETE FROM reject_scans")
    finally:
        if transcoded is not None:
            transcoded.unlink(missing_ok=True)
    return errors


def _csv_read_error(path: Path, exc: Exception) -> DropError:
    message = str(exc).splitlines()[0]
    if "not latin-1 encoded" in message.lower():
        return DropError(
            f"{path}: holds bytes 0x80-0x9F, which Latin-1 maps to control characters: the file "
            "is Windows-1252. Pass `--encoding cp1252`."
        )
    hint = ""
    if "unicode" in message.lower() or "utf" in message.lower():
        hint = " The file is not valid UTF-8: pass `--encoding cp1252` (or latin-1) if it comes from a French export."
    return DropError(f"{path}: cannot read as CSV: {message.rstrip('.')}.{hint}")


def _stage_csv(con, kind, path: Path, table: str, options: ReadOptions, dialect: CsvDialect):
    columns = _csv_columns(kind, path, table, options, dialect)
    if _can_convert_while_reading(con, kind, path, options, dialect, columns):
        return _stage_csv_converted(con, kind, path, table, options, dialect, columns)
    errors = _read_csv_into(con, table, path, dialect, columns)
    structural = _structural(errors, dialect, options)
    if dialect.codec in ("iso8859-1", "cp1252"):
        _refuse_mojibake(con, table, path, dialect.codec, columns.text_sql)
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    resolved, more = resolve_dates(con, kind, table, path, columns.resolved, options)
    staged = Staged(
        kind, str(path), table, rows + len(structural), columns.ignored, lines_are_records=True,
        read_options=resolved, notes=columns.notes + more, raw_sql=columns.raw_sql, raw_params=columns.raw_params,
    )
    return staged, structural


def _structural(errors: list[tuple], dialect: CsvDialect, options: ReadOptions) -> list[dict]:
    return [
        {"line": int(line), "reason": _structural_reason(etype, message, dialect, not options.delimiter), "raw": raw}
        for line, etype, message, raw in errors
    ]


def _can_convert_while_reading(con, kind, path: Path, options: ReadOptions, dialect: CsvDialect,
                               columns: _CsvColumns) -> bool:
    """One pass (read, convert, validate) when the loader's zone is known, the file is UTF-8 (a
    one-byte encoding needs the mojibake scan of the text) and its first rows hold no day/month
    dates (their order is detected from the whole file first)."""
    if options.convert_timezone is None or dialect.codec != "utf-8" or dialect.duckdb_encoding != "utf-8":
        return False
    if options.date_format:
        return True
    params = {**columns.params, **_reader_params(path, dialect, columns)}
    sample = f"(SELECT {columns.select_sql} FROM {_reader(rejects=False)})"
    try:
        return not sample_has_dmy(con, kind, sample, params)
    except duckdb.Error as exc:  # (inside the ingest's transaction: refused, as the full read would be)
        raise _csv_read_error(path, exc) from exc


def _stage_csv_converted(con, kind, path: Path, table: str, options: ReadOptions, dialect: CsvDialect,
                         columns: _CsvColumns):
    """The staged table holds the loader's converted rows (``Staged.converted``): no VARCHAR copy of
    the file. A bad row's raw record is rebuilt on the error path by reading the file again."""
    resolved = columns.resolved
    fmt_param = f"{table}_date_format" if resolved.date_formats() else None

    def convert(rows_sql: str):
        sql = conversion_sql(kind, rows_sql, fmt_param, bool(resolved.decimal_comma))
        return sql, ({fmt_param: resolved.date_formats()} if fmt_param else {})

    zone = con.execute("SELECT current_setting('TimeZone')").fetchone()[0]
    con.execute("SET TimeZone = $tz", {"tz": options.convert_timezone})
    try:
        errors = _read_csv_into(con, table, path, dialect, columns, convert)
    finally:
        _set_timezone(con, zone)
    structural = _structural(errors, dialect, options)
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    prefix = f"{table}_r_"
    raw_params = {**columns.raw_params, **columns.params, **_reader_params(path, dialect, columns, prefix),
                  f"{prefix}file": str(path)}
    raw_source = "(" + _staged_rows(columns, dialect, _reader(prefix, rejects=False)).replace(
        "$file AS __file", f"${prefix}file AS __file") + ")"
    staged = Staged(
        kind, str(path), table, rows + len(structural), columns.ignored, lines_are_records=True,
        read_options=resolved, notes=list(columns.notes), raw_sql=columns.raw_sql, raw_params=raw_params,
        raw_source=raw_source, converted=options.convert_timezone,
    )
    return staged, structural


def _refuse_mojibake(con, table: str, path: Path, codec: str, text_sql: str = "__raw") -> None:
    """UTF-8 text read as a one-byte encoding leaves tell-tale pairs ('Ã©'): refuse, never store them.
    ``text_sql``: the record's text (every column), an expression over the staged table."""
    found = con.execute(
        f"SELECT __line, regexp_extract({text_sql}, $p) FROM {table} WHERE regexp_matches({text_sql}, $p) "
        "ORDER BY __line LIMIT 1",
        {"p": _MOJIBAKE_SQL},
    ).fetchone()
    if found:
        raise DropError(
            f"{path}, record {found[0]}: {found[1]!r} is UTF-8 text read as {_label(codec)} (mojibake): the "
            f"file is UTF-8, or mixes encodings. Drop `--encoding` if you gave it, or convert the file "
            "to one encoding first."
        )


def physical_lines(path: str, record_lines: list[int], options: ReadOptions) -> dict[int, int]:
    """Map record numbers (+1 for the header) to physical line numbers, for error messages only.

    Quoted fields may hold newlines, so record N does not always start on line N. This scans the
    file once in Python, and only on the error path, for the few rows we report. The file's
    dialect is resolved again the way ``stage_csv`` resolved it.
    """
    wanted = set(record_lines)
    mapping: dict[int, int] = {}
    if not wanted:
        return mapping
    path = Path(path)
    kind, _ = _kind_and_ext(path)
    if kind not in KINDS:
        kind = path.parent.name if path.parent.name in KINDS else "sends"
    try:
        dialect = sniff_csv(path, kind, options)
        codec, delimiter, skip = dialect.codec, dialect.delimiter, dialect.skip
    except DropError:
        codec, delimiter, skip = codec_name(options.encoding or "utf-8"), options.delimiter or ",", 0
    with _open_text(path, codec, errors="replace") as handle:
        for _ in range(skip):
            handle.readline()
        reader = csv.reader(handle, delimiter=delimiter)
        start = 1 + skip
        try:
            for record_index, _ in enumerate(reader, start=1):
                if record_index in wanted:
                    mapping[record_index] = start
                    if len(mapping) == len(wanted):
                        break
                start = reader.line_num + 1
        except csv.Error:  # a field over Python's limit: keep what was mapped so far
            pass
    return mapping
