"""SparkPost (Bird) event webhooks: the JSON batch SparkPost posts, elements
``{"msys": {"<class>_event": {...}}}`` (message, track, gen, unsubscribe, relay events), one batch
per file or per line.

The mapping is SQL (``sql/adapters/sparkpost.sql``) run by DuckDB over the parsed JSON; no Python
loop over events. See docs/formats/sparkpost.md.
"""

from __future__ import annotations

from pathlib import Path

from dlvstats.ingest.adapters import common

FORMAT = "sparkpost"


def stage(con, path: Path, files: list[Path], start_index: int, options: common.AdapterOptions, progress=None):
    # the sender's own fields travel in ``rcpt_meta`` (SparkPost merges transmission metadata into it)
    return common.stage_json(con, FORMAT, "SparkPost", "a `msys` event with a `type`", path, files,
                             start_index, options, progress, common.tag_params(options))
