"""Postmark webhooks: ``RecordType`` Delivery, Bounce (mapped by ``TypeCode``), SpamComplaint, Open,
Click and SubscriptionChange, one object per file or line, or arrays of them.

The mapping is SQL (``sql/adapters/postmark.sql``) run by DuckDB over the parsed JSON; no Python loop
over events. See docs/formats/postmark.md.
"""

from __future__ import annotations

from pathlib import Path

from dlvstats.ingest.adapters import common

FORMAT = "postmark"
#: the object of the event that holds the sender's own fields (``tags`` option).
CONTAINER = "Metadata"


def stage(con, path: Path, files: list[Path], start_index: int, options: common.AdapterOptions, progress=None):
    return common.stage_json(con, FORMAT, "Postmark", "a RecordType", path, files,
                             start_index, options, progress, common.tag_params(options, CONTAINER))
