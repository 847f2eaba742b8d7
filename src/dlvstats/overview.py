"""Data overview for the 00 notebook and the report: what was loaded, coverage by day, orphans,
rejects. Small tables only; every query is a packaged SQL file run read-only. Each function takes a
database path or an open DuckDB connection (a session's, as the 00 notebook passes), as the metrics do.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dlvstats import db
from dlvstats.metrics.common import readonly


def coverage(db_path: str | Path) -> pd.DataFrame:
    with readonly(db_path) as con:
        return db.query_df(con, "relations/coverage")


def daily_coverage(db_path: str | Path) -> pd.DataFrame:
    with readonly(db_path) as con:
        return db.query_df(con, "relations/daily_coverage")


def orphans(db_path: str | Path) -> pd.DataFrame:
    with readonly(db_path) as con:
        return db.query_df(con, "checks/orphans")


def rejects(db_path: str | Path) -> pd.DataFrame:
    """Rejected rows grouped by file, kind and reason (never the raw text: it may hold addresses)."""
    with readonly(db_path) as con:
        return db.query_df(con, "relations/rejects_summary")


def loads(db_path: str | Path) -> pd.DataFrame:
    with readonly(db_path) as con:
        return db.query_df(con, "relations/loads")


def freshness(db_path: str | Path) -> pd.DataFrame:
    """The last timestamp of each kind: how recent the data is."""
    frame = coverage(db_path)
    return frame[["kind", "row_count", "last_at"]]
