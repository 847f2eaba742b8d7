"""Exim mainlog files (Debian's and cPanel's default MTA), plain or gzipped: every delivery line
(``=>``, ``->``, ``**``, ``==``) is one event, joined through the Exim message id to its arrival
line ``<=`` (time of sending, Message-ID, sender).

DuckDB reads the lines and does the parsing and the join in SQL (``sql/adapters/exim.sql``); no
Python loop over lines. See docs/formats/exim.md.
"""

from __future__ import annotations

from pathlib import Path

from dlvstats import db
from dlvstats.ingest.adapters import common

FORMAT = "exim"

#: a mainlog line: date, time, optional offset and [pid], Exim id (old 6-6-2 or 4.97+ 6-11-4)
LINE_SQL = (r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?( [+-]\d{4})?( \[\d+\])? "
            r"[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4} ")


def stage(con, path: Path, files: list[Path], start_index: int, options: common.AdapterOptions, progress=None):
    common.read_lines(con, files)
    per_file = con.execute(
        "SELECT __file, count(*) FILTER (WHERE raw IS NOT NULL AND trim(raw) <> ''), "
        "count(*) FILTER (WHERE regexp_matches(raw, $re)) FROM __adp_lines GROUP BY __file ORDER BY __file",
        {"re": LINE_SQL},
    ).fetchall()
    for file, nonblank, ours in per_file:
        if nonblank and not ours:
            raise common.DropError(
                f"{file}: none of its {nonblank:,} line(s) is an Exim mainlog line (date, time, Exim "
                "message id, flag); it does not look like an Exim log. Check `--format`."
            )
    lines = sum(r[1] for r in per_file)
    message_lines = sum(r[2] for r in per_file)
    db.run(con, "adapters/exim")
    con.execute("DROP TABLE IF EXISTS __adp_ex")
    con.execute("DROP TABLE IF EXISTS __adp_lines")
    result = common.finish(con, FORMAT, path, files, start_index, options, progress)
    result.notes.insert(
        0,
        f"exim: {lines:,} log line(s) read, {message_lines:,} about messages; only delivery lines "
        "(=> -> ** ==) are events, arrivals (<=) give their context",
    )
    return result
