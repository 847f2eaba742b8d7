"""Helpers to write tiny hand-built canonical drops in tests."""

from __future__ import annotations

import csv
from pathlib import Path


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
    return path


def write_drop(directory: Path, tables: dict[str, tuple[list[str], list[list]]]) -> Path:
    """``tables``: kind -> (header, rows). Writes ``directory/<kind>.csv`` and returns directory."""
    directory.mkdir(parents=True, exist_ok=True)
    for kind, (header, rows) in tables.items():
        write_csv(directory / f"{kind}.csv", header, rows)
    return directory
