"""Read a canonical drop (docs/canonical-logs.md) into staged tables.

A drop is a directory whose files (or sub-directories of files) are named after their kind. Each
file becomes one temporary staged table (see docs/architecture.md): every canonical column as
VARCHAR, plus ``__file``, ``__line``, ``__raw`` and ``__error``. DuckDB's own readers do the work
with an explicit dialect and explicit column types; nothing here loops over rows.

Messy CSV files (docs/input-files.md). The spec says comma, UTF-8; real exports (French ones
especially) are often ``;``-separated, Latin-1 or Windows-1252, with a BOM, CRLF line ends, quoted
newlines, decimal commas and ``27/11/2026 14:03`` dates. Each CSV file's dialect is resolved on
its own, from its first 64 KiB, unless the user names it (``ReadOptions``):

- **encoding**: a UTF-8 or UTF-16 byte-order mark decides it. Otherwise UTF-8 is assumed, and a
  guess is made *only* when those bytes are not valid UTF-8: Windows-1252 when any byte is in
  0x80-0x9F (Latin-1 would turn them into control characters), else Latin-1. DuckDB reads UTF-8
  and Latin-1 itself; any other encoding is transcoded, streaming in 1 MiB chunks, to a temporary
  UTF-8 file that is deleted once staged. Mojibake never reaches the database: UTF-8 bytes read as
  Latin-1/Windows-1252 (``Ã©`` for ``é``), bytes Latin-1 maps to control characters, and bytes a
  codec cannot decode are refused with the option to use.
- **delimiter**: the header line decides it when it is unambiguous: exactly one of ``,`` ``;``
  tab ``|`` appears in it, or only one of them splits it into known column names. Otherwise the
  file is refused with a message naming ``--delimiter``.
- **Excel's ``sep=;`` line**: a first line ``sep=<c>`` (written by Excel so that it reopens the
  file right) names the separator; the header is line 2 and line numbers stay the file's own.
- **decimal comma** in ``amount``: accepted when the file's separator is not a comma (the French
  convention), or with ``--decimal-comma``.
- **dates** that are not ISO 8601 (``27/11/2026 14:03``, ``11/27/2026``, ``27.11.2026``): the
  day/month order is detected when a value proves it (a first number above 12 means day first)
  and no value contradicts it; when every value fits both orders the file is refused with a
  message naming ``--date-format``. ISO 8601 values are always accepted too.

What was detected goes into ``Staged.notes`` (shown in the ingest summary) and the resolved
options into ``Staged.read_options`` (used by the loader's conversion).

This module must not write to the canonical tables: ``core.load`` does that, atomically.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import re
import tempfile
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb

from dlvstats.ingest.schema import FILE_EXTENSIONS, KINDS


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


#: bytes read to detect a file's encoding and delimiter
SNIFF_BYTES = 64 * 1024
#: chunk size of the streaming transcoder
_CHUNK = 1 << 20
_CANDIDATE_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
#: Python codec name -> the name DuckDB's CSV reader knows; other codecs are transcoded first.
_DUCKDB_NATIVE = {"utf-8": "utf-8", "iso8859-1": "latin-1"}
_ENCODING_LABELS = {"utf-8": "UTF-8", "iso8859-1": "Latin-1", "cp1252": "Windows-1252", "utf-16": "UTF-16"}
#: the most frequent traces of UTF-8 read as Latin-1/Windows-1252 (é -> Ã©, à -> Ã\xa0, NBSP -> Â\xa0,
#: ’ -> â€™, € -> â‚¬); a real Latin-1 text essentially never holds them.
_MOJIBAKE_SQL = "[ÃÂ][\u00a0-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]|â€|â‚¬"


def _kind_and_ext(path: Path) -> tuple[str | None, str | None]:
    name = path.name
    for ext in FILE_EXTENSIONS:
        if name.endswith(ext):
            return name[: -len(ext)], ext
    return None, None


def list_drop_files(drop: Path, mapped_kind: str | None = None) -> list[tuple[str, Path, str]]:
    """(kind, file, extension) for every file of a drop, in a stable order; unknown kinds are an error.

    With ``mapped_kind`` (``--map``), a CSV file not named after a kind is read as that kind."""
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
        if kind not in KINDS and mapped_kind and ext in (".csv", ".csv.gz"):
            kind = mapped_kind
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


# ---------------------------------------------------------------------------------------------
# Detection of a CSV file's dialect


def _open_binary(path: Path):
    return gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")


def _open_text(path: Path, encoding: str, errors: str = "strict"):
    return io.TextIOWrapper(_open_binary(path), encoding=encoding, errors=errors, newline="")


def _read_head(path: Path) -> bytes:
    try:
        with _open_binary(path) as handle:
            return handle.read(SNIFF_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        raise DropError(f"{path}: cannot read the file ({exc})") from exc


def codec_name(encoding: str) -> str:
    """A Python codec's canonical name ('latin1' -> 'iso8859-1'); DropError for an unknown one."""
    try:
        name = codecs.lookup(encoding).name
    except (LookupError, TypeError) as exc:
        raise DropError(
            f"unknown text encoding {encoding!r} in --encoding (try utf-8, latin-1 or cp1252)"
        ) from exc
    return {"utf-8-sig": "utf-8", "latin-1": "iso8859-1", "windows-1252": "cp1252"}.get(name, name)


def _label(codec: str) -> str:
    return _ENCODING_LABELS.get(codec, codec)


def _line_of(data: bytes, position: int) -> int:
    return data.count(b"\n", 0, position) + 1


def _first_invalid_utf8(head: bytes, complete: bool) -> int | None:
    """Offset of the first byte that is not UTF-8, or None (a sequence cut by the sniff window is fine)."""
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=complete)
    except UnicodeDecodeError as exc:
        return exc.start
    return None


@dataclass
class CsvDialect:
    """A CSV file's resolved dialect."""

    delimiter: str
    codec: str  # Python codec name
    header: list[str]
    notes: list[str]
    #: lines before the header: 1 when Excel's ``sep=;`` line opens the file
    skip: int = 0

    @property
    def duckdb_encoding(self) -> str | None:
        """The encoding DuckDB reads directly, or None when the file must be transcoded first."""
        return _DUCKDB_NATIVE.get(self.codec)


def _resolve_encoding(path: Path, head: bytes, complete: bool, options: ReadOptions) -> tuple[str, list[str]]:
    notes: list[str] = []
    has_utf8_bom = head.startswith(codecs.BOM_UTF8)
    has_utf16_bom = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if options.encoding:
        codec = codec_name(options.encoding)
        # the other way mojibake is made: UTF-8 text read as a one-byte encoding
        looks_utf8 = has_utf8_bom or (
            any(b >= 0x80 for b in head) and _first_invalid_utf8(head, complete) is None
        )
        if codec in ("iso8859-1", "cp1252") and looks_utf8:
            raise DropError(
                f"{path}: the file is UTF-8 text (its non-ASCII bytes are valid UTF-8), not "
                f"{_label(codec)}; reading it as {_label(codec)} would store mojibake such as "
                "'Ã©' for 'é'. Drop `--encoding` (UTF-8 is the default)."
            )
        return codec, notes
    if has_utf8_bom:
        return "utf-8", [f"{path}: UTF-8 with a byte-order mark"]
    if has_utf16_bom:
        return "utf-16", [f"{path}: UTF-16 (byte-order mark); transcoded to UTF-8"]
    bad = _first_invalid_utf8(head, complete)
    if bad is None:
        return "utf-8", notes
    codec = "cp1252" if any(0x80 <= b <= 0x9F for b in head) else "iso8859-1"
    notes.append(
        f"{path}: not valid UTF-8 (first at line {_line_of(head, bad)}, byte 0x{head[bad]:02x}); read as "
        f"{_label(codec)}. If accented letters look wrong, run again with `--encoding` naming the "
        "file's encoding."
    )
    return codec, notes


def _decode_head(path: Path, head: bytes, codec: str, complete: bool, explicit: bool) -> str:
    decoder = codecs.getincrementaldecoder(codec)("strict")
    try:
        return decoder.decode(head, final=complete)
    except UnicodeDecodeError as exc:
        if explicit and b"\n" in head[: exc.start]:
            # the header is readable; bad bytes further down are the reader's per-row business
            return head.decode(codec, errors="replace")
        if codec == "utf-8":
            hint = "pass `--encoding cp1252` (or latin-1) if it comes from a Windows or French export"
        else:
            hint = "pass `--encoding` naming the file's real encoding"
        source = "--encoding " + codec if explicit else "the detected encoding " + _label(codec)
        raise DropError(
            f"{path}, line {_line_of(head, exc.start)}: byte 0x{head[exc.start]:02x} is not valid "
            f"{_label(codec)} text ({source}); {hint}."
        ) from exc


#: Excel's separator line ("sep=;"), written by Excel and expected by it on open.
_SEP_LINE = re.compile(r"^sep=([^\w\s\"]|\t)\s*$", re.IGNORECASE)


def _split_header(line: str, delimiter: str) -> list[str]:
    try:
        fields = next(csv.reader([line], delimiter=delimiter, strict=False))
    except (csv.Error, StopIteration):
        fields = line.split(delimiter)
    return [f.strip().lower() for f in fields]


def _resolve_delimiter(path: Path, kind: str, header_line: str, options: ReadOptions) -> tuple[str, list[str]]:
    if options.delimiter:
        d = options.delimiter
        if len(d) != 1 or d in "\"\r\n" or d.isalnum():
            raise DropError(
                f"--delimiter {d!r} cannot separate CSV fields: give one character such as ',' ';' or a tab"
            )
        return d, []
    present = [d for d in _CANDIDATE_DELIMITERS if d in header_line]
    if len(present) == 1:
        d = present[0]
    elif not present:
        return ",", []  # one column: the missing-column message says what to do
    else:
        known = set(KINDS[kind].column_names)
        scores = {d: sum(1 for f in _split_header(header_line, d) if f in known) for d in present}
        best = max(scores.values())
        winners = [d for d, s in scores.items() if s == best]
        if best == 0 or len(winners) > 1:
            names = " and ".join(_DELIMITER_NAMES[d] for d in present)
            raise DropError(
                f"{path}, line 1: cannot tell the field separator: the header holds {names}. "
                f"Pass `--delimiter` (e.g. --delimiter ';')."
            )
        d = winners[0]
    notes = [] if d == "," else [f"{path}: {_DELIMITER_NAMES[d]}-separated (detected from the header)"]
    return d, notes


def sniff_csv(path: Path, kind: str, options: ReadOptions) -> CsvDialect:
    """Resolve a CSV file's encoding, delimiter and header (see the module docstring)."""
    path = Path(path)
    head = _read_head(path)
    complete = len(head) < SNIFF_BYTES
    codec, notes = _resolve_encoding(path, head, complete, options)
    text = _decode_head(path, head, codec, complete, explicit=bool(options.encoding))
    text = text.lstrip("\ufeff")
    lines = re.split(r"\r\n|\n|\r", text, maxsplit=2)  # CRLF, LF or (old Mac) CR line ends
    first, skip = lines[0], 0
    sep_line = _SEP_LINE.match(first)
    if sep_line:  # Excel's "sep=;" line: it names the separator, the header is the next line
        first, skip = (lines[1] if len(lines) > 1 else ""), 1
        if not options.delimiter:
            options = replace(options, delimiter=sep_line.group(1))
        notes.append(f"{path}: line 1 is Excel's {sep_line.group(0).strip()!r}: the header is line 2")
    if not first.strip():
        raise DropError(f"{path}, line 1: empty file or missing header row")
    if "\x00" in first:
        raise DropError(
            f"{path}, line 1: the header holds NUL bytes: not a text CSV file"
            + ("" if options.encoding else " (UTF-16 without a byte-order mark? pass `--encoding utf-16`)")
        )
    if first.count('"') % 2:
        raise DropError(
            f'{path}, line 1: the header has an unbalanced quote (\"): its last field would swallow the '
            "rest of the file"
        )
    delimiter, more = _resolve_delimiter(path, kind, first, options)
    header = _split_header(first, delimiter)
    return CsvDialect(delimiter, codec, header, notes + more, skip)


def read_csv_header(path: Path, options: ReadOptions, kind: str = "sends") -> list[str]:
    """The lower-cased header of a CSV file, read with the resolved dialect."""
    return sniff_csv(path, kind, options).header


def _sql_string(value: str) -> str:
    """A SQL string literal, for the rare place a value cannot be a prepared parameter."""
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    """A quoted SQL identifier (names here come from the fixed schema, but quote them properly)."""
    return '"' + name.replace('"', '""') + '"'


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
# Transcoding (encodings DuckDB does not read itself), streaming


def transcode_to_utf8(path: Path, codec: str, directory: str | None = None) -> Path:
    """Decode ``path`` (gzip or plain) with ``codec`` and write it as a UTF-8 temporary file.

    Streams in 1 MiB chunks (bounded memory). A byte the codec cannot decode is a DropError naming
    its line. The caller deletes the file.
    """
    fd, tmp = tempfile.mkstemp(prefix="dlvstats-transcoded-", suffix=".csv", dir=directory)
    decoder = codecs.getincrementaldecoder(codec)("strict")
    line = 1
    try:
        with _open_binary(path) as src, os.fdopen(fd, "wb") as dst:
            while True:
                chunk = src.read(_CHUNK)
                try:
                    text = decoder.decode(chunk, final=not chunk)
                except UnicodeDecodeError as exc:
                    line += chunk[: exc.start].count(b"\n")
                    byte = exc.object[exc.start] if exc.start < len(exc.object) else 0
                    raise DropError(
                        f"{path}, line {line}: byte 0x{byte:02x} is not valid {_label(codec)} text. "
                        "Pass `--encoding` naming the file's real encoding (utf-8, latin-1, cp1252...)."
                    ) from exc
                if text:
                    line += text.count("\n")
                    dst.write(text.encode("utf-8"))
                if not chunk:
                    break
    except (OSError, EOFError, zlib.error) as exc:
        os.unlink(tmp)
        raise DropError(f"{path}: cannot read the file ({exc})") from exc
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp)


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


_C1 = re.compile(rb"[\x80-\x9f]")


def _has_c1_bytes(path: Path) -> bool:
    """Whether the file holds a byte in 0x80-0x9F anywhere (a streaming scan, C speed)."""
    try:
        with _open_binary(path) as handle:
            while chunk := handle.read(_CHUNK):
                if _C1.search(chunk):
                    return True
    except (OSError, EOFError, zlib.error) as exc:
        raise DropError(f"{path}: cannot read the file ({exc})") from exc
    return False


def _stage_csv(con, kind, path: Path, table: str, options: ReadOptions, dialect: CsvDialect):
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
    params: dict = dict(map_params)
    transcoded: Path | None = None
    source = path
    if dialect.duckdb_encoding is None:
        transcoded = transcode_to_utf8(path, dialect.codec)
        source = transcoded
    params.update(
        source=str(source),
        file=str(path),
        columns={f"c{i}": "VARCHAR" for i in range(len(header))},
        delim=dialect.delimiter,
        encoding=dialect.duckdb_encoding or "utf-8",
        skip=int(dialect.skip),
    )
    reader = (
        "read_csv($source, columns=$columns, header=true, auto_detect=false, delim=$delim, quote='\"', "
        "escape='\"', strict_mode=true, encoding=$encoding, skip=$skip, store_rejects=true, ignore_errors=true, "
        "rejects_scan='reject_scans', rejects_table='reject_errors')"
    )
    try:
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {table} AS "
                f"SELECT {select_cols}{extra_cols}, $file AS __file, "
                f"(row_number() OVER () + 1 + {int(dialect.skip)})::BIGINT AS __line, "
                f"NULL::VARCHAR AS __raw, NULL::VARCHAR AS __error FROM {reader}",
                params,
            )
        except duckdb.Error as exc:
            message = str(exc).splitlines()[0]
            if "not latin-1 encoded" in message.lower():
                raise DropError(
                    f"{path}: holds bytes 0x80-0x9F, which Latin-1 maps to control characters: the file "
                    "is Windows-1252. Pass `--encoding cp1252`."
                ) from exc
            hint = ""
            if "unicode" in message.lower() or "utf" in message.lower():
                hint = " The file is not valid UTF-8: pass `--encoding cp1252` (or latin-1) if it comes from a French export."
            raise DropError(f"{path}: cannot read as CSV: {message.rstrip('.')}.{hint}") from exc
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
    structural = [
        {"line": int(line), "reason": _structural_reason(etype, message, dialect, not options.delimiter), "raw": raw}
        for line, etype, message, raw in errors
    ]
    if dialect.codec in ("iso8859-1", "cp1252"):
        _refuse_mojibake(con, table, path, dialect.codec, text_sql)
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    resolved, more = _resolve_dates(con, kind, table, path, resolved, options)
    staged = Staged(
        kind, str(path), table, rows + len(structural), ignored, lines_are_records=True,
        read_options=resolved, notes=notes + more, raw_sql=raw_sql, raw_params=raw_params,
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


# ---------------------------------------------------------------------------------------------
# Dates that are not ISO 8601

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


def _resolve_dates(con, kind: str, table: str, path: Path, resolved: ReadOptions, options: ReadOptions):
    """Detect a day/month/year (or month/day/year) layout of timestamps when it is unambiguous."""
    if options.date_format:
        return resolved, []
    columns = [c.name for c in KINDS[kind].columns if c.type == "timestamp"]
    if not columns:
        return resolved, []
    values = ", ".join(_ident(c) for c in columns)
    sample = con.execute(
        f"SELECT count(*) FROM (SELECT unnest([{values}]) AS v FROM (SELECT {values} FROM {table} "
        f"LIMIT {_DATE_SAMPLE_ROWS})) WHERE regexp_full_match(trim(v), $p)",
        {"p": _DMY},
    ).fetchone()[0]
    if not sample:
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


# ---------------------------------------------------------------------------------------------


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
    resolved, notes = _resolve_dates(con, kind, table, path, options, options)
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
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {select_cols}, $file AS __file, "
            f"(file_row_number + 1)::BIGINT AS __line, NULL::VARCHAR AS __raw, NULL::VARCHAR AS __error "
            f"FROM read_parquet($file, file_row_number=true)",
            {"file": str(path)},
        )
    except duckdb.Error as exc:
        raise DropError(f"{path}: cannot read as Parquet: {str(exc).splitlines()[0]}") from exc
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    resolved, notes = _resolve_dates(con, kind, table, path, options, options)
    return Staged(kind, str(path), table, rows, ignored, fmt="parquet", read_options=resolved, notes=notes), []


def stage_drop(con, drop: Path, options: ReadOptions, start_index: int = 0, progress=None):
    """Stage every file of a drop; returns (staged list, structural errors per staged table name)."""
    staged: list[Staged] = []
    structural: dict[str, list[dict]] = {}
    check_date_format(con, options)
    mapping = options.mapping
    files = list_drop_files(drop, mapping.kind if mapping is not None else None)
    for i, (kind, path, ext) in enumerate(files):
        table = f"__stage_{start_index + i}"
        # the mapping applies to every CSV file read as its kind; other kinds are canonical files
        mapped = mapping is not None and kind == mapping.kind and ext in (".csv", ".csv.gz")
        file_options = options if mapped or mapping is None else replace(options, mapping=None)
        if ext in (".csv", ".csv.gz"):
            item, errors = stage_csv(con, kind, path, table, file_options)
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
