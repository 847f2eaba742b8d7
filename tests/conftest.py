"""Shared fixtures.

- ``tiny_drop(tmp_path)``-style helpers write hand-built canonical drops (see tests/helpers.py).
- ``sim`` (session): one simulated ESP (the demo's size unless DLVSTATS_TEST_CONTACTS says
  otherwise) written once per test session, ingested into a real DuckDB file; yields
  ``SimData(db_path, out_dir, truth)``. Tests that compare estimators with the latent truth use it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class SimData:
    db_path: Path
    out_dir: Path
    truth: dict


@pytest.fixture(scope="session")
def sim(tmp_path_factory) -> SimData:
    from dlvstats.ingest import ingest_paths
    from dlvstats.simulate import simulate

    out = tmp_path_factory.mktemp("sim")
    contacts = int(os.environ.get("DLVSTATS_TEST_CONTACTS", "20000"))
    simulate(out, seed=7, contacts=contacts, months=12, end_month="2026-10", fmt="parquet")
    drops = sorted((out / "drops").iterdir())
    db_path = out / "sim.duckdb"
    ingest_paths(db_path, drops)
    truth = json.loads((out / "truth.json").read_text())
    return SimData(db_path, out, truth)
