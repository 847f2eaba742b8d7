"""The loader shared by every reader: validate, convert, deduplicate and merge staged tables.

One call to ``load`` is one transaction: either every good row of the drop lands (and, under
``on_error="quarantine"``, every bad row lands in ``rejects``), or nothing changes. Validation,
conversion and deduplication are SQL generated from ``dlvstats.ingest.schema`` (identifiers come
only from that fixed list; values are bound as parameters) and packaged SQL files.

This module must not know any input format: readers and adapters hand it staged tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from dlvstats import db, privacy
from dlvstats.config import pause_point
from dlvstats.ingest.canonical import DropError, ReadOptions, Staged, physical_lines
from dlvstats.ingest.schema import EVENT_KEY_PARTS, KINDS, SETTLED_STATUSES

#: How many bad rows a refusal lists (the total is always given).
MAX_REPORTED_ERRORS = 20


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


@dataclass
class BadRow:
    file: str
    line: int
    kind: str
    reason: str
    raw: str | None

    def __str__(self) -> str:
        return f"{self.file}, line {self.line}: {self.reason}"


class IngestRefused(ValueError):
    """The drop had bad rows and was refused whole; the database is unchanged."""

    def __init__(self, bad_rows: list[BadRow], total_bad: int):
        self.bad_rows = bad_rows
        self.total_bad = total_bad
        listed = "\n".join(f"  {row}" for row in bad_rows)
        more = f"\n  ... and {total_bad - len(bad_rows)} more" if total_bad > len(bad_rows) else ""
        super().__init__(
            f"refused: {total_bad} bad row(s); nothing was loaded.\n{listed}{more}\n"
            "Fix the rows, or load the good ones and keep the bad ones in the `rejects` table "
            "with `--on-error quarantine`."
        )


# ---------------------------------------------------------------------------------------------
# SQL generation from the schema (identifiers from the fixed schema only)


#: Columns that may quote a recipient's address, which pseudonymised mode redacts: free text, and
#: message ids, which ESP adapters derive as `<provider id>:<recipient>` for multi-recipient
#: messages (redaction is deterministic, so the ids still join across kinds and drops).
_FREE_TEXT_COLUMNS = {
    "sends": ["bounce_reason", "message_id"], "clicks": ["url", "message_id"],
    "opens": ["message_id"], "complaints": ["message_id"],
}

#: A decimal written with a comma: '12,50', '-3,5', '1 234,50' (space/NBSP groups), '1.234,50'.
#: A value with only a dot ('12.50', '1.234') keeps the dot as the decimal mark.
_DECIMAL_COMMA = (
    "[+-]?[0-9]+,[0-9]+|[+-]?[0-9]{1,3}([ \u00a0\u202f][0-9]{3})+(,[0-9]+)?|[+-]?[0-9]{1,3}(\\.[0-9]{3})+,[0-9]+"
)


def _trimmed_name(col) -> str:
    return f'"__v_{col.name}"'


def _converted(col, fmt_param: str | None = None, decimal_comma: bool = False) -> str:
    """The SQL converting a staged VARCHAR column, from its trimmed value (``__v_<name>``, NULL when
    empty). ``fmt_param`` names a prepared parameter holding strptime patterns (VARCHAR[]) for
    timestamps that are not ISO 8601; ``decimal_comma`` accepts '12,50' in decimal columns.
    Identifiers come from the fixed schema only."""
    v = _trimmed_name(col)
    if col.type == "timestamp":
        # A timestamp with Z or an offset keeps it; a naive one is read in the session TimeZone
        # (the drop's --timezone). Pure numbers (epoch seconds) are refused by the spec. With a
        # date format, ISO 8601 is tried first, then the format(s).
        # A date without a time of day (2026-11-01, 01/11/2026) names a calendar day, not an
        # instant: it is kept as 12:00 UTC of that day, so that the day stays the same in every
        # reporting time zone from UTC-11 to UTC+12 (midnight in --timezone fell on the
        # previous day in UTC).
        parsed = f"try_cast({v} AS TIMESTAMPTZ)"
        day = f"try_cast({v} AS DATE)"
        if fmt_param:
            parsed = f"coalesce({parsed}, try_strptime({v}, ${fmt_param}::VARCHAR[])::TIMESTAMPTZ)"
            day = f"coalesce({day}, try_strptime({v}, ${fmt_param}::VARCHAR[])::DATE)"
        return (
            f"CASE WHEN regexp_full_match({v}, '[0-9]+(\\.[0-9]+)?') THEN NULL "
            f"WHEN NOT regexp_matches({v}, '[0-9]\\s*[:hHT]\\s*[0-9]') AND {day} IS NOT NULL "
            f"THEN {day}::TIMESTAMP + INTERVAL 12 HOUR "
            f"ELSE timezone('UTC', {parsed}) END"
        )
    if col.type == "boolean":
        return (
            f"CASE WHEN lower({v}) IN ('true','t','1','yes','y') THEN true "
            f"WHEN lower({v}) IN ('false','f','0','no','n') THEN false END"
        )
    if col.type == "integer":
        return f"try_cast({v} AS INTEGER)"
    if col.type == "decimal":
        if decimal_comma:
            return (
                f"try_cast(CASE WHEN regexp_full_match({v}, '{_DECIMAL_COMMA}') THEN "
                f"replace(regexp_replace({v}, '[ .\u00a0\u202f]', '', 'g'), ',', '.') ELSE {v} END "
                f"AS DECIMAL(18, 4))"
            )
        return f"try_cast({v} AS DECIMAL(18, 4))"
    if col.type == "recipient":
        return f"CASE WHEN regexp_full_match(lower({v}), '[^@\\s]+@[^@\\s]+\\.[^@\\s]+') THEN lower({v}) END"
    if col.enum:
        return f"CASE WHEN lower({v}) IN ({', '.join(repr(e) for e in col.enum)}) THEN lower({v}) END"
    return v


_TYPE_WORDS = {
    "timestamp": "an ISO 8601 timestamp (epoch numbers are not accepted; for layouts like "
    "27/11/2026 14:03 pass --date-format)",
    "boolean": "true/false",
    "integer": "a whole number",
    "decimal": "a decimal number with a dot (for 12,50 pass --decimal-comma)",
    "recipient": "an e-mail address",
}


def _type_words(col, fmt_param, decimal_comma) -> str | None:
    if col.type == "timestamp" and fmt_param:
        return "an ISO 8601 timestamp or a date in the --date-format layout"
    if col.type == "decimal" and decimal_comma:
        return "a decimal number (12.50 or 12,50)"
    return _TYPE_WORDS.get(col.type)


def _reason_parts(kind: str, fmt_param: str | None = None, decimal_comma: bool = False) -> list[str]:
    """Why a row is bad, from its trimmed values (``__v_<name>``) and converted values (``<name>``):
    each value is trimmed once and converted once per row."""
    spec = KINDS[kind]
    parts = ["__error"]
    for col in spec.columns:
        v = _trimmed_name(col)
        if col.required:
            parts.append(f"CASE WHEN {v} IS NULL THEN 'missing required value for {col.name}' END")
        expected = (
            f"one of {', '.join(col.enum)}" if col.enum else _type_words(col, fmt_param, decimal_comma)
        )
        if expected:
            parts.append(
                f'CASE WHEN {v} IS NOT NULL AND "{col.name}" IS NULL THEN '
                f"'{col.name}: ' || to_json(left({v}, 60))::VARCHAR || ' is not {expected}' END"
            )
    for col in spec.columns:
        if col.type == "varchar" and col.name.endswith("_id"):
            # Excel shows long numeric ids as 1,23457E+16 and saves them so: the digits are lost and
            # distinct ids become equal (they would be merged as duplicates). Refused, never guessed.
            v = _trimmed_name(col)
            parts.append(
                f"CASE WHEN regexp_full_match(coalesce({v}, ''), '[+-]?[0-9]+([.,][0-9]+)?[eE][+-]?[0-9]+') THEN "
                f"'{col.name}: ' || to_json(left({v}, 60))::VARCHAR || ' is a number in scientific notation, "
                f"as Excel writes long ids it has rounded (the digits are lost, distinct ids would merge): "
                f"export the file again without opening it in Excel, or format the column as Text' END"
            )
    if spec.one_of:
        present = " OR ".join(f'"__v_{c}" IS NOT NULL' for c in spec.one_of)
        parts.append(f"CASE WHEN NOT ({present}) THEN 'needs at least one of {', '.join(spec.one_of)}' END")
    if kind == "sends":
        parts.append(
            "CASE WHEN lower(\"__v_status\") = 'bounced' AND \"__v_bounce_class\" IS NULL "
            "THEN 'bounce_class is required when status is bounced' END"
        )
    return parts


def _conversion_sql(kind: str, staged_table: str, fmt_param: str | None = None, decimal_comma: bool = False) -> str:
    spec = KINDS[kind]
    names = ", ".join(f'"{c.name}"' for c in spec.columns)
    trimmed = ", ".join(f'NULLIF(trim("{c.name}"), \'\') AS {_trimmed_name(c)}' for c in spec.columns)
    converted = ", ".join(f'{_converted(c, fmt_param, decimal_comma)} AS "{c.name}"' for c in spec.columns)
    trimmed_names = ", ".join(_trimmed_name(c) for c in spec.columns)
    reason = f"NULLIF(concat_ws('; ', {', '.join(_reason_parts(kind, fmt_param, decimal_comma))}), '')"
    # The raw text is kept for bad rows only (rejects, refusal messages): for a big file it would
    # otherwise be copied, row by row, into every intermediate table of the load (and spilled).
    return (
        f"SELECT {names}, __file, __line, CASE WHEN __reason IS NULL THEN NULL ELSE __raw END AS __raw, __reason "
        f"FROM (SELECT *, {reason} AS __reason FROM "
        f"(SELECT {converted}, {trimmed_names}, __file, __line, __raw, __error FROM "
        f"(SELECT {trimmed}, __file, __line, __raw, __error FROM {staged_table})))"
    )


def _event_key_sql(kind: str) -> str:
    parts = []
    for p in EVENT_KEY_PARTS[kind]:
        if p == "ts":
            parts.append("strftime(ts, '%Y-%m-%dT%H:%M:%S.%f')")
        else:
            parts.append(f"coalesce({p}, '')")
    natural = f"md5_number(concat_ws(chr(31), {', '.join(parts)}))::UUID"
    if "event_id" in KINDS[kind].column_names:
        return f"CASE WHEN event_id IS NOT NULL THEN md5_number('id' || chr(31) || event_id)::UUID ELSE {natural} END"
    return natural


# ---------------------------------------------------------------------------------------------


def ensure_provider_defaults(con) -> None:
    """Seed ``provider_domains`` with the shipped mapping the first time (users' rows are kept)."""
    if con.execute("SELECT count(*) FROM provider_domains WHERE source = 'default'").fetchone()[0]:
        return
    import csv

    from dlvstats.config import PACKAGE_DATA_DIR

    with open(PACKAGE_DATA_DIR / "providers.csv", encoding="utf-8") as handle:
        rows = [(r["domain_pattern"], r["provider"], "default") for r in csv.DictReader(handle)]
    con.executemany("INSERT INTO provider_domains VALUES (?, ?, ?)", rows)


def next_drop_id(con) -> int:
    return con.execute("SELECT coalesce(max(drop_id), 0) + 1 FROM drops").fetchone()[0]


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
    known = con.execute(
        "SELECT count(*) FROM pg_timezone_names() WHERE lower(name) = lower($tz)", {"tz": timezone_name}
    ).fetchone()[0]
    if not known:
        raise DropError(f"--timezone {timezone_name!r} is not a time zone name (e.g. UTC, Europe/Paris)")
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
    counts: dict[str, KindCount] = {}
    for item in staged:
        c = counts.setdefault(item.kind, KindCount())
        c.files += 1
        c.read += item.read_rows
        c.ignored_columns.update(item.ignored_columns)

    # 1. convert and validate, per kind (all files of a kind together)
    con.execute("SET TimeZone = $tz", {"tz": timezone_name})
    kinds = [k for k in KINDS if any(s.kind == k for s in staged)]
    for kind in kinds:
        selects, params = [], {}
        for index, s in enumerate(staged):
            if s.kind != kind:
                continue
            options = s.read_options or read_options
            fmt_param = None
            if options.date_formats():
                fmt_param = f"date_format_{index}"
                params[fmt_param] = options.date_formats()
            selects.append(_conversion_sql(kind, s.table, fmt_param, bool(options.decimal_comma)))
        con.execute(f"CREATE OR REPLACE TEMP TABLE __conv_{kind} AS " + " UNION ALL ".join(selects), params or None)
        _fill_raw_of_bad_rows(con, kind, [s for s in staged if s.kind == kind])
        for s in staged:  # free memory as early as possible: a big drop's staged text is large
            if s.kind == kind:
                con.execute(f"DROP TABLE IF EXISTS {s.table}")
    con.execute("SET TimeZone = 'UTC'")
    if pseudonymizer is not None:
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
    pause_point("converted")

    # 2. gather bad rows: structural (from the CSV reader) and per-row validation
    total_bad = sum(len(v) for v in structural_errors.values())
    for kind in kinds:
        total_bad += con.execute(f"SELECT count(*) FROM __conv_{kind} WHERE __reason IS NOT NULL").fetchone()[0]
    if total_bad and on_error == "refuse":
        raise IngestRefused(_first_bad_rows(con, staged, structural_errors, kinds, read_options), total_bad)
    if total_bad:
        _quarantine(con, staged, structural_errors, kinds, drop_id, read_options)
        for item in staged:
            counts[item.kind].rejected += len(structural_errors.get(item.table, []))
        for kind in kinds:
            counts[kind].rejected += con.execute(
                f"SELECT count(*) FROM __conv_{kind} WHERE __reason IS NOT NULL"
            ).fetchone()[0]

    # 3. normalise, deduplicate, merge
    ensure_provider_defaults(con)
    for i, kind in enumerate(kinds):
        _merge_kind(con, kind, drop_id, counts[kind])
        if progress:
            progress("merge", i + 1, len(kinds), kind)
    pause_point("merged")

    summary = IngestSummary(drop_id, counts, notes)
    for kind, c in counts.items():
        if not c.balanced():  # a bug, never a user error: refuse rather than lose rows silently
            raise AssertionError(f"row accounting does not balance for {kind}: {c}")
    con.execute(
        "INSERT INTO drops VALUES ($id, $at, $paths, $fmt, $tz, $on_error, $summary)",
        {
            "id": drop_id,
            "at": datetime.now(UTC).replace(tzinfo=None),
            "paths": json.dumps(paths),
            "fmt": input_format,
            "tz": timezone_name,
            "on_error": on_error,
            "summary": json.dumps(summary.as_dict()),
        },
    )
    for kind in kinds:
        con.execute(f"DROP TABLE IF EXISTS __conv_{kind}")
    for item in staged:
        con.execute(f"DROP TABLE IF EXISTS {item.table}")
    return summary


def _fill_raw_of_bad_rows(con, kind: str, staged) -> None:
    """Rebuild the raw record of each bad row from its staged file (see ``Staged.raw_sql``)."""
    if not any(s.raw_sql for s in staged):
        return
    if not con.execute(f"SELECT count(*) FROM __conv_{kind} WHERE __reason IS NOT NULL").fetchone()[0]:
        return
    for s in staged:
        if s.raw_sql:
            con.execute(
                f"UPDATE __conv_{kind} AS c SET __raw = {s.raw_sql} FROM {s.table} AS s "
                f"WHERE c.__reason IS NOT NULL AND c.__file = $__file AND s.__line = c.__line",
                {**s.raw_params, "__file": s.file},
            )


def _staged_by_file(staged):
    return {s.file: s for s in staged}


def _first_bad_rows(con, staged, structural_errors, kinds, read_options) -> list[BadRow]:
    by_table = {s.table: s for s in staged}
    structural: list[BadRow] = []
    for table, errors in structural_errors.items():
        for e in errors[:MAX_REPORTED_ERRORS]:
            structural.append(BadRow(by_table[table].file, e["line"], by_table[table].kind, e["reason"], e["raw"]))
    invalid: list[BadRow] = []
    for kind in kinds:
        found = con.execute(
            f"SELECT __file, __line, __reason, __raw FROM __conv_{kind} WHERE __reason IS NOT NULL "
            f"ORDER BY __file, __line LIMIT {MAX_REPORTED_ERRORS}"
        ).fetchall()
        invalid.extend(BadRow(f, int(line), kind, reason, raw) for f, line, reason, raw in found)
    row_lines: dict[str, list[int]] = {}
    for r in invalid:
        row_lines.setdefault(r.file, []).append(r.line)
    struct_lines: dict[str, list[int]] = {}
    for r in structural:
        struct_lines.setdefault(r.file, []).append(r.line)
    mappings = _line_mappings(staged, structural_errors, row_lines, struct_lines, read_options)
    for r in invalid:
        r.line = mappings.get(r.file, {}).get(("row", r.line), r.line)
    for r in structural:
        r.line = mappings.get(r.file, {}).get(("structural", r.line), r.line)
    rows = sorted(structural + invalid, key=lambda r: (r.file, r.line))
    return rows[:MAX_REPORTED_ERRORS]


def _line_mappings(staged, structural_errors, row_lines, structural_lines, read_options):
    """Physical line numbers for CSV rows, computed only on the error path.

    DuckDB numbers CSV records (header = 1), not physical lines, and our staged rows are numbered
    among the rows that survived the reader (structurally broken records are skipped). We map a
    surviving row's number to its record number (skipping the rejected records) and a record
    number to the physical line it starts on, by scanning the file once with Python's csv module.
    Returns {file: {("row"|"structural", number): physical_line}}.
    """
    by_file = _staged_by_file(staged)
    result: dict[str, dict] = {}
    for file in set(row_lines) | set(structural_lines):
        item = by_file.get(file)
        if item is None or not item.lines_are_records:
            continue
        rejected_records = sorted(e["line"] for e in structural_errors.get(item.table, []))
        wanted: dict[int, list] = {}
        for n in row_lines.get(file, []):
            wanted.setdefault(_record_of_row(n, rejected_records), []).append(("row", n))
        for n in structural_lines.get(file, []):
            wanted.setdefault(n, []).append(("structural", n))
        try:
            physical = physical_lines(file, list(wanted), read_options)
        except Exception:  # noqa: BLE001, S112 - best effort: keep record numbers if the file cannot be rescanned
            continue
        result[file] = {key: physical.get(record, record) for record, keys in wanted.items() for key in keys}
    return result


def _record_of_row(line: int, rejected_records: list[int]) -> int:
    """Staged ``__line`` (surviving row index + 1) -> the CSV record number (header = 1)."""
    record = line
    for rejected in rejected_records:
        if rejected <= record:
            record += 1
        else:
            break
    return record


def _quarantine(con, staged, structural_errors, kinds, drop_id, read_options) -> None:
    by_table = {s.table: s for s in staged}
    by_file = _staged_by_file(staged)
    mapped: list[tuple] = []
    for table, errors in structural_errors.items():
        item = by_table[table]
        mapping = _line_mappings(staged, structural_errors, {}, {item.file: [e["line"] for e in errors]}, read_options)
        for e in errors:
            line = mapping.get(item.file, {}).get(("structural", e["line"]), e["line"])
            mapped.append((drop_id, item.file, line, item.kind, e["reason"], e["raw"]))
    for kind in kinds:
        bad = con.execute(
            f"SELECT DISTINCT __file FROM __conv_{kind} WHERE __reason IS NOT NULL"
        ).fetchall()
        for (file,) in bad:
            item = by_file.get(file)
            if item is None or not item.lines_are_records:
                con.execute(
                    f"INSERT INTO rejects SELECT $drop_id, __file, __line, '{kind}', __reason, __raw "
                    f"FROM __conv_{kind} WHERE __reason IS NOT NULL AND __file = $f",
                    {"drop_id": drop_id, "f": file},
                )
                continue
            # CSV: record numbers -> physical lines (error path only; one scan of the file)
            lines = [r[0] for r in con.execute(
                f"SELECT __line FROM __conv_{kind} WHERE __reason IS NOT NULL AND __file = $f", {"f": file}
            ).fetchall()]
            mapping = _line_mappings(staged, structural_errors, {file: lines}, {}, read_options).get(file, {})
            con.execute("CREATE OR REPLACE TEMP TABLE __line_map (n BIGINT, physical BIGINT)")
            con.executemany("INSERT INTO __line_map VALUES (?, ?)", [(n, mapping.get(("row", n), n)) for n in lines])
            con.execute(
                f"INSERT INTO rejects SELECT $drop_id, c.__file, m.physical, '{kind}', c.__reason, c.__raw "
                f"FROM __conv_{kind} AS c JOIN __line_map AS m ON m.n = c.__line "
                f"WHERE c.__reason IS NOT NULL AND c.__file = $f",
                {"drop_id": drop_id, "f": file},
            )
            con.execute("DROP TABLE __line_map")
    if mapped:
        con.executemany("INSERT INTO rejects VALUES (?, ?, ?, ?, ?, ?)", mapped)


def _first_per_key(source: str, key: str, order: str) -> str:
    """The rows of ``source`` keeping, per ``key``, the first by ``order``. Most keys occur once in
    a drop: only the repeated ones go through the window (half the cost of windowing every row)."""
    return (
        f"WITH __rows AS ({source}), "
        f"__repeated AS (SELECT {key} FROM __rows GROUP BY ALL HAVING count(*) > 1) "
        f"SELECT * FROM __rows ANTI JOIN __repeated USING ({key}) "
        f"UNION ALL "
        f"(SELECT * FROM __rows SEMI JOIN __repeated USING ({key}) "
        f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY {order}) = 1)"
    )


def _merge_kind(con, kind: str, drop_id: int, count: KindCount) -> None:
    good = f"(SELECT * FROM __conv_{kind} WHERE __reason IS NULL)"
    if kind in EVENT_KEY_PARTS:
        key_expr = _event_key_sql(kind)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE __new_{kind} AS "
            + _first_per_key(f"SELECT {key_expr} AS event_key, * FROM {good}", "event_key", "__file, __line")
        )
        lo, hi = con.execute(f"SELECT min(ts), max(ts) FROM __new_{kind}").fetchone()
        inserted = db.run(con, f"ingest/merge_{kind}", drop_id=drop_id, lo=lo, hi=hi).fetchone()[0]
    elif kind == "sends":
        rank = f"CASE WHEN status IN {tuple(SETTLED_STATUSES)} THEN 2 ELSE 1 END"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE __new_{kind} AS "
            + _first_per_key(
                f"SELECT * REPLACE (coalesce(status, 'delivered') AS status) FROM {good}",
                "message_id", f"{rank} DESC, __file, __line",
            )
        )
        updated = db.run(con, "ingest/update_sends_status", drop_id=drop_id).fetchone()[0]
        inserted = db.run(con, "ingest/merge_sends", drop_id=drop_id).fetchone()[0]
        count.updated += updated
    elif kind == "campaigns":
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE __new_{kind} AS "
            + _first_per_key(f"SELECT * FROM {good}", "campaign_id", "__file, __line")
        )
        inserted = db.run(con, "ingest/merge_campaigns", drop_id=drop_id).fetchone()[0]
    elif kind == "orders":
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE __new_{kind} AS "
            + _first_per_key(f"SELECT * FROM {good}", "account_id, order_id", "__file, __line")
        )
        inserted = db.run(con, "ingest/merge_orders", drop_id=drop_id).fetchone()[0]
    else:  # pragma: no cover - every kind is handled above
        raise AssertionError(kind)
    count.loaded += inserted
    good_rows = con.execute(f"SELECT count(*) FROM __conv_{kind} WHERE __reason IS NULL").fetchone()[0]
    count.duplicates += good_rows - inserted - (count.updated if kind == "sends" else 0)
    con.execute(f"DROP TABLE IF EXISTS __new_{kind}")
    con.execute(f"DROP TABLE IF EXISTS __conv_{kind}")
