"""Provenance of the ESP/MTA samples: every directory of tests/data/esp has a SOURCES.md that names
each of its files (public/ and derived/ folders included), and a SOURCES.md in a drop is not read as data."""

from __future__ import annotations

from tests.test_adapters_helpers import ESP_DATA, copy_fixtures

from dlvstats.ingest.adapters import list_input_files


def test_every_sample_directory_names_its_files_in_sources_md():
    formats = sorted(p for p in ESP_DATA.iterdir() if p.is_dir())
    assert len(formats) >= 13
    missing = []
    for directory in formats:
        sources = directory / "SOURCES.md"
        if not sources.is_file():
            missing.append(f"{directory.name}: no SOURCES.md")
            continue
        text = sources.read_text(encoding="utf-8")
        for path in sorted(p for p in directory.rglob("*") if p.is_file() and p != sources):
            if f"`{path.name}`" not in text and f"`{path.relative_to(directory).as_posix()}`" not in text:
                missing.append(f"{directory.name}: {path.relative_to(directory)} not named in SOURCES.md")
    assert missing == []


def test_sources_md_in_a_drop_is_not_data(tmp_path):
    drop = copy_fixtures("pmta", tmp_path / "drop")
    (drop / "SOURCES.md").write_text("# where these files come from\n")
    assert [p.name for p in list_input_files(drop)] == ["acct-2026-10-01.csv"]
