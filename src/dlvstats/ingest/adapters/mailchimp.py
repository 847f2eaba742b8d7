"""Mailchimp (Marketing) campaign reports, as the Marketing API returns them: the pages of
``/reports/{id}/email-activity``, ``/open-details``, ``/sent-to``, ``/unsubscribed`` and
``/abuse-reports``, with the campaign's report (``/reports/{id}``) or campaign (``/campaigns/{id}``)
for its send time; one response per file, or one per line, or arrays of them.

The mapping is SQL (``sql/adapters/mailchimp.sql``) run by DuckDB over the parsed JSON; no Python
loop over members or actions. Mandrill (Mailchimp Transactional) webhooks are ``--format mandrill``.
See docs/formats/mailchimp.md.
"""

from __future__ import annotations

from pathlib import Path

from dlvstats.ingest.adapters import common

FORMAT = "mailchimp"


def stage(con, path: Path, files: list[Path], start_index: int, options: common.AdapterOptions, progress=None):
    what = ("a Mailchimp report collection (`emails`, `sent_to`, `unsubscribes`, `abuse_reports`, "
            "open-details `members`) or a campaign report")
    return common.stage_json(con, FORMAT, "Mailchimp", what, path, files, start_index, options, progress)
