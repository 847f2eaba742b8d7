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

from dataclasses import replace
from pathlib import Path

from dlvstats.ingest.readers.base import DropError, ReadOptions, Staged, _ident, _kind_and_ext, _sql_string
from dlvstats.ingest.readers.csv_file import physical_lines, stage_csv
from dlvstats.ingest.readers.dates import check_date_format
from dlvstats.ingest.readers.dialect import (
    SNIFF_BYTES,
    CsvDialect,
    codec_name,
    read_csv_header,
    sniff_csv,
    transcode_to_utf8,
)
from dlvstats.ingest.readers.jsonl_parquet import json_key, stage_jsonl, stage_parquet
from dlvstats.ingest.schema import FILE_EXTENSIONS, KINDS

__all__ = [
    "SNIFF_BYTES", "CsvDialect", "DropError", "ReadOptions", "Staged", "_ident", "_sql_string",
    "check_date_format", "codec_name", "json_key", "list_drop_files", "physical_lines", "read_csv_header",
    "sniff_csv", "stage_csv", "stage_drop", "stage_jsonl", "stage_parquet", "transcode_to_utf8",
]


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
