"""Ingest: readers (canonical drop, ESP/MTA adapters) into staged tables, and the shared loader.

``ingest_paths`` is the one entry point the CLI and the report use.
"""

from __future__ import annotations

from pathlib import Path

from dlvstats import db
from dlvstats.ingest.canonical import DropError, ReadOptions, stage_drop
from dlvstats.ingest.core import IngestRefused, IngestSummary, load

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
) -> IngestSummary:
    """Load one or more drops as one atomic ingest into the database at ``db_path``.

    The database is created (and migrated) if needed. Either every good row lands, or nothing
    changes. After the load the human/machine classification of new events is rebuilt.
    """
    read_options = read_options or ReadOptions()
    con = db.connect(db_path)
    try:
        db.migrate(con)
        con.execute("BEGIN TRANSACTION")
        try:
            staged, structural = [], {}
            for path in paths:
                if input_format == "canonical":
                    items, errors = stage_drop(con, Path(path), read_options, len(staged), progress)
                else:
                    from dlvstats.ingest.adapters import stage_format

                    items, errors = stage_format(con, input_format, Path(path), len(staged), progress)
                staged.extend(items)
                structural.update(errors)
            summary = load(
                con, staged, structural, on_error=on_error, timezone_name=timezone_name,
                paths=[str(p) for p in paths], input_format=input_format, read_options=read_options,
                progress=progress, in_transaction=True,
            )
            if classify:
                from dlvstats import classify as classify_module

                classify_module.classify(con, only_drop_id=summary.drop_id)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return summary
    finally:
        con.close()
