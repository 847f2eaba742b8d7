"""Postfix maillog (syslog) files, plain or gzipped: every ``status=sent|bounced|deferred|expired``
line of a delivery agent is one event, joined through its queue id to the message's context lines
(cleanup ``message-id=``, qmgr ``from=``, and headers logged by ``header_checks`` INFO actions,
which is how account, list and campaign reach the log).

DuckDB reads the lines and does the parsing and the queue-id join in SQL
(``sql/adapters/postfix.sql``); no Python loop over lines. See docs/formats/postfix.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dlvstats import db
from dlvstats.ingest.adapters import common

FORMAT = "postfix"

TAG_DEFAULTS = {
    "message_id": "X-Message-Id",
    "account_id": "X-Account-Id",
    "list_id": "X-List-Id",
    "campaign_id": "X-Campaign-Id",
    "sending_domain": "X-Sending-Domain",
}


def stage(con, path: Path, files: list[Path], start_index: int, options: common.AdapterOptions, progress=None):
    common.read_lines(con, files)
    rows = []
    for file in files:
        mtime = datetime.fromtimestamp(file.stat().st_mtime, UTC).replace(tzinfo=None)
        year = options.year or mtime.year
        rows.append((str(file), year, None if options.year else mtime))
    con.execute("CREATE OR REPLACE TEMP TABLE __adp_pf_files (__file VARCHAR, year INTEGER, mtime TIMESTAMP)")
    con.executemany("INSERT INTO __adp_pf_files VALUES (?, ?, ?)", rows)
    per_file = con.execute(
        "SELECT __file, count(*) FILTER (WHERE raw IS NOT NULL), "
        "count(*) FILTER (WHERE regexp_matches(raw, '\\spostfix[^\\s\\[:]*(\\[\\d+\\])?:\\s')) "
        "FROM __adp_lines GROUP BY __file ORDER BY __file"
    ).fetchall()
    for file, nonblank, ours in per_file:
        if nonblank and not ours:
            raise common.DropError(
                f"{file}: none of its {nonblank:,} line(s) is a Postfix log line; it does not look like "
                "a maillog. Check `--format` (or use `--format auto`)."
            )
    lines = sum(r[1] for r in per_file)
    postfix_lines = sum(r[2] for r in per_file)
    params = {
        "h_message_id": options.tag("message_id", TAG_DEFAULTS["message_id"]).lower(),
        "h_account": options.tag("account_id", TAG_DEFAULTS["account_id"]).lower(),
        "h_list": options.tag("list_id", TAG_DEFAULTS["list_id"]).lower(),
        "h_campaign": options.tag("campaign_id", TAG_DEFAULTS["campaign_id"]).lower(),
        "h_sending_domain": options.tag("sending_domain", TAG_DEFAULTS["sending_domain"]).lower(),
    }
    db.run(con, "adapters/postfix", **params)
    con.execute("DROP TABLE IF EXISTS __adp_pf")
    con.execute("DROP TABLE IF EXISTS __adp_lines")
    con.execute("DROP TABLE IF EXISTS __adp_pf_files")
    result = common.finish(con, FORMAT, path, files, start_index, options, progress)
    result.notes.insert(
        0,
        f"postfix: {lines:,} log line(s) read, {postfix_lines:,} from Postfix; only `status=` lines "
        "are events, the others give context (message-id, sender, logged headers) through queue ids",
    )
    return result
