"""The lake (`dlvstats export --lake`): month partitions, UUIDs as text, and every metric read back
by DuckDB from the Parquet files equal to the metric on the .duckdb file."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from dlvstats import lake, metrics
from dlvstats.cli import main


def test_every_table_partitioned_by_month_with_its_rows(lake_sim):
    con = duckdb.connect(str(lake_sim.db_path), read_only=True)
    manifest = json.loads((lake_sim.lake_dir / lake.MANIFEST).read_text())
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                        "WHERE table_type = 'BASE TABLE'").fetchall()}
    assert set(manifest["tables"]) == tables
    assert {"sends", "opens", "clicks", "complaints", "rejects", "message_facts"} <= tables
    for table in ("sends", "message_facts"):
        months = sorted(p.name for p in (lake_sim.lake_dir / table).iterdir())
        expected = [f"month={m}" for (m,) in con.execute(
            f"SELECT DISTINCT strftime(sent_at, '%Y-%m') FROM {table} ORDER BY 1").fetchall()]
        assert months == expected and len(months) == 3
    for table, info in manifest["tables"].items():
        n = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        assert info["rows"] == n, table
        if n:  # the files themselves hold the rows (not only the manifest)
            glob = lake.files_glob(lake_sim.lake_dir, table, info)
            assert duckdb.execute(f"SELECT count(*) FROM read_parquet('{glob}')").fetchone()[0] == n
    # a month partition holds only its month's rows
    glob = str(lake_sim.lake_dir / "opens" / "month=2026-10" / "*.parquet")
    span = duckdb.execute(f"SELECT min(ts), max(ts) FROM read_parquet('{glob}')").fetchone()
    assert span[0].strftime("%Y-%m") == span[1].strftime("%Y-%m") == "2026-10"


def test_uuid_columns_are_text_in_the_files_and_uuid_in_the_views(lake_sim):
    glob = str(lake_sim.lake_dir / "opens" / "*" / "*.parquet")
    types = dict(duckdb.execute(f"SELECT name, converted_type FROM parquet_schema('{glob}')").fetchall())
    assert types["event_key"] == "UTF8"
    con = lake.connect(lake_sim.lake_dir)
    assert {r[0]: r[1] for r in con.execute("DESCRIBE opens").fetchall()}["event_key"] == "UUID"
    original = duckdb.connect(str(lake_sim.db_path), read_only=True)
    query = "SELECT * FROM opens ORDER BY event_key"
    pd.testing.assert_frame_equal(con.execute(query).df(), original.execute(query).df())


def test_empty_tables_keep_their_columns(lake_sim):
    con = lake.connect(lake_sim.lake_dir)
    original = duckdb.connect(str(lake_sim.db_path), read_only=True)
    assert con.execute("SELECT count(*) FROM rejects").fetchone()[0] == 0
    assert con.execute("DESCRIBE rejects").fetchall() == original.execute("DESCRIBE rejects").fetchall()


@pytest.mark.parametrize("name", sorted(metrics.REGISTRY))
def test_every_metric_reads_the_lake_as_the_database(lake_sim, name):
    func = metrics.get(name)
    on_db = func(lake_sim.db_path, lake_sim.date_from, lake_sim.date_to)
    on_lake = func(lake_sim.lake_dir, lake_sim.date_from, lake_sim.date_to)
    pd.testing.assert_frame_equal(on_lake, on_db)


def test_some_metrics_have_rows(lake_sim):
    """The equality above is not between empty tables."""
    for name in ("sender-health", "gmail-spam-rate", "snds-ip-timeline", "blocklist-culprits", "gift-campaigns",
                 "hidden-images", "engagement-by-age", "blocklist-status"):
        assert len(metrics.get(name)(lake_sim.lake_dir, lake_sim.date_from, lake_sim.date_to)), name
    frame = metrics.get("sender-health")(lake_sim.lake_dir, lake_sim.date_from, lake_sim.date_to)
    assert frame["complaints"].sum() > 0


def test_cli_metrics_on_the_lake_print_the_database_table(lake_sim, capsys):
    args = ["metrics", "sender-health", "--from", lake_sim.date_from, "--to", lake_sim.date_to, "--format", "csv",
            "--report-timezone", "Europe/Paris", "--account", "acct_oldlist"]
    assert main(args + ["--db", str(lake_sim.db_path)]) == 0
    on_db = capsys.readouterr().out
    assert main(args + ["--lake", str(lake_sim.lake_dir)]) == 0
    assert capsys.readouterr().out == on_db and on_db.count("\n") > 3


def test_cli_export_refuses_a_directory_that_is_not_a_lake(lake_sim, tmp_path, capsys):
    target = tmp_path / "notes"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    assert main(["export", "--db", str(lake_sim.db_path), "--lake", str(target), "--overwrite"]) == 2
    assert "holds no dlvstats lake" in capsys.readouterr().err and (target / "mine.txt").exists()
    fresh = tmp_path / "lake"
    assert main(["export", "--db", str(lake_sim.db_path), "--lake", str(fresh)]) == 0
    assert "sends" in capsys.readouterr().out
    assert main(["export", "--db", str(lake_sim.db_path), "--lake", str(fresh)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["export", "--db", str(lake_sim.db_path), "--lake", str(fresh), "--overwrite"]) == 0


def test_metrics_refuse_a_directory_that_is_not_a_lake(tmp_path, capsys):
    code = main(["metrics", "sender-health", "--lake", str(tmp_path), "--from", "2026-10-01", "--to", "2026-11-01"])
    assert code == 2 and "not a dlvstats lake" in capsys.readouterr().err
