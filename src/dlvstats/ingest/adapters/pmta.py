"""PowerMTA accounting CSV files: the header line names the fields (``record-fields``), one row per
record; record types ``d`` (delivered), ``b`` (bounced), ``t``/``tq`` (transient failure, queue),
``r`` (received), ``f`` (feedback loop report), ``rb``/``rs`` (remote bounce / remote status, from
the bounce processor). Several record types may share one file (columns a type does not have are
empty). Timestamps are epoch seconds or text with an offset (``2026-10-01 10:00:00-0400``).

DuckDB reads the CSV with explicit VARCHAR columns; the mapping is ``sql/adapters/pmta.sql``. A
record with broken quoting is refused with its line (or kept in ``rejects`` under quarantine).
See docs/formats/pmta.md.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

from dlvstats import db
from dlvstats.ingest.adapters import common
from dlvstats.ingest.canonical import DropError

FORMAT = "pmta"

#: logical column -> the accounting field it is read from (lower-cased header names).
FIELDS = {
    "type": "type", "timelogged": "timelogged", "timequeued": "timequeued", "orig": "orig",
    "rcpt": "rcpt", "orcpt": "orcpt", "dsnaction": "dsnaction", "dsnstatus": "dsnstatus",
    "dsndiag": "dsndiag", "bouncecat": "bouncecat", "dlvsourceip": "dlvsourceip", "jobid": "jobid",
    "envid": "envid", "feedbacktype": "feedbacktype", "useragent": "useragent",
    "arrivaldate": "arrivaldate", "vmta": "vmta", "header_message_id": "header_message-id",
}
#: tag fields and their default accounting columns (``tags`` option overrides).
TAG_DEFAULTS = {
    "message_id": "header_x-message-id",
    "account_id": "header_x-account-id",
    "list_id": "header_x-list-id",
    "campaign_id": "header_x-campaign-id",
    "sending_domain": "header_x-sending-domain",
}


def _header(path: Path) -> list[str]:
    try:
        raw = gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")  # noqa: SIM115 - closed by the wrapper
        with io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="") as handle:
            first = handle.readline().lstrip("\ufeff")
    except (OSError, EOFError, UnicodeError) as exc:
        raise DropError(f"{path}: cannot read the file ({exc})") from exc
    if not first.strip():
        raise DropError(f"{path}, line 1: empty file or missing header line (PowerMTA writes one)")
    if len(first) > 65536:
        raise DropError(f"{path}, line 1: a {len(first):,}-character first line is no accounting header")
    try:
        names = [h.strip().lower() for h in next(csv.reader([first]))]
    except csv.Error as exc:
        raise DropError(f"{path}, line 1: unreadable header line ({exc})") from exc
    if "type" not in names:
        raise DropError(f"{path}, line 1: no `type` column in the header; not a PowerMTA accounting file")
    return names


def stage(con, path: Path, files: list[Path], start_index: int, options: common.AdapterOptions, progress=None):
    wanted = dict(FIELDS)
    for field, default in TAG_DEFAULTS.items():
        wanted[f"tag_{field}"] = options.tag(field, default).lower()
    # Columns are read by position (c0, c1, ...) and every value (file path, header names, rejected
    # text) is a parameter: nothing from the file enters the SQL text. One table per file, then a
    # UNION ALL with the names the adapter SQL expects.
    names = list(wanted)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE __adp_pmta (__file VARCHAR, __line BIGINT, __raw VARCHAR, __perr VARCHAR, "
        + ", ".join(f'"{name}" VARCHAR' for name in names) + ")"
    )
    for i, file in enumerate(files):
        header = _header(file)
        table = f"__adp_pmta_{i}"
        params = {
            "file": str(file),
            "columns": {f"c{k}": "VARCHAR" for k in range(len(header))},
            **{f"k{k}": h for k, h in enumerate(header) if h},
        }
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT *, (row_number() OVER () + 1)::BIGINT AS __line "
                f"FROM read_csv($file, columns=$columns, header=true, auto_detect=false, "
                f"delim=',', quote='\"', escape='\"', strict_mode=true, compression='auto', "
                f"store_rejects=true, ignore_errors=true, rejects_scan='__adp_pmta_scan', rejects_table='__adp_pmta_rej')",
                {"file": params["file"], "columns": params["columns"]},
            )
        except Exception as exc:
            raise DropError(f"{file}: cannot read as CSV: {str(exc).splitlines()[0]}") from exc
        bad = con.execute(
            "SELECT e.line, e.error_type, e.csv_line FROM __adp_pmta_rej e JOIN __adp_pmta_scan s USING (scan_id) "
            "WHERE s.file_path = $p ORDER BY e.line", {"p": str(file)},
        ).fetchall()
        con.execute("DELETE FROM __adp_pmta_rej")
        con.execute("DELETE FROM __adp_pmta_scan")
        position = {}
        for k, h in enumerate(header):
            position.setdefault(h, k)
        cols = ", ".join(f"c{position[source]}" if source in position else "NULL::VARCHAR" for source in wanted.values())
        raw = "json_object(" + ", ".join(f"$k{k}, c{k}" for k, h in enumerate(header) if h) + ")::VARCHAR"
        used = {"file": str(file), **{f"k{k}": h for k, h in enumerate(header) if h}}
        con.execute(
            f"INSERT INTO __adp_pmta SELECT $file, __line, {raw}, NULL::VARCHAR, {cols} FROM {table}", used
        )
        if bad:
            con.executemany(
                "INSERT INTO __adp_pmta (__file, __line, __raw, __perr) VALUES (?, ?, ?, ?)",
                [(str(file), int(line), text or "", "broken CSV record: " + str(etype).lower()) for line, etype, text in bad],
            )
    for i in range(len(files)):
        con.execute(f"DROP TABLE IF EXISTS __adp_pmta_{i}")
    db.run(con, "adapters/pmta")
    common.check_recognised(con, "PowerMTA", "a record type")
    return common.finish(con, FORMAT, path, files, start_index, options, progress)
