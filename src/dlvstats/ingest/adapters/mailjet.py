"""Mailjet event webhooks (Event API): ``event`` sent, bounce, blocked, spam, open, click, unsub;
one object per file (non-grouped callbacks), or arrays of them (grouped), or one per line.

The mapping is SQL (``sql/adapters/mailjet.sql``) run by DuckDB over the parsed JSON; no Python loop
over events. See docs/formats/mailjet.md.
"""

from __future__ import annotations

from pathlib import Path

from dlvstats.ingest.adapters import common

FORMAT = "mailjet"


def stage(con, path: Path, files: list[Path], start_index: int, options: common.AdapterOptions, progress=None):
    # the sender's own fields travel in ``Payload`` (the EventPayload set at send), echoed as a JSON string
    return common.stage_json(con, FORMAT, "Mailjet", "an `event` field", path, files,
                             start_index, options, progress, common.tag_params(options))
