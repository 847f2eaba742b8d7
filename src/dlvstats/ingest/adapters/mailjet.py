"""Mailjet event webhooks (Event API): ``event`` sent, bounce, blocked, spam, open, click, unsub;
one object per file (non-grouped callbacks), or arrays of them (grouped), or one per line.

The mapping is SQL (``sql/adapters/mailjet.sql``) run by DuckDB over the parsed JSON; no Python loop
over events. See docs/formats/mailjet.md.
"""

from __future__ import annotations

from pathlib import Path

from dlvstats import db
from dlvstats.ingest.adapters import common

FORMAT = "mailjet"


def stage(con, path: Path, files: list[Path], start_index: int, options: common.AdapterOptions, progress=None):
    common.read_json_docs(con, files, FORMAT)
    # the sender's own fields travel in ``Payload`` (the EventPayload set at send), echoed as a JSON string
    params = {
        f"p_{name}": common.json_key_path(options.tag(field, field))
        for name, field in (("account", "account_id"), ("list", "list_id"), ("campaign", "campaign_id"),
                            ("message_id", "message_id"), ("sending_domain", "sending_domain"))
    }
    db.run(con, "adapters/mailjet", **params)
    common.check_recognised(con, "Mailjet", "an `event` field")
    return common.finish(con, FORMAT, path, files, start_index, options, progress)
