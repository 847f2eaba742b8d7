"""SparkPost (Bird) event webhooks: the JSON batch SparkPost posts, elements
``{"msys": {"<class>_event": {...}}}`` (message, track, gen, unsubscribe, relay events), one batch
per file or per line.

The mapping is SQL (``sql/adapters/sparkpost.sql``) run by DuckDB over the parsed JSON; no Python
loop over events. See docs/formats/sparkpost.md.
"""

from __future__ import annotations

from pathlib import Path

from dlvstats import db
from dlvstats.ingest.adapters import common

FORMAT = "sparkpost"


def stage(con, path: Path, files: list[Path], start_index: int, options: common.AdapterOptions, progress=None):
    common.read_json_docs(con, files, FORMAT)
    # the sender's own fields travel in ``rcpt_meta`` (SparkPost merges transmission metadata into it)
    params = {
        f"p_{name}": common.json_key_path(options.tag(field, field))
        for name, field in (("account", "account_id"), ("list", "list_id"), ("campaign", "campaign_id"),
                            ("message_id", "message_id"), ("sending_domain", "sending_domain"))
    }
    db.run(con, "adapters/sparkpost", **params)
    common.check_recognised(con, "SparkPost", "a `msys` event with a `type`")
    return common.finish(con, FORMAT, path, files, start_index, options, progress)
