"""Mandrill (Mailchimp Transactional) message-event webhooks: the JSON array Mandrill posts as the
``mandrill_events`` form field (``event`` send, deferral, hard_bounce, soft_bounce, reject, open,
click, spam, unsub; sync events counted and not loaded), one array per file or per line.

The mapping is SQL (``sql/adapters/mandrill.sql``) run by DuckDB over the parsed JSON; no Python
loop over events. See docs/formats/mandrill.md.
"""

from __future__ import annotations

from pathlib import Path

from dlvstats.ingest.adapters import common

FORMAT = "mandrill"


def stage(con, path: Path, files: list[Path], start_index: int, options: common.AdapterOptions, progress=None):
    # the sender's own fields travel in ``msg.metadata``
    return common.stage_json(con, FORMAT, "Mandrill", "an `event` field", path, files,
                             start_index, options, progress, common.tag_params(options))
