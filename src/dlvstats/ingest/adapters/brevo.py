"""Brevo (ex-Sendinblue) transactional webhooks: ``event`` request, delivered, hard_bounce,
soft_bounce, deferred, blocked, invalid_email, error, spam/complaint, opened/unique_opened,
proxy_open (machine opens), click, unsubscribe; one object per file or line, or arrays of them.

The mapping is SQL (``sql/adapters/brevo.sql``) run by DuckDB over the parsed JSON; no Python loop
over events. See docs/formats/brevo.md.
"""

from __future__ import annotations

from pathlib import Path

from dlvstats import db
from dlvstats.ingest.adapters import common

FORMAT = "brevo"


def stage(con, path: Path, files: list[Path], start_index: int, options: common.AdapterOptions, progress=None):
    common.read_json_docs(con, files, FORMAT)
    # the sender's own fields travel in the X-Mailin-custom header, a JSON object Brevo echoes as a string
    params = {
        f"p_{name}": common.json_key_path(options.tag(field, field))
        for name, field in (("account", "account_id"), ("list", "list_id"), ("campaign", "campaign_id"),
                            ("message_id", "message_id"), ("sending_domain", "sending_domain"))
    }
    db.run(con, "adapters/brevo", **params)
    common.check_recognised(con, "Brevo", "an `event` field")
    return common.finish(con, FORMAT, path, files, start_index, options, progress)
