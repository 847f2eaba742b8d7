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

from dlvstats import config


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


@dataclass
class LakeSim:
    db_path: Path
    lake_dir: Path
    date_from: str
    date_to: str


@pytest.fixture(scope="session")
def lake_sim(tmp_path_factory) -> LakeSim:
    """A small simulated ESP (1,500 addresses, September to November 2026: ~22k sends, complaints, orders,
    a blocklisting) with the GPT and SNDS samples imported and a DNS blocklist check on a loopback zone, as a DuckDB file and as the lake
    `dlvstats export --lake` writes of it: the DuckDB and Spark lake tests compare the two."""
    from dlvstats import db, lake, signals
    from dlvstats.ingest import ingest_paths
    from dlvstats.simulate import simulate

    out = tmp_path_factory.mktemp("lake_sim")
    simulate(out, seed=3, contacts=1500, months=3, end_month="2026-11", fmt="parquet")
    db_path = out / "sim.duckdb"
    ingest_paths(db_path, sorted((out / "drops").iterdir()))
    con = db.connect(db_path)
    data = Path(__file__).parent / "data" / "signals"
    signals.import_file(con, data / "gpt_domainstats_query.json", "gpt")
    signals.import_file(con, data / "snds_ip_data.csv", "snds")
    from datetime import datetime

    from dlvstats import blocklists
    from dlvstats.testzone import TestZoneServer, ip_key

    zones = [blocklists.Zone("test_ip_list", "test.dnsbl.invalid", "ip", "test", {"127.0.0.2": "SBL: test"}, {})]
    ips = ["198.51.100.20", "203.0.113.10"]  # a DNS check (blocklist_lookups): one listed, one not
    with TestZoneServer("test.dnsbl.invalid", {ip_key(ips[0]): "127.0.0.2"}) as server:
        blocklists.check(con, zones=zones, ips=ips, resolver=server.address, interval_seconds=0,
                         now=datetime(2026, 11, 20, 6, 0))
    con.close()
    lake.export_lake(db_path, out / "lake")
    return LakeSim(db_path, out / "lake", "2026-09-01", "2026-12-01")


@pytest.fixture(autouse=True)
def _fresh_settings():
    """Each test starts as a new process would: ``config.settings()`` reads the environment the test
    sets up (``monkeypatch.setenv`` before the command runs), not one an earlier test saw."""
    config.forget_environment()
    yield
    config.forget_environment()


@pytest.fixture(scope="session")
def spark():
    """One local Spark session (local[2], loopback, UI off, 2 shuffle partitions) for every Spark test of
    the run: starting one costs ~10 s. pyspark, sqlglot and Java 17 are test requirements (``make test``
    installs them): without them the Spark tests fail saying so, they are not skipped."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        import pyspark  # noqa: F401
        import sqlglot  # noqa: F401
    except ImportError as exc:
        pytest.fail(f"the Spark tests need pyspark and sqlglot: pip install -e '.[test]' (make test does): {exc}")
    from dlvstats import spark as engine

    try:
        session = engine.session(master="local[2]")
    except engine.SparkUnavailable as exc:
        pytest.fail(f"the Spark tests need Java 17 (make java installs it): {exc}")
    session.conf.set("spark.sql.shuffle.partitions", "2")
    yield session
    session.stop()
