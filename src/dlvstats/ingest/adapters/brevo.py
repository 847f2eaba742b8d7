"""Brevo (ex-Sendinblue) transactional webhooks: ``event`` request, delivered, hard_bounce,
soft_bounce, deferred, blocked, invalid_email, error, spam/complaint, opened/unique_opened,
proxy_open (machine opens), click, unsubscribe; one object per file or line, or arrays of them.

The mapping is SQL (``sql/adapters/brevo.sql``) run by DuckDB over the parsed JSON; no Python loop
over events. See docs/formats/brevo.md.
"""

from __future__ import annotations

from pathlib import Path

from dlvstats.ingest.adapters import common

FORMAT = "brevo"


def stage(con, path: Path, files: list[Path], start_index: int, options: common.AdapterOptions, progress=None):
    # the sender's own fields travel in the X-Mailin-custom header, a JSON object Brevo echoes as a string
    return common.stage_json(con, FORMAT, "Brevo", "an `event` field", path, files,
                             start_index, options, progress, common.tag_params(options))
