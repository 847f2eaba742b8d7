"""Readers of canonical files into staged tables (docs/architecture.md, "Staged tables").

``base`` holds what every reader shares (``DropError``, ``ReadOptions``, ``Staged``); ``dialect``
resolves a CSV file's encoding, separator and header; ``csv_file``, ``jsonl_parquet`` stage one file;
``dates`` detects day/month date layouts. ``dlvstats.ingest.canonical`` reads a whole drop with them.
Nothing here writes to the canonical tables.
"""
