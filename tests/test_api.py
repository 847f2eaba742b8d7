"""The analysts' API: one session on a database, metrics by name in pandas or polars, read-only SQL;
the same numbers as the metric functions, and errors that say what to do."""

from __future__ import annotations

import duckdb
import pandas as pd
import polars as pl
import pytest
from tests.helpers import write_drop

import dlvstats
from dlvstats.ingest import ingest_paths
from dlvstats.metrics.common import UnknownAccount
from dlvstats.metrics.hidden_images import hidden_images

HEADER = ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status"]


@pytest.fixture
def small_db(tmp_path):
    rows = [[f"m{i}", f"2026-10-{1 + i % 28:02d}T10:00:00Z", "acme" if i % 3 else "beta", "news", "c1",
             f"r{i}@{'gmail.com' if i % 2 else 'orange.fr'}", "delivered"] for i in range(60)]
    rows.append(["m-nov", "2026-11-01T00:30:00+01:00", "acme", "news", "c1", "late@gmail.com", "delivered"])
    drop = write_drop(tmp_path / "d", {"sends": (HEADER, rows)})
    path = tmp_path / "api.duckdb"
    ingest_paths(path, [drop])
    return path


def test_metric_by_name_equals_the_function_in_pandas_and_polars(small_db):
    s = dlvstats.open(small_db)
    assert "hidden-images" in s.metrics() and "engagement-by-age" in s.metrics()
    got = s.metric("hidden-images", "2026-10")
    want = hidden_images(small_db, "2026-10-01", "2026-11-01")
    pd.testing.assert_frame_equal(got, want)
    assert want["delivered"].sum() == 61  # m-nov is 2026-10-31 23:30 UTC
    polars = s.metric("hidden-images", "2026-10", frame="polars")
    assert isinstance(polars, pl.DataFrame) and polars.columns == list(want.columns)
    assert polars["delivered"].sum() == want["delivered"].sum()
    # the session's account and time zone apply to every call
    acme = dlvstats.open(small_db, account="acme").metric("hidden-images", "2026-10")
    assert acme["delivered"].sum() == 41
    paris = dlvstats.open(small_db, timezone="Europe/Paris")
    assert paris.metric("hidden-images", "2026-10")["delivered"].sum() == 60  # 1 Nov 00:30 in Paris is November
    assert paris.metric("hidden-images", date_from="2026-11-01", date_to="2026-12-01")["delivered"].sum() == 1


def test_sql_is_read_only_and_hands_polars(small_db):
    s = dlvstats.open(small_db, frame="polars")
    out = s.sql("SELECT account_id, count(*) AS n FROM sends GROUP BY ALL ORDER BY account_id")
    assert isinstance(out, pl.DataFrame) and out.rows() == [("acme", 41), ("beta", 20)]
    assert s.sql("SELECT count(*) AS n FROM sends WHERE account_id = $a", frame="pandas", a="beta")["n"][0] == 20
    with pytest.raises(duckdb.Error, match="read-only"):
        s.sql("DELETE FROM sends")


def test_errors_say_what_to_do(small_db, tmp_path):
    with pytest.raises(FileNotFoundError, match="dlvstats ingest"):
        dlvstats.open(tmp_path / "none.duckdb")
    with pytest.raises(UnknownAccount, match="accounts there: acme, beta"):
        dlvstats.open(small_db, account="gamma")
    with pytest.raises(ValueError, match="not a time zone name"):
        dlvstats.open(small_db, timezone="Europe/Pariss")
    s = dlvstats.open(small_db)
    with pytest.raises(KeyError, match="unknown metric 'hidden'"):
        s.metric("hidden", "2026-10")
    with pytest.raises(ValueError, match="give a month"):
        s.metric("hidden-images")
    with pytest.raises(ValueError, match="choose one of pandas, polars"):
        s.metric("hidden-images", "2026-10", frame="arrow")
