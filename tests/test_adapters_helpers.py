"""Helpers shared by tests/test_adapters_*.py (no tests here): fixture paths, small queries, staging without a database."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

ESP_DATA = Path(__file__).parent / "data" / "esp"


def fixture_dir(fmt: str) -> Path:
    return ESP_DATA / fmt


def derived_files(fmt: str) -> list[Path]:
    """The fixture files at the top of a format's directory (written here), without SOURCES.md
    and without the public samples of its public/ folder."""
    return sorted(p for p in fixture_dir(fmt).iterdir() if p.is_file() and p.name != "SOURCES.md")


def public_files(fmt: str) -> list[Path]:
    """The public sample payloads of a format (tests/data/esp/<format>/public, see SOURCES.md);
    none when the format has no public/ folder."""
    public = fixture_dir(fmt) / "public"
    return sorted(p for p in public.iterdir() if p.is_file()) if public.is_dir() else []


def copy_fixtures(fmt: str, target: Path, names: list[str] | None = None) -> Path:
    """A private copy of a format's top-level fixture files (or some of them) under ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for path in derived_files(fmt):
        if names is None or path.name in names:
            shutil.copy2(path, target / path.name)
    return target


def rows(db_path: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def one(db_path: Path, sql: str, params=None):
    found = rows(db_path, sql, params)
    assert len(found) == 1, found
    return found[0]


def by_key(db_path: Path, sql: str) -> dict:
    """The first column -> the whole row."""
    return {r[0]: r for r in rows(db_path, sql)}


def counts(summary) -> dict[str, tuple[int, int, int, int, int]]:
    """kind -> (read, loaded, updated, duplicates, rejected), and every kind balances."""
    out = {}
    for kind, c in summary.counts.items():
        assert c.read == c.loaded + c.updated + c.duplicates + c.rejected, (kind, c)
        out[kind] = (c.read, c.loaded, c.updated, c.duplicates, c.rejected)
    return out


def stage(fmt: str, path: Path, **options):
    """Stage ``path`` with the adapter only (no loader, no database file): kind -> list of row
    dicts (canonical columns as the adapter wrote them, plus __file/__line/__raw/__error), and the
    StageResult (notes, structural errors)."""
    from dlvstats.ingest.adapters import stage_format

    con = duckdb.connect()
    try:
        result = stage_format(con, fmt, Path(path), **options)
        out: dict[str, list[dict]] = {}
        for item in result.staged:
            cur = con.execute(f"SELECT * FROM {item.table} ORDER BY __file, __line")
            names = [d[0] for d in cur.description]
            out.setdefault(item.kind, []).extend(dict(zip(names, r)) for r in cur.fetchall())
        return out, result
    finally:
        con.close()
