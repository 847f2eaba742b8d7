"""Amazon SES: event publishing records (``eventType``) and the older feedback notifications
(``notificationType``), as raw JSON, JSON lines, SNS HTTP envelopes, Lambda ``Records[].Sns``
events (``Message`` sometimes escaped twice), EventBridge events, and Firehose/S3 batches.

The mapping is SQL (``sql/adapters/ses.sql``) run by DuckDB over the parsed JSON; no Python loop
over events. See docs/formats/ses.md for the mapping table.
"""

from __future__ import annotations

from pathlib import Path

from dlvstats import db
from dlvstats.ingest.adapters import common

FORMAT = "ses"


def stage(con, path: Path, files: list[Path], start_index: int, options: common.AdapterOptions, progress=None):
    common.read_json_docs(con, files, FORMAT)
    params = {
        "p_account": common.json_key_path("mail", "tags", options.tag("account_id", "account_id")) + "[0]",
        "p_list": common.json_key_path("mail", "tags", options.tag("list_id", "list_id")) + "[0]",
        "p_campaign": common.json_key_path("mail", "tags", options.tag("campaign_id", "campaign_id")) + "[0]",
        "p_message_id": common.json_key_path("mail", "tags", options.tag("message_id", "message_id")) + "[0]",
        "p_sending_domain": common.json_key_path("mail", "tags", options.tag("sending_domain", "sending_domain")) + "[0]",
    }
    db.run(con, "adapters/ses", **params)
    common.check_recognised(con, "SES", "an eventType or notificationType")
    return common.finish(con, FORMAT, path, files, start_index, options, progress)
