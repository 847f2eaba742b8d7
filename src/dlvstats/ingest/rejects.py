"""Bad rows of a load: the first ones for a refusal (``first_bad_rows``), or all of them into
``rejects`` (``quarantine``), with the physical line of each CSV record and its raw text.

Physical lines and raw records are computed on the error path only (one scan of each file with a
bad row). This module must not write to the canonical tables.
"""

from __future__ import annotations

from dataclasses import dataclass

from dlvstats.ingest.canonical import physical_lines

#: How many bad rows a refusal lists (the total is always given).
MAX_REPORTED_ERRORS = 20

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


def fill_raw_of_bad_rows(con, kind: str, staged) -> None:
    """Rebuild the raw record of each bad row from its staged file (see ``Staged.raw_sql``)."""
    if not any(s.raw_sql for s in staged):
        return
    if not con.execute(f"SELECT count(*) FROM __conv_{kind} WHERE __reason IS NOT NULL").fetchone()[0]:
        return
    for s in staged:
        if s.raw_sql:
            con.execute(
                f"UPDATE __conv_{kind} AS c SET __raw = {s.raw_sql} FROM {s.raw_source or s.table} AS s "
                f"WHERE c.__reason IS NOT NULL AND c.__file = $__file AND s.__line = c.__line",
                {**s.raw_params, "__file": s.file},
            )


def _staged_by_file(staged):
    return {s.file: s for s in staged}


def first_bad_rows(con, staged, structural_errors, kinds, read_options) -> list[BadRow]:
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


def quarantine(con, staged, structural_errors, kinds, drop_id, read_options) -> None:
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
