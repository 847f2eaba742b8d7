"""A CSV file's dialect: its encoding, field separator, header and Excel's ``sep=`` line, resolved
from its first 64 KiB unless the user names them (see ``dlvstats.ingest.canonical``'s docstring),
and the streaming transcoder for encodings DuckDB does not read itself."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import re
import tempfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

from dlvstats.ingest.readers.base import DropError, ReadOptions
from dlvstats.ingest.schema import KINDS

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
