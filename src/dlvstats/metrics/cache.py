"""Computing a metric table once per report run, and a costly intermediate once per process.

Two caches, both keyed by the database file's identity (path, size and modification time of the
file and its WAL), so new data never returns an old table:

- ``shared``: a decorator for the registered metric functions. Only when ``configure`` named a
  directory in this process (the monthly report does, for its own run, with a private scratch
  directory; its notebooks get the same directory as their ``metric_cache`` parameter and pass it to
  ``configure``) is the returned DataFrame pickled there under a key made of the function and its
  arguments (defaults applied, dates normalised), so that the report's summary and the notebooks,
  which call the same functions with the same arguments in different processes, compute each table
  once. A file lock per key makes a second caller wait for the first rather than compute the same
  table again. Otherwise (the CLI, a notebook opened by hand) the function simply runs.
- ``memo_get`` / ``memo_put``: a small in-process store for intermediates that several functions of
  one notebook need (the per-provider hidden-images frame, the sunset buckets of the engagement
  base).
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import inspect
import os
import pickle
import tempfile
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import duckdb

from dlvstats import db

#: The shared tables' directory of this process's report run (None: no sharing). Set by ``configure``.
_directory: str | None = None


def configure(metric_cache: str | None = None, memory_limit: str | None = None) -> None:
    """This process's part of a report run: the directory where the run's metric tables are shared
    (``metric_cache``; None: each table is computed here) and DuckDB's memory cap for every
    connection it opens (``memory_limit``, e.g. ``2GB``; None: the setting's, else DuckDB's default).
    The report's notebooks call it with their ``metric_cache`` and ``memory_limit`` parameters."""
    global _directory
    _directory = str(metric_cache) if metric_cache else None
    db.set_memory_limit(memory_limit)


@contextmanager
def configured(metric_cache: str | None, memory_limit: str | None = None) -> Iterator[None]:
    """``configure`` for the length of a block (the report's own process), then as before."""
    before = (_directory, db.memory_limit_override())
    configure(metric_cache, memory_limit)
    try:
        yield
    finally:
        configure(*before)


def db_identity(db_path) -> tuple:
    """What changes when the database changes: the file's and its WAL's size and mtime. ``db_path`` may be
    an open DuckDB connection: the identity of its database file (the same as the path's), or a
    ``TypeError`` for an in-memory one (nothing to key it by: callers then compute)."""
    engine = getattr(db_path, "engine", "duckdb")  # a Spark lake's tables are not DuckDB's (tests compare them)
    if isinstance(db_path, duckdb.DuckDBPyConnection):
        db_path = _file_of(db_path)
    path = Path(db_path).resolve()
    parts: list = [engine, str(path)]
    candidates = (path, path.with_name(path.name + ".wal"))
    if path.is_dir():  # a lake: its manifest is rewritten last by every export
        candidates = (path / "dlvstats_lake.json",)
    for candidate in candidates:
        try:
            st = candidate.stat()
            parts += [st.st_size, st.st_mtime_ns]
        except OSError:
            parts += [None, None]
    return tuple(parts)


def _file_of(con) -> str:
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    if not row or not row[0]:
        raise TypeError("an in-memory DuckDB connection has no file identity")
    return row[0]


def _normal(value):
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day).isoformat()
    if isinstance(value, (list, tuple)):
        return tuple(_normal(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _normal(v)) for k, v in value.items()))
    if isinstance(value, Path):
        return str(value)
    return value


def _dates(arguments: dict) -> dict:
    """date_from/date_to as the Period the metric will use (a str, a date and a datetime agree)."""
    from dlvstats.metrics.common import Period

    if "date_from" in arguments and "date_to" in arguments:
        period = Period.parse(arguments["date_from"], arguments["date_to"])
        arguments = {**arguments, "date_from": period.start, "date_to": period.end}
    return arguments


def shared(func):
    """Compute ``func``'s table once per report run (see the module docstring)."""
    signature = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        directory = _directory
        if not directory:
            return func(*args, **kwargs)
        try:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = dict(bound.arguments)
            extra = arguments.pop(next((n for n, p in signature.parameters.items()
                                        if p.kind is inspect.Parameter.VAR_KEYWORD), "__none__"), {})
            arguments = _dates({**arguments, **extra})
            arguments["db_path"] = db_identity(arguments["db_path"])
            key = repr((func.__module__, func.__qualname__, _normal(arguments)))
        except Exception:  # noqa: BLE001 - an argument we cannot key: just compute
            return func(*args, **kwargs)
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        target = Path(directory) / f"{func.__name__}-{digest}.pkl"
        with open(target.with_suffix(".lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # another process computing it: wait for its result
            try:
                if target.exists():
                    with open(target, "rb") as stored:
                        return pickle.load(stored)
            except (OSError, pickle.PickleError, EOFError):
                pass
            result = func(*args, **kwargs)
            fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
            with os.fdopen(fd, "wb") as out:
                pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target)
            return result

    return wrapper


_MEMO: OrderedDict = OrderedDict()
_MEMO_SIZE = 16


def memo_get(key):
    """An intermediate stored by ``memo_put`` in this process under ``key`` (or None; a None key: nothing)."""
    if key is None:
        return None
    value = _MEMO.get(key)
    if value is not None:
        _MEMO.move_to_end(key)
    return value


def memo_put(key, value) -> None:
    if key is None:
        return
    _MEMO[key] = value
    _MEMO.move_to_end(key)
    while len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
