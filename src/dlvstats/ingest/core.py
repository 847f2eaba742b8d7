"""The loader shared by every reader: validate, convert, deduplicate and merge staged tables.

One call to ``load`` is one transaction: either every good row of the drop lands (and, under
``on_error="quarantine"``, every bad row lands in ``rejects``), or nothing changes. Validation,
conversion and deduplication are SQL generated from ``dlvstats.ingest.schema`` (identifiers come
only from that fixed list; values are bound as parameters) and packaged SQL files: the rules are in
``validation``, the bad rows' handling in ``rejects``, the merge in ``merge``.

This module must not know any input format: readers and adapters hand it staged tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from dlvstats import privacy
from dlvstats.config import pause_point
from dlvstats.ingest import validation
from dlvstats.ingest.canonical import DropError, ReadOptions, Staged
from dlvstats.ingest.merge import drop_relation, ensure_provider_defaults, merge_kind, next_drop_id
from dlvstats.ingest.rejects import (
    MAX_REPORTED_ERRORS,
    BadRow,
    IngestRefused,
    fill_raw_of_bad_rows,
    first_bad_rows,
    quarantine,
)
from dlvstats.ingest.schema import KINDS

__all__ = [
    "MAX_REPORTED_ERRORS", "BadRow", "IngestRefused", "IngestSummary", "KindCount", "check_timezone", "ensure_provider_defaults",
    "load", "next_drop_id",
]

# the rules under their former names (benchmarks/ingest_variants.py uses them)
_converted = validation.converted
_conversion_sql = validation.conversion_sql
_reason_parts = validation.reason_parts
_event_key_sql = validation.event_key_sql


@dataclass
class KindCount:
    files: int = 0
    read: int = 0
    loaded: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    ignored_columns: set[str] = field(default_factory=set)

    def balanced(self) -> bool:
        return self.read == self.loaded + self.updated + self.duplicates + self.rejected


@dataclass
class IngestSummary:
    drop_id: int
    counts: dict[str, KindCount]
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "drop_id": self.drop_id,
            "kinds": {
                k: {
                    "files": c.files,
                    "read": c.read,
                    "loaded": c.loaded,
                    "updated": c.updated,
                    "duplicates": c.duplicates,
                    "rejected": c.rejected,
                    "ignored_columns": sorted(c.ignored_columns),
                }
                for k, c in self.counts.items()
            },
            "notes": self.notes,
        }


#: Columns that may quote a recipient's address, which pseudonymised mode redacts: free text, and
#: message ids, which ESP adapters derive as `<provider id>:<recipient>` for multi-recipient
#: messages (redaction is deterministic, so the ids still join across kinds and drops).
_FREE_TEXT_COLUMNS = {
    "sends": ["bounce_reason", "message_id"], "clicks": ["url", "message_id"],
    "opens": ["message_id"], "complaints": ["message_id"],
}


def check_timezone(con, timezone_name: str) -> None:
    """Refuse a ``--timezone`` that names no time zone, before anything is read."""
    known = con.execute(
        "SELECT count(*) FROM pg_timezone_names() WHERE lower(name) = lower($tz)", {"tz": timezone_name}
    ).fetchone()[0]
    if not known:
        raise DropError(f"--timezone {timezone_name!r} is not a time zone name (e.g. UTC, Europe/Paris)")


def load(
    con: duckdb.DuckDBPyConnection,
    staged: list[Staged],
    structural_errors: dict[str, list[dict]],
    *,
    on_error: str = "refuse",
    timezone_name: str = "UTC",
    paths: list[str] | None = None,
    input_format: str = "canonical",
    read_options: ReadOptions | None = None,
    progress=None,
    notes: list[str] | None = None,
    drop_id: int | None = None,
    in_transaction: bool = False,
    pseudonymizer: privacy.Pseudonymizer | None = None,
) -> IngestSummary:
    """Validate, convert, deduplicate and merge staged tables; one transaction.

    ``in_transaction`` means the caller already opened the transaction (the staging step ran in
    it) and will commit or roll back; otherwise this function does both. With a
    ``pseudonymizer``, recipients (and addresses quoted in free text and rejected rows) are
    replaced by keyed pseudonyms before anything is written; the database's recipient mode is
    checked either way (``privacy.RecipientModeError`` when plain and pseudonymised would mix).
    """
    if on_error not in ("refuse", "quarantine"):
        raise ValueError("on_error must be 'refuse' or 'quarantine'")
    read_options = read_options or ReadOptions()
    check_timezone(con, timezone_name)
    if not in_transaction:
        con.execute("BEGIN TRANSACTION")
    try:
        summary = _load_in_transaction(
            con, staged, structural_errors, on_error, timezone_name, paths or [], input_format,
            read_options, progress, notes or [], drop_id, pseudonymizer,
        )
        if not in_transaction:
            con.execute("COMMIT")
        return summary
    except BaseException:
        if not in_transaction:
            con.execute("ROLLBACK")
        raise
    finally:
        try:
            con.execute("SET TimeZone = 'UTC'")
        except duckdb.Error:  # the transaction was aborted by the error being raised: the caller rolls back
            pass


def _load_in_transaction(
    con, staged, structural_errors, on_error, timezone_name, paths, input_format, read_options,
    progress, notes, drop_id, pseudonymizer=None,
) -> IngestSummary:
    privacy.ensure_recipient_mode(con, pseudonymizer)
    drop_id = drop_id or next_drop_id(con)
    notes = list(notes) + [n for item in staged for n in item.notes if n not in notes]
    counts = _count_read(staged)

    # 1. convert and validate, per kind (all files of a kind together)
    kinds = [k for k in KINDS if any(s.kind == k for s in staged)]
    _convert(con, staged, kinds, timezone_name, read_options, rewritten=pseudonymizer is not None)
    if pseudonymizer is not None:
        _pseudonymize(con, kinds, structural_errors, pseudonymizer)
    pause_point("converted")

    # 2. gather bad rows: structural (from the CSV reader) and per-row validation
    _handle_bad_rows(con, staged, structural_errors, kinds, counts, on_error, drop_id, read_options)

    # 3. normalise, deduplicate, merge
    ensure_provider_defaults(con)
    for i, kind in enumerate(kinds):
        merge_kind(con, kind, drop_id, counts[kind])
        if progress:
            progress("merge", i + 1, len(kinds), kind)
    pause_point("merged")

    summary = IngestSummary(drop_id, counts, notes)
    for kind, c in counts.items():
        if not c.balanced():  # a bug, never a user error: refuse rather than lose rows silently
            raise AssertionError(f"row accounting does not balance for {kind}: {c}")
    _record_drop(con, summary, paths, input_format, timezone_name, on_error)
    for kind in kinds:
        drop_relation(con, f"__conv_{kind}")
    for item in staged:
        con.execute(f"DROP TABLE IF EXISTS {item.table}")
    return summary


def _count_read(staged) -> dict[str, KindCount]:
    counts: dict[str, KindCount] = {}
    for item in staged:
        c = counts.setdefault(item.kind, KindCount())
        c.files += 1
        c.read += item.read_rows
        c.ignored_columns.update(item.ignored_columns)
    return counts


def _convert(con, staged, kinds, timezone_name, read_options, rewritten: bool = False) -> None:
    """``__conv_<kind>``: every staged row of the kind, converted, with ``__reason`` for bad rows.

    When every file of the kind was converted while it was read, ``__conv_<kind>`` is a view over
    their tables (no copy), made a table only when rows are rewritten: bad rows' raw text, or
    pseudonyms (``rewritten``)."""
    con.execute("SET TimeZone = $tz", {"tz": timezone_name})
    for kind in kinds:
        of_kind = [(index, s) for index, s in enumerate(staged) if s.kind == kind]
        selects, params = [], {}
        for index, s in of_kind:
            if s.converted is not None:  # converted while it was read (readers.csv_file, jsonl_parquet)
                if s.converted != timezone_name:  # pragma: no cover - a caller's bug, not a user error
                    raise AssertionError(f"{s.file} was converted in {s.converted}, not in {timezone_name}")
                names = ", ".join(f'"{c}"' for c in KINDS[kind].column_names)
                selects.append(f"SELECT {names}, __file, __line, __raw, __reason FROM {s.table}")
                continue
            options = s.read_options or read_options
            fmt_param = None
            if options.date_formats():
                fmt_param = f"date_format_{index}"
                params[fmt_param] = options.date_formats()
            selects.append(validation.conversion_sql(kind, s.table, fmt_param, bool(options.decimal_comma)))
        union = " UNION ALL ".join(selects)
        as_view = not rewritten and all(s.converted is not None for _, s in of_kind)
        if as_view and _has_bad_rows(con, union) and any(s.raw_sql for _, s in of_kind):
            as_view = False  # (error path: the raw text of bad rows is written into the table)
        con.execute(f"CREATE OR REPLACE TEMP {'VIEW' if as_view else 'TABLE'} __conv_{kind} AS {union}",
                    params or None)
        if as_view:
            continue  # its tables are dropped with the other staged tables, after the merge
        fill_raw_of_bad_rows(con, kind, [s for _, s in of_kind])
        for _, s in of_kind:  # free memory as early as possible: a big drop's staged text is large
            con.execute(f"DROP TABLE IF EXISTS {s.table}")
    con.execute("SET TimeZone = 'UTC'")


def _has_bad_rows(con, union: str) -> bool:
    return con.execute(f"SELECT count(*) > 0 FROM ({union}) WHERE __reason IS NOT NULL").fetchone()[0]


def _pseudonymize(con, kinds, structural_errors, pseudonymizer) -> None:
    for kind in kinds:
        pseudonymizer.rewrite_table(
            con, f"__conv_{kind}",
            address_columns=[c.name for c in KINDS[kind].columns if c.type == "recipient"],
            text_columns=_FREE_TEXT_COLUMNS.get(kind, []),
            raw_columns=["__raw", "__reason"], bad_row_flag="__reason",
        )
    for errors in structural_errors.values():
        for e in errors:
            e["raw"] = pseudonymizer.redact_text(e["raw"])
            e["reason"] = pseudonymizer.redact_text(e["reason"])


def _handle_bad_rows(con, staged, structural_errors, kinds, counts, on_error, drop_id, read_options) -> None:
    """Refuse the drop (``IngestRefused``) or quarantine its bad rows into ``rejects``, counted."""
    total_bad = sum(len(v) for v in structural_errors.values())
    for kind in kinds:
        total_bad += con.execute(f"SELECT count(*) FROM __conv_{kind} WHERE __reason IS NOT NULL").fetchone()[0]
    if total_bad and on_error == "refuse":
        raise IngestRefused(first_bad_rows(con, staged, structural_errors, kinds, read_options), total_bad)
    if total_bad:
        quarantine(con, staged, structural_errors, kinds, drop_id, read_options)
        for item in staged:
            counts[item.kind].rejected += len(structural_errors.get(item.table, []))
        for kind in kinds:
            counts[kind].rejected += con.execute(
                f"SELECT count(*) FROM __conv_{kind} WHERE __reason IS NOT NULL"
            ).fetchone()[0]


def _record_drop(con, summary: IngestSummary, paths, input_format, timezone_name, on_error) -> None:
    con.execute(
        "INSERT INTO drops VALUES ($id, $at, $paths, $fmt, $tz, $on_error, $summary)",
        {
            "id": summary.drop_id,
            "at": datetime.now(UTC).replace(tzinfo=None),
            "paths": json.dumps(paths),
            "fmt": input_format,
            "tz": timezone_name,
            "on_error": on_error,
            "summary": json.dumps(summary.as_dict()),
        },
    )
