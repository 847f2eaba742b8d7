"""Mailgun events: webhook payloads (``event-data``) and Events API pages (``items``), float
epoch timestamps, the bot flag of ``client-info`` kept as the machine flag.

The mapping is SQL (``sql/adapters/mailgun.sql``) run by DuckDB over the parsed JSON; no Python loop
over events. See docs/formats/mailgun.md.
"""

from __future__ import annotations

from pathlib import Path

from dlvstats.ingest.adapters import common

FORMAT = "mailgun"
#: the object of the event that holds the sender's own fields (``tags`` option).
CONTAINER = "user-variables"


def stage(con, path: Path, files: list[Path], start_index: int, options: common.AdapterOptions, progress=None):
    return common.stage_json(con, FORMAT, "Mailgun", "an `event` field", path, files,
                             start_index, options, progress, common.tag_params(options, CONTAINER))
