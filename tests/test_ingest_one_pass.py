"""The one-pass ingest (CSV and Parquet files converted and validated while they are read) against
the two-pass one (text staged, then converted by the loader): the same tables, the same rejects with
the same raw text and lines, the same refusal; and which files take which path."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from tests.helpers import write_drop

from dlvstats import db
from dlvstats.ingest import IngestRefused, ingest_paths
from dlvstats.ingest.canonical import ReadOptions, stage_drop
from dlvstats.ingest.core import load

SENDS = ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status",
         "delivered_at", "bounce_class", "smtp_code"]
DROP = {
    "sends": (SENDS, [
        ["m1", "2026-10-01 10:00:00", "a1", "l1", "c1", " Alice@Gmail.com ", "delivered", "", "", ""],
        ["m2", "2026-10-31T23:30:00+01:00", "a1", "l1", "c1", "bob@orange.fr", "bounced", "", "hard", "550"],
        ["m3", "2026-11-01", "a1", "l1", "c1", "carl@free.fr", "delivered", "", "", ""],
        ["m4", "1793520000", "a1", "l1", "c1", "dan@sfr.fr", "delivered", "", "", ""],         # epoch: refused
        ["m5", "2026-10-01T10:00:00Z", "a1", "l1", "c1", "not an address", "delivered", "", "", ""],
        ["m6", "2026-10-01T10:00:00Z", "1,23457E+16", "l1", "c1", "eve@laposte.net", "sent", "", "", ""],
        ["m1", "2026-10-01 10:00:00", "a1", "l1", "c1", "alice@gmail.com", "delivered", "", "", ""],  # duplicate
    ]),
    "opens": (["message_id", "ts", "user_agent", "ip"], [
        ["m1", "2026-10-01 11:00:00", "Mozilla/5.0", "192.0.2.1"],
        ["m1", "2026-10-01T11:00:00\u00a0", "Mozilla/5.0", "192.0.2.1"],  # NBSP trimmed: a duplicate
    ]),
}
TABLES = ("sends", "opens")


def _two_pass(db_path: Path, drop: Path, on_error: str, timezone_name: str):
    """The loader on text-staged tables (no ``convert_timezone``): the reference."""
    con = db.connect(db_path)
    try:
        db.migrate(con)
        con.execute("BEGIN TRANSACTION")
        staged, errors = stage_drop(con, drop, ReadOptions())
        assert all(s.converted is None for s in staged)
        summary = load(con, staged, errors, on_error=on_error, timezone_name=timezone_name, in_transaction=True)
        con.execute("COMMIT")
        return summary
    finally:
        con.close()


def _as_parquet(drop: Path) -> None:
    con = duckdb.connect()
    for csv in sorted(drop.glob("*.csv")):
        con.execute(f"COPY (SELECT * FROM read_csv('{csv}', all_varchar=true)) TO '{csv.with_suffix('.parquet')}' "
                    "(FORMAT parquet)")
        csv.unlink()
    con.close()


def _rows(db_path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return sorted(con.execute(sql).fetchall(), key=repr)
    finally:
        con.close()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_one_pass_equals_two_passes(tmp_path, fmt):
    drop = write_drop(tmp_path / "drop", DROP)
    if fmt == "parquet":
        _as_parquet(drop)
    one, two = tmp_path / "one.duckdb", tmp_path / "two.duckdb"
    got = ingest_paths(one, [drop], on_error="quarantine", timezone_name="Europe/Paris", classify=False)
    want = _two_pass(two, drop, "quarantine", "Europe/Paris")
    assert got.as_dict()["kinds"] == want.as_dict()["kinds"]
    assert got.counts["sends"].rejected == 3 and got.counts["opens"].duplicates == 1
    for table in TABLES:
        sql = f"SELECT * EXCLUDE (drop_id) FROM {table}"
        assert _rows(one, sql) == _rows(two, sql), table
    rejects = "SELECT file, line, kind, reason, raw FROM rejects"
    assert len(_rows(one, rejects)) == 3
    assert _rows(one, rejects) == _rows(two, rejects)
    if fmt == "csv":  # the raw text of a bad CSV row is rebuilt from the file on the error path
        assert all(raw and '"message_id"' in raw for *_, raw in _rows(one, rejects))


def test_one_pass_refuses_as_two_passes(tmp_path):
    drop = write_drop(tmp_path / "drop", DROP)
    with pytest.raises(IngestRefused) as one:
        ingest_paths(tmp_path / "one.duckdb", [drop])
    with pytest.raises(IngestRefused) as two:
        _two_pass(tmp_path / "two.duckdb", drop, "refuse", "UTC")
    assert str(one.value) == str(two.value)
    assert "sends.csv, line 5: sent_at" in str(one.value)


def test_which_files_are_read_in_one_pass(tmp_path):
    utf8 = write_drop(tmp_path / "utf8", {"sends": DROP["sends"]})
    dmy = write_drop(tmp_path / "dmy", {"sends": (SENDS, [
        ["m1", "27/11/2026 14:03", "a1", "l1", "c1", "alice@gmail.com", "delivered", "", "", ""]])})
    latin = tmp_path / "latin" / "sends.csv"
    latin.parent.mkdir()
    latin.write_bytes(",".join(SENDS).encode() + b"\nm1,2026-10-01T10:00:00Z,a1,l1,Cr\xe9dit,x@free.fr,delivered,,,\n")
    con = duckdb.connect()
    options = ReadOptions(convert_timezone="UTC")
    converted = {name: [s.converted for s in stage_drop(con, drop, options)[0]]
                 for name, drop in (("utf8", utf8), ("dmy", dmy), ("latin", latin.parent))}
    # day/month dates are detected over the whole file, a one-byte encoding is scanned for
    # mojibake: both keep the two passes
    assert converted == {"utf8": ["UTC"], "dmy": [None], "latin": [None]}
