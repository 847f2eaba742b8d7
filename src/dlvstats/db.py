"""The database: connecting (with lock retry), packaged SQL files, schema migrations.

Knows nothing of ingest, metrics or reports. Every SQL statement the package runs lives in a
``.sql`` file under ``dlvstats/sql`` and takes values only as ``$named`` parameters.
"""

from __future__ import annotations

import logging
import re
import time
from functools import cache
from pathlib import Path

import duckdb

from dlvstats.config import SQL_DIR, Settings, settings

log = logging.getLogger(__name__)

#: The schema version this dlvstats writes. Older files are migrated forward by ``migrate``.
SCHEMA_VERSION = 3


#: DuckDB's memory cap for the connections of this process when a caller set one (``set_memory_limit``):
#: a report run passes its ``--memory-limit`` down this way, to its own process and, as a notebook
#: parameter, to each notebook's.
_memory_limit: str | None = None


def set_memory_limit(limit: str | None) -> None:
    """Cap DuckDB's memory (``2GB``, ``500MB``) for every connection this process opens from now on
    (None: back to the setting's cap, else DuckDB's default)."""
    global _memory_limit
    _memory_limit = limit.strip() if limit and limit.strip() else None


def memory_limit_override() -> str | None:
    return _memory_limit


class DatabaseBusy(RuntimeError):
    """Another process holds the database's write lock for longer than we were willing to wait."""


class DatabaseError(RuntimeError):
    """The database file is missing, too new, or not a dlvstats database."""


def connect(
    path: str | Path,
    *,
    read_only: bool = False,
    timeout_seconds: float | None = None,
    memory_limit: str | None = None,
    threads: int | None = None,
    config: Settings | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file, retrying with backoff while another process holds its lock.

    DuckDB lets one process write, or several read; a notebook left open must not make the
    scheduled job fail at once, so we wait (``DLVSTATS_LOCK_TIMEOUT``, default 60 s) and then
    fail naming the file and the process holding it. Lock timeout, memory limit and threads come
    from ``config`` (default: the process's ``settings()``) unless given here.
    """
    cfg = config or settings()
    path = Path(path)
    if read_only and not path.exists():
        raise DatabaseError(
            f"{path}: no such database. Create it with `dlvstats ingest DROP --db {path}` "
            "(or `make demo` for the demo database)."
        )
    timeout = cfg.lock_timeout_seconds if timeout_seconds is None else timeout_seconds
    duckdb_config: dict[str, str] = {}
    limit = memory_limit or _memory_limit or cfg.memory_limit
    if limit:
        duckdb_config["memory_limit"] = limit
    if threads or cfg.threads:
        duckdb_config["threads"] = str(threads or cfg.threads)
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=duckdb_config)
            break
        except duckdb.IOException as exc:
            message = str(exc)
            if "lock" not in message.lower():
                raise
            if time.monotonic() >= deadline:
                holder = re.search(r"PID (\d+)", message)
                who = f"process {holder.group(1)}" if holder else "another process"
                raise DatabaseBusy(
                    f"{path}: {who} holds the database lock and still did after {timeout:.0f} s. "
                    "Close that process (a notebook kernel? another ingest?) or raise "
                    "DLVSTATS_LOCK_TIMEOUT, then run the command again."
                ) from exc
            log.warning("database %s is locked; retrying in %.1f s", path, delay)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    session_settings(con)
    return con


#: the packaged macro files (sql/macros/) every dlvstats connection has: the metric files call them.
MACRO_FILES: tuple[str, ...] = ("macros/scope", "macros/cluster", "macros/health")


def session_settings(con: duckdb.DuckDBPyConnection) -> None:
    """The per-connection settings every dlvstats connection has (``connect``, and each cursor of a
    shared connection, which inherits neither the time zone nor temporary macros): UTC, no progress
    bar, and the SQL macros of ``MACRO_FILES``."""
    con.execute("SET TimeZone = 'UTC'")
    # DuckDB's own progress bar would write into notebooks, logs and CSV on stdout
    try:
        con.execute("SET enable_progress_bar = false")
    except duckdb.InvalidInputException:  # a Jupyter kernel without ipywidgets: DuckDB draws no bar there anyway
        pass
    install_macros(con)


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create (or replace) the temporary macros of ``MACRO_FILES`` on ``con``: they live in the
    connection, never in the database file, so a read-only connection has them too."""
    for name in MACRO_FILES:
        run(con, name)


@cache
def sql_text(name: str) -> str:
    """The text of a packaged SQL file, e.g. ``sql_text("metrics/hidden_images")``."""
    path = SQL_DIR / f"{name}.sql"
    if not path.exists():
        raise FileNotFoundError(f"no packaged SQL file {path}")
    return path.read_text(encoding="utf-8")


_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")


def _used_params(sql: str) -> set[str]:
    return set(_PARAM.findall(_COMMENT.sub("", sql)))


def split_statements(sql: str) -> list[str]:
    """Split a SQL script on semicolons at line ends (our files keep one statement per ``;\\n``)."""
    body = _COMMENT.sub("", sql)
    return [s.strip() for s in re.split(r";\s*(?:\n|$)", body) if s.strip()]


def run(con: duckdb.DuckDBPyConnection, name: str, **params):
    """Execute every statement of a packaged SQL file; return the cursor of the last one.

    Only the parameters a statement uses are passed to it, so one dict can serve a whole script.
    On a Spark connection (``dlvstats.spark``) a Spark form of the file, ``name.spark.sql`` beside
    it, is run instead when there is one; otherwise the DuckDB statements are translated there.
    """
    native = getattr(con, "engine", None) == "spark" and (SQL_DIR / f"{name}.spark.sql").exists()
    result = None
    for statement in split_statements(sql_text(f"{name}.spark" if native else name)):
        used = _used_params(statement)
        missing = used - params.keys()
        if missing:
            raise TypeError(f"{name}.sql needs parameters {sorted(missing)}")
        values = {k: params[k] for k in used} if used else None
        result = con.execute(statement, values, native=True) if native else con.execute(statement, values)
    return result


def query_df(con: duckdb.DuckDBPyConnection, name: str, **params):
    """Run a packaged SQL file and return its (small) result as a pandas DataFrame."""
    return run(con, name, **params).df()


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"
    ).fetchone()[0]
    if not exists:
        return 0
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrations() -> list[tuple[int, str]]:
    found = []
    for path in sorted((SQL_DIR / "schema").glob("[0-9][0-9][0-9]_*.sql")):
        found.append((int(path.name[:3]), f"schema/{path.stem}"))
    return found


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Bring the database to ``SCHEMA_VERSION``; refuse a file written by a newer dlvstats."""
    current = schema_version(con)
    if current > SCHEMA_VERSION:
        raise DatabaseError(
            f"this database has schema version {current}, newer than this dlvstats "
            f"({SCHEMA_VERSION}); upgrade dlvstats."
        )
    for version, name in migrations():
        if version <= current:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            run(con, name)
            con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', $v)", {"v": str(version)}
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        current = version
    return current


def require_dlvstats_db(con: duckdb.DuckDBPyConnection, path: str | Path) -> None:
    version = schema_version(con)
    if version == 0:
        raise DatabaseError(f"{path} is not a dlvstats database (no meta table); ingest a drop first.")
    if version < SCHEMA_VERSION:
        raise DatabaseError(
            f"{path} has schema version {version}; run `dlvstats ingest` or `dlvstats migrate "
            f"--db {path}` once with this dlvstats to upgrade it to {SCHEMA_VERSION}."
        )
