"""SendGrid Event Webhook: arrays of events (webhook POST bodies) and single bare objects, one per
line or one per file; epoch timestamps in seconds or milliseconds (and the odd string);
``sg_machine_open`` kept as the vendor's machine-open flag.

The mapping is SQL (``sql/adapters/sendgrid.sql``) run by DuckDB; no Python loop over events.
See docs/formats/sendgrid.md.
"""

from __future__ import annotations

from pathlib import Path

from dlvstats.ingest.adapters import common

FORMAT = "sendgrid"


def stage(con, path: Path, files: list[Path], start_index: int, options: common.AdapterOptions, progress=None):
    # the sender's own fields are custom arguments at the top of each event
    return common.stage_json(con, FORMAT, "SendGrid", "an `event` field", path, files,
                             start_index, options, progress, common.tag_params(options))
