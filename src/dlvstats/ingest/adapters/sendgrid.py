"""SendGrid Event Webhook: arrays of events (webhook POST bodies) and single bare objects, one per
line or one per file; epoch timestamps in seconds or milliseconds (and the odd string);
``sg_machine_open`` kept as the vendor's machine-open flag.

The mapping is SQL (``sql/adapters/sendgrid.sql``) run by DuckDB; no Python loop over events.
See docs/formats/sendgrid.md.
"""

from __future__ import annotations

from pathlib import Path

from dlvstats import db
from dlvstats.ingest.adapters import common

FORMAT = "sendgrid"


def stage(con, path: Path, files: list[Path], start_index: int, options: common.AdapterOptions, progress=None):
    common.read_json_docs(con, files, FORMAT)
    params = {
        "p_account": common.json_key_path(options.tag("account_id", "account_id")),
        "p_list": common.json_key_path(options.tag("list_id", "list_id")),
        "p_campaign": common.json_key_path(options.tag("campaign_id", "campaign_id")),
        "p_message_id": common.json_key_path(options.tag("message_id", "message_id")),
        "p_sending_domain": common.json_key_path(options.tag("sending_domain", "sending_domain")),
    }
    db.run(con, "adapters/sendgrid", **params)
    common.check_recognised(con, "SendGrid", "an `event` field")
    return common.finish(con, FORMAT, path, files, start_index, options, progress)
