"""Postmark webhooks: ``RecordType`` Delivery, Bounce (mapped by ``TypeCode``), SpamComplaint, Open,
Click and SubscriptionChange, one object per file or line, or arrays of them.

The mapping is SQL (``sql/adapters/postmark.sql``) run by DuckDB over the parsed JSON; no Python loop
over events. See docs/formats/postmark.md.
"""

from __future__ import annotations

from pathlib import Path

from dlvstats import db
from dlvstats.ingest.adapters import common

FORMAT = "postmark"
#: the object of the event that holds the sender's own fields (``tags`` option).
CONTAINER = "Metadata"


def stage(con, path: Path, files: list[Path], start_index: int, options: common.AdapterOptions, progress=None):
    common.read_json_docs(con, files, FORMAT)
    params = {
        "p_account": common.json_key_path(CONTAINER, options.tag("account_id", "account_id")),
        "p_list": common.json_key_path(CONTAINER, options.tag("list_id", "list_id")),
        "p_campaign": common.json_key_path(CONTAINER, options.tag("campaign_id", "campaign_id")),
        "p_message_id": common.json_key_path(CONTAINER, options.tag("message_id", "message_id")),
        "p_sending_domain": common.json_key_path(CONTAINER, options.tag("sending_domain", "sending_domain")),
    }
    db.run(con, "adapters/postmark", **params)
    common.check_recognised(con, "Postmark", "a RecordType")
    return common.finish(con, FORMAT, path, files, start_index, options, progress)
