"""Reading the adapters' input files: every physical line (``read_lines``), and JSON payload files
(JSON lines or one document, arrays split into their elements: ``read_json_docs``), parsed by DuckDB."""

from __future__ import annotations

import json
import re
from pathlib import Path

from dlvstats.ingest.canonical import DropError


def _reader() -> str:
    """DuckDB's CSV reader used as a line reader (gzip-aware, streaming, exact line numbers); the
    file is the parameter ``$path``."""
    return (
        "read_csv($path, columns={'raw': 'VARCHAR'}, header=false, auto_detect=false, "
        "delim=E'\\x1f', quote='', escape='', compression='auto', strict_mode=false, "
        "max_line_size=33554432, buffer_size=33554432)"  # see readers.jsonl_parquet.stage_jsonl: bounded memory
    )


def _reader_error(path: Path, exc: Exception) -> str:
    """A readable message for a file DuckDB's line reader refused (error path only)."""
    text = str(exc)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    where = f"{path}, line {line.group(1)}" if line else str(path)
    if "unicode" in text.lower() or "utf-8" in text.lower():
        return f"{where}: not UTF-8 text (ESP and MTA logs are UTF-8); is it the right file, or does it need converting?"
    if "gzip" in text.lower():
        return f"{path}: a damaged or truncated gzip file ({text.splitlines()[0]})"
    return f"{where}: cannot read the file as text ({text.splitlines()[0]})"


def read_lines(con, files: list[Path], table: str = "__adp_lines") -> None:
    """``table(__file, __line, raw)``: every physical line of every file (one statement per file)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (__file VARCHAR, __line BIGINT, raw VARCHAR)")
    for path in files:
        try:
            con.execute(
                f"INSERT INTO {table} SELECT $path, row_number() OVER ()::BIGINT, "
                f"CASE WHEN starts_with(raw, chr(65279)) THEN substr(raw, 2) ELSE raw END "
                f"FROM {_reader()}",
                {"path": str(path)},
            )
        except Exception as exc:  # any reader failure is the file's problem
            raise DropError(_reader_error(path, exc)) from exc


def _json_error_position(path: str) -> str:
    """Where a JSON document is broken (error path only: Python reads the one bad file)."""
    import gzip

    try:
        with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as handle:
            text = handle.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return f"not valid UTF-8 at byte {exc.start}"
    except (OSError, EOFError) as exc:
        return f"cannot read the file ({exc})"
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return f"line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})"
    return "not valid JSON"


def read_json_docs(con, files: list[Path], fmt: str) -> None:
    """Read JSON payload files into ``__adp_items(__file, __line, single, i1, j, bad)``.

    A file is either JSON lines (one JSON value per line: an event, an envelope, or a webhook batch
    array; ``__line`` is the physical line) or one JSON document, possibly pretty-printed or on one
    line (a webhook batch array, one event, a Lambda event, an Events API page; ``single`` is true
    and positions are record numbers). Top-level arrays are split into their elements (``i1``). A
    line of a JSON-lines file that is not valid JSON becomes an item with ``bad`` set; a one-document
    file that is not valid JSON is refused with the line and column of the problem.
    """
    read_lines(con, files)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE __adp_mode AS
        SELECT __file,
               json_valid(arg_min(raw, __line) FILTER (WHERE NOT regexp_matches(coalesce(raw, ''), '^\\s*$'))) AS first_valid,
               count(*) FILTER (WHERE NOT regexp_matches(coalesce(raw, ''), '^\\s*$')) AS nonblank
        FROM __adp_lines GROUP BY __file
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE __adp_docs AS
        SELECT __file, __line, single, doc, CASE WHEN doc IS NULL THEN raw END AS bad, raw
        FROM (
            SELECT l.__file, l.__line, m.nonblank = 1 AS single, try_cast(l.raw AS JSON) AS doc, l.raw
            FROM __adp_lines AS l JOIN __adp_mode AS m USING (__file)
            WHERE m.first_valid AND NOT regexp_matches(coalesce(l.raw, ''), '^\\s*$')
        )
        UNION ALL
        SELECT __file, 1 AS __line, true AS single, NULL::JSON AS doc,
               string_agg(coalesce(raw, ''), chr(10) ORDER BY __line) AS bad, NULL AS raw
        FROM __adp_lines JOIN __adp_mode AS m USING (__file)
        WHERE NOT m.first_valid
        GROUP BY __file
        """
    )
    con.execute(
        "UPDATE __adp_docs SET doc = bad::JSON, raw = bad, bad = NULL WHERE single AND json_valid(bad)"
    )
    broken = con.execute(
        "SELECT __file FROM __adp_docs WHERE single AND bad IS NOT NULL ORDER BY __file LIMIT 1"
    ).fetchone()
    if broken:
        raise DropError(
            f"{broken[0]}, {_json_error_position(broken[0])}. A {fmt} file must be JSON lines (one "
            "event, envelope or batch per line) or one JSON document; nothing was loaded."
        )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE __adp_items AS
        WITH arrays AS (
            SELECT __file, __line, single, bad,
                   CASE WHEN bad IS NOT NULL THEN [NULL::JSON]
                        WHEN starts_with(ltrim(raw, ' ' || chr(9) || chr(10) || chr(13)), '[') THEN json_extract(doc, '$[*]')
                        ELSE [doc] END AS elems
            FROM __adp_docs
        )
        SELECT __file, __line, single, bad, unnest(elems) AS j, generate_subscripts(elems, 1) AS i1
        FROM arrays
        """
    )
    con.execute("DROP TABLE IF EXISTS __adp_lines")
    con.execute("DROP TABLE IF EXISTS __adp_docs")
    con.execute("DROP TABLE IF EXISTS __adp_mode")
