"""Mailgun events: webhook payloads (``event-data``) and Events API pages (``items``), float
epoch timestamps, the bot flag of ``client-info`` kept as the machine flag.

The mapping is SQL (``sql/adapters/mailgun.sql``) run by DuckDB over the parsed JSON; no Python loop
over events. See docs/formats/mailgun.md.
"""

from __future__ import annotations

from pathlib import Path

from dlvstats import db
from dlvstats.ingest.adapters import common

FORMAT = "mailgun"
#: the object of the event that holds the sender's own fields (``tags`` option).
CONTAINER = "user-variables"


def stage(con, path: Path, files: list[Path], start_index: int, options: common.AdapterOptions, progress=None):
    common.read_json_docs(con, files, FORMAT)
    params = {
        "p_account": common.json_key_path(CONTAINER, options.tag("account_id", "account_id")),
        "p_list": common.json_key_path(CONTAINER, options.tag("list_id", "list_id")),
        "p_campaign": common.json_key_path(CONTAINER, options.tag("campaign_id", "campaign_id")),
        "p_message_id": common.json_key_path(CONTAINER, options.tag("message_id", "message_id")),
        "p_sending_domain": common.json_key_path(CONTAINER, options.tag("sending_domain", "sending_domain")),
    }
    db.run(con, "adapters/mailgun", **params)
    common.check_recognised(con, "Mailgun", "an `event` field")
    return common.finish(con, FORMAT, path, files, start_index, options, progress)
