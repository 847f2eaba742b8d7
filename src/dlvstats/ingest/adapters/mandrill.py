"""Mandrill (Mailchimp Transactional) message-event webhooks: the JSON array Mandrill posts as the
``mandrill_events`` form field (``event`` send, deferral, hard_bounce, soft_bounce, reject, open,
click, spam, unsub; sync events counted and not loaded), one array per file or per line.

The mapping is SQL (``sql/adapters/mandrill.sql``) run by DuckDB over the parsed JSON; no Python
loop over events. See docs/formats/mandrill.md.
"""

from __future__ import annotations

from pathlib import Path

from dlvstats import db
from dlvstats.ingest.adapters import common

FORMAT = "mandrill"


def stage(con, path: Path, files: list[Path], start_index: int, options: common.AdapterOptions, progress=None):
    common.read_json_docs(con, files, FORMAT)
    # the sender's own fields travel in ``msg.metadata``
    params = {
        f"p_{name}": common.json_key_path(options.tag(field, field))
        for name, field in (("account", "account_id"), ("list", "list_id"), ("campaign", "campaign_id"),
                            ("message_id", "message_id"), ("sending_domain", "sending_domain"))
    }
    db.run(con, "adapters/mandrill", **params)
    common.check_recognised(con, "Mandrill", "an `event` field")
    return common.finish(con, FORMAT, path, files, start_index, options, progress)
