"""Ingest: readers (canonical drop, ESP/MTA adapters) into staged tables, and the shared loader.

``ingest_paths`` is the one entry point the CLI and the report use.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from dlvstats import db, privacy
from dlvstats.config import Settings, pause_point
from dlvstats.ingest.canonical import DropError, ReadOptions, stage_drop
from dlvstats.ingest.core import IngestRefused, IngestSummary, check_timezone, load

__all__ = ["DropError", "IngestRefused", "IngestSummary", "ReadOptions", "ingest_paths"]


def ingest_paths(
    db_path: str | Path,
    paths: list[str | Path],
    *,
    on_error: str = "refuse",
    timezone_name: str = "UTC",
    read_options: ReadOptions | None = None,
    input_format: str = "canonical",
    progress=None,
    classify: bool = True,
    adapter_options: dict | None = None,
    pseudonymize: bool = False,
    config: Settings | None = None,
) -> IngestSummary:
    """Load one or more drops as one atomic ingest into the database at ``db_path``.

    The database is created (and migrated) if needed. Either every good row lands, or nothing
    changes. After the load the human/machine classification of new events is rebuilt.
    ``adapter_options`` (ESP/MTA formats only) are keyword arguments of
    ``dlvstats.ingest.adapters.stage_format``: ``account_id``, ``campaign_id``, ``list_id``, ``tags``...
    ``pseudonymize`` replaces recipients by keyed pseudonyms (key: ``DLVSTATS_PSEUDONYM_KEY``;
    see ``dlvstats.privacy``). ``config``: the settings to connect with and take the pseudonym key
    from (default: the process's ``settings()``).
    """
    read_options = read_options or ReadOptions()
    pseudonymizer = privacy.Pseudonymizer.from_settings(config) if pseudonymize else None
    con = db.connect(db_path, config=config)
    try:
        db.migrate(con)
        check_timezone(con, timezone_name)
        # CSV files are converted while they are read, in the zone the loader would use
        read_options = replace(read_options, convert_timezone=timezone_name)
        con.execute("BEGIN TRANSACTION")
        try:
            staged, structural, notes = [], {}, []
            for path in paths:
                if input_format == "canonical":
                    items, errors = stage_drop(con, Path(path), read_options, len(staged), progress)
                else:
                    from dlvstats.ingest.adapters import stage_format

                    result = stage_format(
                        con, input_format, Path(path), len(staged), progress, read_options=read_options,
                        **(adapter_options or {}),
                    )
                    items, errors = result
                    notes.extend(result.notes)
                staged.extend(items)
                structural.update(errors)
            pause_point("staged")
            summary = load(
                con, staged, structural, on_error=on_error, timezone_name=timezone_name,
                paths=[str(p) for p in paths], input_format=input_format, read_options=read_options,
                progress=progress, notes=notes, in_transaction=True, pseudonymizer=pseudonymizer,
            )
            if classify:
                from dlvstats import classify as classify_module

                classify_module.classify(con, only_drop_id=summary.drop_id)
            pause_point("committing")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        pause_point("committed")
        return summary
    finally:
        con.close()
