"""The lake: a database's tables as Parquet partitioned by month (Hive layout), for DuckDB and Spark.

``export_lake(db, DIR)`` writes every table of the database (the canonical tables with their
classification labels, ``rejects``, ``message_facts`` and the bookkeeping tables) to
``DIR/<table>/month=YYYY-MM/*.parquet``, the month being that of the table's time column (``sent_at``
for sends and message_facts, ``ts`` for events; a reject takes the month its drop was loaded). Tables
without a time column (``meta``, ``provider_domains``) are one unpartitioned file ``DIR/<table>/data.parquet``.
UUID columns are stored as text: Spark cannot read DuckDB's UUID Parquet columns.

``DIR/dlvstats_lake.json`` (the manifest, written last) names every table with its columns and DuckDB
types, its partition column and its row count: an empty table has no file, and a reader builds it from
the manifest; a lake without a manifest is an unfinished export.

``connect(DIR)`` opens an in-memory DuckDB connection whose views present the lake as the tables of the
``.duckdb`` file (same names, same columns in the same order, UUIDs cast back): the metrics run on it
unchanged.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb

from dlvstats import db

MANIFEST = "dlvstats_lake.json"  # not _-prefixed: Spark's readers skip such names as hidden
LAKE_FORMAT = 1

#: table -> the time column whose month partitions it (rejects: its drop's loaded_at).
MONTH_COLUMN = {
    "sends": "sent_at", "message_facts": "sent_at", "campaigns": "sent_at",
    "opens": "ts", "clicks": "ts", "complaints": "ts", "subscriptions": "ts", "orders": "ts",
    "blocklists": "ts", "drops": "loaded_at", "rejects": "loaded_at", "blocklist_lookups": "checked_at",
    "gpt_domain_stats": "day", "snds_ip_days": "activity_start", "watch_runs": "ran_at",
}


class LakeError(RuntimeError):
    """Not a dlvstats lake, an unfinished export, or a target that would be overwritten."""


def is_lake(path) -> bool:
    return isinstance(path, (str, Path)) and Path(path).is_dir() and (Path(path) / MANIFEST).exists()


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _tables(con) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_type = 'BASE TABLE' AND table_catalog = current_database() ORDER BY table_name"
    ).fetchall()
    return [r[0] for r in rows]


def _columns(con, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {_ident(table)}").fetchall()]


def export_lake(db_path, lake_dir, *, overwrite: bool = False) -> dict[str, int]:
    """Write the database at ``db_path`` as a lake in ``lake_dir``; return rows written per table."""
    lake = Path(lake_dir)
    if lake.exists() and any(lake.iterdir()):
        if not overwrite:
            raise LakeError(f"{lake} is not empty; give an empty or new directory (or --overwrite to replace a lake)")
        if not (lake / MANIFEST).exists() and not (lake / (MANIFEST + ".partial")).exists():
            raise LakeError(f"{lake} is not empty and holds no dlvstats lake: refusing to overwrite it")
        shutil.rmtree(lake)
    lake.mkdir(parents=True, exist_ok=True)
    (lake / (MANIFEST + ".partial")).write_text("export under way\n")
    con = db.connect(db_path, read_only=True)
    try:
        db.require_dlvstats_db(con, db_path)
        con.execute("SET preserve_insertion_order = false")
        manifest = {"format": LAKE_FORMAT, "schema_version": db.schema_version(con), "tables": {}}
        for table in _tables(con):
            columns = _columns(con, table)
            month_col = MONTH_COLUMN.get(table)
            select = ", ".join(
                f"CAST({_ident(c)} AS VARCHAR) AS {_ident(c)}" if t == "UUID" else _ident(c) for c, t in columns
            )
            source = _ident(table)
            if table == "rejects":  # no time of its own: the month its drop was loaded
                source = ("(SELECT r.*, d.loaded_at FROM rejects AS r LEFT JOIN drops AS d USING (drop_id))")
            target = lake / table
            count = con.execute(f"SELECT count(*) FROM {_ident(table)}").fetchone()[0]
            if count and month_col:
                month = f"coalesce(strftime({_ident(month_col)}, '%Y-%m'), 'unknown') AS month"
                con.execute(
                    f"COPY (SELECT {select}, {month} FROM {source}) TO {_literal(target)} "
                    "(FORMAT parquet, PARTITION_BY (month), COMPRESSION zstd)"
                )
            elif count:
                target.mkdir()
                con.execute(f"COPY (SELECT {select} FROM {source}) TO {_literal(target / 'data.parquet')} "
                            "(FORMAT parquet, COMPRESSION zstd)")
            manifest["tables"][table] = {
                "columns": [[c, t] for c, t in columns],
                "partitioned_by": "month" if month_col else None,
                "month_of": month_col,
                "rows": int(count),
            }
    finally:
        con.close()
    (lake / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    (lake / (MANIFEST + ".partial")).unlink()
    return {t: m["rows"] for t, m in manifest["tables"].items()}


def manifest(lake_dir) -> dict:
    path = Path(lake_dir) / MANIFEST
    if not path.exists():
        partial = (Path(lake_dir) / (MANIFEST + ".partial")).exists()
        raise LakeError(f"{lake_dir}: {'an unfinished export or ingest' if partial else 'not a dlvstats lake'} "
                        f"(no {MANIFEST}); write one with `dlvstats export --db DB --lake {lake_dir}`")
    found = json.loads(path.read_text())
    if found.get("format") != LAKE_FORMAT:
        raise LakeError(f"{lake_dir}: lake format {found.get('format')!r}, this dlvstats reads {LAKE_FORMAT}")
    return found


def files_glob(lake_dir, table: str, info: dict) -> str:
    """The glob matching the table's Parquet files."""
    base = Path(lake_dir).resolve() / table
    return str(base / "*" / "*.parquet") if info["partitioned_by"] else str(base / "*.parquet")


def duckdb_view_sql(lake_dir, table: str, info: dict) -> str:
    """The DuckDB SELECT presenting one lake table as the database's table."""
    columns = info["columns"]
    if not info["rows"]:
        cols = ", ".join(f"CAST(NULL AS {t}) AS {_ident(c)}" for c, t in columns)
        return f"SELECT {cols} WHERE false"
    cols = ", ".join(f"CAST({_ident(c)} AS {t}) AS {_ident(c)}" if t == "UUID" else _ident(c) for c, t in columns)
    reader = f"read_parquet({_literal(files_glob(lake_dir, table, info))}"
    if info["partitioned_by"]:
        reader += ", hive_partitioning = true, hive_types = {'month': 'VARCHAR'}"
    return f"SELECT {cols} FROM {reader})"


def connect(lake_dir, found: dict | None = None, *, prefix: dict[str, str] | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per lake table (see the module docstring). ``found``:
    the manifest to use instead of the directory's (the Spark ingest's, mid-way); ``prefix``: table ->
    the name to give its view instead (the ingest presents relabelled events under the table's name)."""
    found = found or manifest(lake_dir)
    con = db.connect(":memory:")  # the settings of a file's connection: UTC, memory limit, threads
    for table, info in found["tables"].items():
        name = (prefix or {}).get(table, table)
        con.execute(f"CREATE VIEW {_ident(name)} AS {duckdb_view_sql(lake_dir, table, info)}")
    return con
