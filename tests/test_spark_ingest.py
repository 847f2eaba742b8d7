"""The Spark ingest job: a drop added to a lake by ``spark_ingest.ingest_lake`` gives the lake the DuckDB
ingest gives the database — every table, row for row (the drop's load time aside), the same accounting —
and a drop the DuckDB ingest refuses is refused with the same message, the lake untouched.

A small simulated ESP (300 addresses, September and October 2026, as CSV drops): September is ingested
into a database and exported as the lake; then October (which settles September's deferred sends and
brings September events) and a hand-built late drop (a settled send, a stored send and open repeated,
new September events: a drop touching an existing month) go into both, one on DuckDB, one on Spark.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.helpers import assert_same_table, write_drop

from dlvstats import db, lake, spark_ingest
from dlvstats.cli import main
from dlvstats.ingest import IngestRefused, ingest_paths


@pytest.fixture(scope="module")
def two_months(tmp_path_factory):
    from dlvstats.simulate import simulate

    out = tmp_path_factory.mktemp("spark_ingest")
    simulate(out, seed=11, contacts=300, months=2, end_month="2026-10", fmt="csv")
    september, october = sorted((out / "drops").iterdir())
    reference = out / "reference.duckdb"
    ingest_paths(reference, [september])
    lake_dir = out / "lake"
    lake.export_lake(reference, lake_dir)
    return out, reference, lake_dir, september, october


def _tables(con) -> dict:
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]
    out = {}
    for name in names:
        frame = con.execute(f'SELECT * FROM "{name}"').df()
        if name == "drops":
            frame = frame.drop(columns=["loaded_at"])  # when each was loaded
        out[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True) if len(frame) else frame
    return out


def _assert_lake_equals_database(lake_dir: Path, db_path: Path) -> None:
    con_db = db.connect(db_path, read_only=True)
    con_lake = lake.connect(lake_dir)
    try:
        expected, actual = _tables(con_db), _tables(con_lake)
    finally:
        con_db.close()
        con_lake.close()
    assert set(actual) == set(expected)
    for name, frame in expected.items():
        try:
            assert_same_table(actual[name], frame)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc
    counts = {t: i["rows"] for t, i in lake.manifest(lake_dir)["tables"].items()}
    assert counts == {t: len(f) for t, f in expected.items()}


def test_a_drop_into_the_lake_equals_the_duckdb_ingest(spark, two_months):
    out, reference, lake_dir, _, october = two_months
    on_duckdb = ingest_paths(reference, [october])
    on_spark = spark_ingest.ingest_lake(lake_dir, [october], spark=spark)
    assert on_spark.as_dict() == on_duckdb.as_dict()
    _assert_lake_equals_database(lake_dir, reference)
    assert not (lake_dir / "_ingest").exists() and not (lake_dir / (lake.MANIFEST + ".partial")).exists()

    # a late drop: settles a deferred send, repeats a stored send and a stored open, and brings two opens and
    # a complaint of a September message (the month partitions of September are rewritten)
    late = _late_drop(reference, out / "late")
    on_duckdb = ingest_paths(reference, [late])
    on_spark = spark_ingest.ingest_lake(lake_dir, [late], spark=spark)
    assert on_spark.as_dict() == on_duckdb.as_dict()
    sends = on_spark.counts["sends"]
    assert (sends.read, sends.updated, sends.duplicates, sends.loaded) == (2, 1, 1, 0)
    opens = on_spark.counts["opens"]
    assert (opens.loaded, opens.duplicates) == (2, 1) and on_spark.counts["complaints"].loaded == 1
    _assert_lake_equals_database(lake_dir, reference)


def _late_drop(reference: Path, directory: Path) -> Path:
    con = db.connect(reference, read_only=True)
    try:
        columns = "message_id, strftime(sent_at, '%Y-%m-%dT%H:%M:%SZ'), account_id, list_id, campaign_id, recipient"
        deferred = con.execute(f"SELECT {columns}, strftime(sent_at + INTERVAL 2 HOUR, '%Y-%m-%dT%H:%M:%SZ') "
                               "FROM sends WHERE status = 'deferred' ORDER BY message_id LIMIT 1").fetchone()
        stored = con.execute(f"SELECT {columns}, status FROM sends WHERE status = 'delivered' "
                             "AND sent_at < '2026-09-15' ORDER BY message_id LIMIT 1").fetchone()
        stored_open = con.execute("SELECT message_id, strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ'), user_agent, ip, "
                                  "coalesce(event_id, '') FROM opens ORDER BY event_key LIMIT 1").fetchone()
        ts = con.execute("SELECT strftime(sent_at + INTERVAL 3 DAY, '%Y-%m-%dT%H:%M:%SZ') FROM sends "
                         "WHERE message_id = $m", {"m": stored[0]}).fetchone()[0]
    finally:
        con.close()
    assert deferred is not None and stored is not None and stored_open is not None
    header = ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status"]
    return write_drop(directory, {
        "sends": (header + ["delivered_at"], [[*deferred[:6], "delivered", deferred[6]], [*stored, ""]]),
        "opens": (["message_id", "ts", "user_agent", "ip", "event_id"],
                  [[stored[0], ts, "Mozilla/5.0 (Windows NT 10.0) Thunderbird/115.0", "192.0.2.7", ""],
                   [stored[0], ts, "Mozilla/5.0", "17.58.1.1", ""], list(stored_open)]),
        "complaints": (["ts", "message_id", "source"], [[ts, stored[0], "fbl"]]),
    })


def test_a_bad_row_is_refused_as_duckdb_refuses_it(spark, two_months, tmp_path, capsys):
    """Through the CLI: exit 3, DuckDB's message, the lake unchanged."""
    _, reference, lake_dir, _, _ = two_months
    bad = write_drop(tmp_path / "bad", {"sends": (
        ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status"],
        [["m-new-1", "2026-10-05T10:00:00Z", "acct", "l1", "c1", "a@example.org", "delivered"],
         ["m-new-2", "2026-10-05T10:00:00Z", "acct", "l1", "c1", "b@example.org", "arrived"]])})
    copy = tmp_path / "reference.duckdb"
    shutil.copy(reference, copy)
    with pytest.raises(IngestRefused) as on_duckdb:
        ingest_paths(copy, [bad])
    before = sorted(str(p.relative_to(lake_dir)) for p in lake_dir.rglob("*"))
    manifest = (lake_dir / lake.MANIFEST).read_text()
    assert main(["ingest", str(bad), "--engine", "spark", "--lake", str(lake_dir)]) == 3
    err = capsys.readouterr().err
    assert str(on_duckdb.value) in err and "line 3" in err and f"The lake {lake_dir} is unchanged" in err
    assert sorted(str(p.relative_to(lake_dir)) for p in lake_dir.rglob("*")) == before
    assert (lake_dir / lake.MANIFEST).read_text() == manifest


def test_complaints_of_a_report_and_its_redelivery_on_spark_as_on_duckdb(spark, tmp_path):
    """Complaint keys on Spark as on DuckDB: a report listing seven recipients is seven complaints and
    seven duplicates when dropped again; a redacted report dropped again once its send is known (with the
    send's recipient) is a duplicate of the one stored without a recipient."""
    from tests.test_adapters_helpers import copy_fixtures, fixture_dir

    arf = copy_fixtures("arf", tmp_path / "arf", ["aol-redacted-0002.eml"])
    shutil.copy2(fixture_dir("arf") / "public" / "sisimai-arf-16.eml", arf / "sisimai-arf-16.eml")
    reference = tmp_path / "reference.duckdb"
    first = ingest_paths(reference, [arf], input_format="arf")
    assert (first.counts["complaints"].loaded, first.counts["complaints"].duplicates) == (8, 0)
    lake_dir = tmp_path / "lake"
    lake.export_lake(reference, lake_dir)
    # again with the SES sends, in one ingest: the redacted report is matched to its send by the ingest on
    # both engines (the Spark ingest matches reports to the sends of the same ingest, not to the lake's)
    drop = [copy_fixtures("ses", tmp_path / "ses"), arf]
    on_duckdb = ingest_paths(reference, drop, input_format="auto")
    on_spark = spark_ingest.ingest_lake(lake_dir, drop, spark=spark, input_format="auto")
    assert on_spark.as_dict() == on_duckdb.as_dict()
    complaints = on_spark.counts["complaints"]
    assert complaints.duplicates == 8 and complaints.loaded == complaints.read - 8
    _assert_lake_equals_database(lake_dir, reference)
    con = db.connect(reference, read_only=True)
    try:  # one complaint for the redacted report, stored without a recipient by the first drop
        assert con.execute("SELECT count(*), count(recipient) FROM complaints WHERE source = 'yahoo_cfl' AND ts = "
                           "TIMESTAMP '2026-10-02 15:00:00'").fetchone() == (1, 0)
    finally:
        con.close()
