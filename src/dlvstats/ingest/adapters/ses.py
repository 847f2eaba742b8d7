"""Amazon SES: event publishing records (``eventType``) and the older feedback notifications
(``notificationType``), as raw JSON, JSON lines, SNS HTTP envelopes, Lambda ``Records[].Sns``
events (``Message`` sometimes escaped twice), EventBridge events, and Firehose/S3 batches.

The mapping is SQL (``sql/adapters/ses.sql``) run by DuckDB over the parsed JSON; no Python loop
over events. See docs/formats/ses.md for the mapping table.
"""

from __future__ import annotations

from pathlib import Path

from dlvstats.ingest.adapters import common

FORMAT = "ses"


def stage(con, path: Path, files: list[Path], start_index: int, options: common.AdapterOptions, progress=None):
    # the sender's own fields are message tags: mail.tags.<name>, a list whose first value is kept
    tags = common.tag_params(options, "mail", "tags", suffix="[0]")
    return common.stage_json(con, FORMAT, "SES", "an eventType or notificationType", path, files,
                             start_index, options, progress, tags)
