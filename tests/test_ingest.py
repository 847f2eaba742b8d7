"""Canonical ingest: formats, timestamps, idempotence, atomic refusal, quarantine, providers, orphans."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.helpers import write_csv, write_drop

from dlvstats.config import settings
from dlvstats.ingest import DropError, IngestRefused, ReadOptions, ingest_paths

# One small, valid example of every canonical kind (values as strings, as in a CSV export).
SAMPLE = {
    "sends": (
        ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status",
         "delivered_at", "bounce_class", "smtp_code", "enhanced_status", "bounce_reason", "sending_ip",
         "sending_domain"],
        [
            ["m1", "2026-10-01T10:00:00Z", "a1", "l1", "c1", " Alice@Gmail.com ", "delivered",
             "2026-10-01T10:00:04Z", "", "", "", "", "192.0.2.1", "news.example"],
            ["m2", "2026-10-01T10:00:00Z", "a1", "l1", "c1", "bob@hotmail.fr", "bounced", "", "hard",
             "550", "5.1.1", "550 5.1.1 user unknown", "192.0.2.1", "news.example"],
            ["m3", "2026-10-01T10:00:00Z", "a1", "l1", "c1", "carl@corp.example", "deferred", "", "", "451",
             "4.7.1", "try later", "192.0.2.1", "news.example"],
        ],
    ),
    "opens": (
        ["message_id", "ts", "user_agent", "ip", "event_id", "is_machine"],
        [["m1", "2026-10-01T11:00:00Z", "Mozilla/5.0", "17.0.0.9", "o1", ""],
         ["m1", "2026-10-01T12:00:00Z", "Thunderbird", "198.51.100.7", "o2", "false"]],
    ),
    "clicks": (
        ["message_id", "ts", "url", "user_agent", "ip", "event_id", "is_machine"],
        [["m1", "2026-10-01T12:01:00Z", "https://shop.example/a", "Firefox", "198.51.100.7", "k1", ""]],
    ),
    "complaints": (
        ["ts", "message_id", "recipient", "account_id", "source"],
        [["2026-10-02T08:00:00Z", "m1", "", "a1", "signal_spam"],
         ["2026-10-02T09:00:00Z", "", "bob@hotmail.fr", "a1", "microsoft_jmrp"]],
    ),
    "subscriptions": (
        ["ts", "account_id", "list_id", "recipient", "action", "source", "campaign_id", "collected_at"],
        [["2026-09-01T00:00:00Z", "a1", "l1", "alice@gmail.com", "subscribe", "import", "", "2014-05-01T00:00:00Z"],
         ["2026-10-03T00:00:00Z", "a1", "l1", "alice@gmail.com", "unsubscribe", "link", "c1", ""]],
    ),
    "campaigns": (
        ["campaign_id", "account_id", "list_id", "sent_at", "kind", "name", "subject"],
        [["c1", "a1", "l1", "2026-10-01T10:00:00Z", "gift", "Été", "C'est l'été et c'est cadeau"]],
    ),
    "orders": (
        ["ts", "account_id", "recipient", "order_id", "amount", "campaign_id"],
        [["2026-10-05T10:00:00Z", "a1", "alice@gmail.com", "o-1", "49.90", "c1"]],
    ),
    "blocklists": (
        ["ts", "target", "blocklist", "action"],
        [["2026-10-04T00:00:00Z", "192.0.2.1", "trendmicro_ers", "listed"]],
    ),
}
EXPECTED_ROWS = {kind: len(rows) for kind, (_, rows) in SAMPLE.items()}


def _write_kind(directory: Path, kind: str, fmt: str) -> None:
    header, rows = SAMPLE[kind]
    if fmt in ("csv", "csv.gz"):
        path = write_csv(directory / f"{kind}.csv", header, rows)
        if fmt == "csv.gz":
            with open(path, "rb") as src, gzip.open(directory / f"{kind}.csv.gz", "wb") as dst:
                shutil.copyfileobj(src, dst)
            path.unlink()
    elif fmt in ("jsonl", "jsonl.gz"):
        lines = "".join(
            json.dumps({h: v for h, v in zip(header, row) if v != ""}, ensure_ascii=False) + "\n" for row in rows
        )
        if fmt == "jsonl":
            (directory / f"{kind}.jsonl").write_text(lines, encoding="utf-8")
        else:
            with gzip.open(directory / f"{kind}.jsonl.gz", "wt", encoding="utf-8") as handle:
                handle.write(lines)
    elif fmt == "parquet":
        table = pa.table({h: [row[i] or None for row in rows] for i, h in enumerate(header)})
        pq.write_table(table, directory / f"{kind}.parquet")
    elif fmt == "subdir":
        (directory / kind).mkdir()
        write_csv(directory / kind / "part-0001.csv", header, rows[:1])
        if len(rows) > 1:
            pq.write_table(
                pa.table({h: [row[i] or None for row in rows[1:]] for i, h in enumerate(header)}),
                directory / kind / "part-0002.parquet",
            )


def _counts(db_path: Path) -> dict[str, int]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return {k: con.execute(f"SELECT count(*) FROM {k}").fetchone()[0] for k in [*SAMPLE, "rejects"]}
    finally:
        con.close()


@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet", "jsonl", "jsonl.gz", "subdir"])
def test_every_kind_in_every_format(tmp_path, fmt):
    drop = tmp_path / "drop"
    drop.mkdir()
    for kind in SAMPLE:
        _write_kind(drop, kind, fmt)
    summary = ingest_paths(tmp_path / "db.duckdb", [drop])
    for kind, n in EXPECTED_ROWS.items():
        assert summary.counts[kind].read == n
        assert summary.counts[kind].loaded == n, kind
    assert _counts(tmp_path / "db.duckdb") == {**EXPECTED_ROWS, "rejects": 0}
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    sends = dict(con.execute("SELECT message_id, recipient FROM sends").fetchall())
    assert sends["m1"] == "alice@gmail.com"  # trimmed and lower-cased
    amount = con.execute("SELECT amount FROM orders").fetchone()[0]
    assert float(amount) == pytest.approx(49.90)
    assert con.execute("SELECT kind FROM campaigns").fetchone()[0] == "gift"
    assert con.execute("SELECT name FROM campaigns").fetchone()[0] == "Été"  # UTF-8 intact


@pytest.mark.parametrize("fmt", ["csv.gz", "jsonl.gz"])
def test_every_kind_loads_under_a_small_memory_limit(tmp_path, fmt):
    """A user's --memory-limit far below DuckDB's default buffers (the JSON-lines reader once
    reserved 2 GiB per buffer and failed under any limit below that)."""
    drop = tmp_path / "drop"
    drop.mkdir()
    for kind in SAMPLE:
        _write_kind(drop, kind, fmt)
    summary = ingest_paths(tmp_path / "db.duckdb", [drop], config=settings().replace(memory_limit="120MB"))
    assert {kind: summary.counts[kind].loaded for kind in EXPECTED_ROWS} == EXPECTED_ROWS


def test_timestamps_with_z_offset_and_naive(tmp_path):
    header = SAMPLE["sends"][0][:6]
    drop = write_drop(tmp_path / "d", {"sends": (header, [
        ["z", "2026-10-01T10:00:00Z", "a", "l", "c", "x@gmail.com"],
        ["offset", "2026-10-01T12:00:00+02:00", "a", "l", "c", "x@gmail.com"],
        ["naive", "2026-10-01 10:00:00", "a", "l", "c", "x@gmail.com"],
        ["fraction", "2026-10-01T10:00:00.250-01:30", "a", "l", "c", "x@gmail.com"],
    ])})
    ingest_paths(tmp_path / "utc.duckdb", [drop])
    ingest_paths(tmp_path / "paris.duckdb", [drop], timezone_name="Europe/Paris")
    utc = dict(duckdb.connect(str(tmp_path / "utc.duckdb")).execute("SELECT message_id, sent_at::VARCHAR FROM sends").fetchall())
    paris = dict(duckdb.connect(str(tmp_path / "paris.duckdb")).execute("SELECT message_id, sent_at::VARCHAR FROM sends").fetchall())
    assert utc["z"] == utc["offset"] == utc["naive"] == "2026-10-01 10:00:00"
    assert utc["fraction"] == "2026-10-01 11:30:00.25"
    # --timezone changes only timestamps without an offset: 10:00 in Paris (CEST) is 08:00 UTC
    assert paris["naive"] == "2026-10-01 08:00:00"
    assert paris["z"] == paris["offset"] == "2026-10-01 10:00:00"


def test_reingest_adds_nothing_and_overlap_deduplicates(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    for kind in SAMPLE:
        _write_kind(drop, kind, "csv")
    db_path = tmp_path / "db.duckdb"
    ingest_paths(db_path, [drop])
    before = _counts(db_path)
    again = ingest_paths(db_path, [drop])
    assert _counts(db_path) == before
    for kind, n in EXPECTED_ROWS.items():
        c = again.counts[kind]
        assert (c.read, c.loaded, c.duplicates) == (n, 0, n - c.updated), kind
    # an overlapping drop in another format: one new open, one old; the old is a duplicate
    overlap = tmp_path / "overlap"
    overlap.mkdir()
    (overlap / "opens.jsonl").write_text(
        json.dumps({"message_id": "m1", "ts": "2026-10-01T12:00:00+00:00", "user_agent": "Thunderbird",
                    "ip": "198.51.100.7", "event_id": "o2"}) + "\n"
        + json.dumps({"message_id": "m1", "ts": "2026-10-01T13:00:00Z", "event_id": "o3"}) + "\n"
    )
    summary = ingest_paths(db_path, [overlap])
    assert (summary.counts["opens"].loaded, summary.counts["opens"].duplicates) == (1, 1)
    # duplicates inside one drop count as duplicates too
    inside = write_drop(tmp_path / "inside", {"blocklists": (SAMPLE["blocklists"][0], SAMPLE["blocklists"][1] * 3)})
    summary = ingest_paths(db_path, [inside])
    assert (summary.counts["blocklists"].read, summary.counts["blocklists"].loaded,
            summary.counts["blocklists"].duplicates) == (3, 0, 3)


def test_natural_keys_without_event_id(tmp_path):
    header = ["message_id", "ts", "user_agent", "ip"]
    rows = [["m1", "2026-10-01T11:00:00Z", "UA", "1.2.3.4"], ["m1", "2026-10-01T11:00:00Z", "UA", "1.2.3.5"]]
    db_path = tmp_path / "db.duckdb"
    s1 = ingest_paths(db_path, [write_drop(tmp_path / "a", {"opens": (header, rows)})])
    s2 = ingest_paths(db_path, [write_drop(tmp_path / "b", {"opens": (header, rows + [rows[0]])})])
    assert s1.counts["opens"].loaded == 2
    assert (s2.counts["opens"].loaded, s2.counts["opens"].duplicates) == (0, 3)


def test_status_precedence_across_drops(tmp_path):
    header = ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status",
              "delivered_at", "bounce_class"]
    base = ["m", "2026-10-01T10:00:00Z", "a", "l", "c", "x@gmail.com"]
    db_path = tmp_path / "db.duckdb"
    ingest_paths(db_path, [write_drop(tmp_path / "1", {"sends": (header, [base + ["deferred", "", ""]])})])
    s = ingest_paths(db_path, [write_drop(tmp_path / "2", {"sends": (header, [base + ["delivered", "2026-10-01T13:00:00Z", ""]])})])
    assert (s.counts["sends"].loaded, s.counts["sends"].updated) == (0, 1)
    # a settled status is not undone, neither by 'deferred' nor by a conflicting 'bounced'
    s = ingest_paths(db_path, [write_drop(tmp_path / "3", {"sends": (header, [base + ["deferred", "", ""], base + ["bounced", "", "hard"]])})])
    assert (s.counts["sends"].updated, s.counts["sends"].duplicates) == (0, 2)
    con = duckdb.connect(str(db_path), read_only=True)
    assert con.execute("SELECT count(*), any_value(status), any_value(delivered_at)::VARCHAR FROM sends").fetchone() == (
        1, "delivered", "2026-10-01 13:00:00")
    # message_facts follows the settled status
    assert con.execute("SELECT is_delivered FROM message_facts").fetchone()[0] is True


BAD_ROWS = [
    # (description, row for sends with header below, expected words in the message)
    ("unparseable timestamp", ["m9", "yesterday", "a", "l", "c", "x@gmail.com", ""], "sent_at"),
    ("epoch seconds", ["m9", "1790000000", "a", "l", "c", "x@gmail.com", ""], "ISO 8601"),
    ("missing required value", ["m9", "2026-10-01T10:00:00Z", "", "l", "c", "x@gmail.com", ""], "missing required value for account_id"),
    ("unknown enum value", ["m9", "2026-10-01T10:00:00Z", "a", "l", "c", "x@gmail.com", "exploded"], "status"),
    ("not an address", ["m9", "2026-10-01T10:00:00Z", "a", "l", "c", "nobody", ""], "e-mail address"),
]
SENDS_HEADER = ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status"]
GOOD = [["g1", "2026-10-01T10:00:00Z", "a", "l", "c", "x@gmail.com", ""],
        ["g2", "2026-10-01T10:00:00Z", "a", "l", "c", "y@gmail.com", "delivered"]]


@pytest.mark.parametrize("description,bad,expected", BAD_ROWS, ids=[b[0] for b in BAD_ROWS])
def test_bad_row_refuses_the_drop_and_names_file_line_problem(tmp_path, description, bad, expected):
    db_path = tmp_path / "db.duckdb"
    ingest_paths(db_path, [write_drop(tmp_path / "first", {"sends": (SENDS_HEADER, GOOD[:1])})])
    before = _counts(db_path)
    drop = write_drop(tmp_path / "bad", {"sends": (SENDS_HEADER, [GOOD[1], bad])})
    with pytest.raises(IngestRefused) as refused:
        ingest_paths(db_path, [drop])
    message = str(refused.value)
    assert f"{drop / 'sends.csv'}, line 3" in message
    assert expected in message
    assert "nothing was loaded" in message
    assert _counts(db_path) == before


def test_wrong_type_and_bounce_rules(tmp_path):
    header = ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status",
              "bounce_class", "smtp_code"]
    drop = write_drop(tmp_path / "d", {"sends": (header, [
        ["a", "2026-10-01T10:00:00Z", "a", "l", "c", "x@gmail.com", "bounced", "", "550"],
        ["b", "2026-10-01T10:00:00Z", "a", "l", "c", "x@gmail.com", "delivered", "", "five-fifty"],
    ])})
    with pytest.raises(IngestRefused) as refused:
        ingest_paths(tmp_path / "db.duckdb", [drop])
    lines = str(refused.value).splitlines()
    assert "line 2: bounce_class is required when status is bounced" in lines[1]
    assert "line 3: smtp_code" in lines[2] and "whole number" in lines[2]


def test_broken_quoting_is_refused_with_line(tmp_path):
    path = tmp_path / "d" / "sends.csv"
    path.parent.mkdir()
    path.write_text(
        ",".join(SENDS_HEADER) + "\n"
        + 'g1,2026-10-01T10:00:00Z,a,"l\nstill, the same field",c,x@gmail.com,\n'
        + 'g2,2026-10-01T10:00:00Z,a,l,"broken,x@gmail.com,\n'
    )
    db_path = tmp_path / "db.duckdb"
    with pytest.raises(IngestRefused) as refused:
        ingest_paths(db_path, [path.parent])
    assert f"{path}, line 4" in str(refused.value)
    assert "quote" in str(refused.value).lower()
    assert "1 bad row(s)" in str(refused.value)  # the quoted newline in line 2-3 is data, not an error
    assert not db_path.exists() or _counts(db_path)["sends"] == 0


def test_missing_column_and_unknown_kind(tmp_path):
    drop = write_drop(tmp_path / "d", {"sends": (SENDS_HEADER[:3], [["m", "2026-10-01T10:00:00Z", "a"]])})
    with pytest.raises(DropError, match=r"sends.csv, line 1: missing required column\(s\) list_id, campaign_id, recipient"):
        ingest_paths(tmp_path / "db.duckdb", [drop])
    drop2 = write_drop(tmp_path / "d2", {"sends": (SENDS_HEADER, GOOD), "bounces": (["x"], [["1"]])})
    with pytest.raises(DropError, match=r"unknown kind.*bounces.csv"):
        ingest_paths(tmp_path / "db2.duckdb", [drop2])


def test_quarantine_accounts_for_every_row(tmp_path):
    rows = GOOD + [b[1] for b in BAD_ROWS]
    path = write_csv(tmp_path / "d" / "sends.csv", SENDS_HEADER, rows)
    with open(path, "a") as handle:  # plus one structurally broken line (too many columns)
        handle.write("z1,2026-10-01T10:00:00Z,a,l,c,x@gmail.com,,extra,fields\r\n")  # csv.writer ends lines with CRLF
    db_path = tmp_path / "db.duckdb"
    summary = ingest_paths(db_path, [path.parent], on_error="quarantine")
    c = summary.counts["sends"]
    assert (c.read, c.loaded, c.duplicates, c.rejected) == (len(rows) + 1, 2, 0, len(BAD_ROWS) + 1)
    con = duckdb.connect(str(db_path), read_only=True)
    rejects = con.execute("SELECT line, kind, reason, raw FROM rejects ORDER BY line").fetchall()
    assert [r[0] for r in rejects] == [4, 5, 6, 7, 8, 9]
    assert all(r[1] == "sends" for r in rejects)
    assert "yesterday" in rejects[0][3]  # the raw text is kept
    assert "too many columns" in rejects[-1][2]


def test_provider_mapping_and_user_extension(tmp_path):
    domains = {
        "gmail.com": "gmail", "googlemail.com": "gmail", "hotmail.fr": "microsoft", "outlook.com": "microsoft",
        "live.co.uk": "microsoft", "msn.com": "microsoft", "yahoo.fr": "yahoo", "ymail.com": "yahoo",
        "aol.com": "yahoo", "icloud.com": "apple", "me.com": "apple", "mac.com": "apple",
        "orange.fr": "orange", "wanadoo.fr": "orange", "free.fr": "free", "sfr.fr": "sfr", "neuf.fr": "sfr",
        "bbox.fr": "bouygues", "laposte.net": "laposte", "gmx.de": "gmx", "acme-corp.fr": "other",
    }
    rows = [[f"m{i}", "2026-10-01T10:00:00Z", "a", "l", "c", f"u{i}@{d.upper()}", ""] for i, d in enumerate(domains)]
    db_path = tmp_path / "db.duckdb"
    ingest_paths(db_path, [write_drop(tmp_path / "d", {"sends": (SENDS_HEADER, rows)})])
    con = duckdb.connect(str(db_path), read_only=True)
    got = dict(con.execute("SELECT recipient_domain, provider FROM sends").fetchall())
    con.close()
    assert got == domains
    result = subprocess.run(
        [sys.executable, "-m", "dlvstats.cli", "providers", "--db", str(db_path), "--add", "acme-corp.fr=microsoft"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    con = duckdb.connect(str(db_path), read_only=True)
    assert con.execute("SELECT provider FROM sends WHERE recipient_domain = 'acme-corp.fr'").fetchone()[0] == "microsoft"
    assert con.execute("SELECT provider FROM message_facts WHERE recipient_domain = 'acme-corp.fr'").fetchone()[0] == "microsoft"


def test_orphans_are_kept_and_reported(tmp_path):
    drop = write_drop(tmp_path / "d", {
        "sends": (SENDS_HEADER, GOOD),
        "opens": (["message_id", "ts"], [["g1", "2026-10-01T11:00:00Z"], ["ghost", "2026-10-01T11:00:00Z"]]),
        "clicks": (["message_id", "ts", "url"], [["ghost", "2026-10-01T11:00:00Z", "https://x"]]),
        "complaints": (["ts", "message_id"], [["2026-10-02T00:00:00Z", "ghost2"]]),
    })
    db_path = tmp_path / "db.duckdb"
    ingest_paths(db_path, [drop])
    from dlvstats.info import database_info, format_info

    info = database_info(db_path)
    orphans = {r["kind"]: r["orphan_count"] for r in info["orphans"]}
    assert orphans == {"opens": 1, "clicks": 1, "complaints": 1}
    assert "orphans" in format_info(info)


def test_cli_ingest_exit_codes_and_summary(tmp_path):
    good = write_drop(tmp_path / "good", {"sends": (SENDS_HEADER, GOOD)})
    bad = write_drop(tmp_path / "bad", {"sends": (SENDS_HEADER, [BAD_ROWS[0][1]])})
    db_path = tmp_path / "db.duckdb"
    run = lambda *a: subprocess.run([sys.executable, "-m", "dlvstats.cli", *a], capture_output=True, text=True,
                                    check=False)
    ok = run("ingest", str(good), "--db", str(db_path), "-q")
    assert ok.returncode == 0, ok.stderr
    assert "sends" in ok.stdout and "read = loaded + updated + duplicates + rejected" in ok.stdout
    refused = run("ingest", str(bad), "--db", str(db_path))
    assert refused.returncode == 3
    assert "line 2" in refused.stderr and "unchanged" in refused.stderr
    info = run("info", "--db", str(db_path), "--format", "json")
    data = json.loads(info.stdout)
    assert {r["kind"]: r["row_count"] for r in data["coverage"]}["sends"] == 2
    assert data["schema_version"] >= 1


def test_read_options_semicolon(tmp_path):
    path = tmp_path / "d" / "sends.csv"
    path.parent.mkdir()
    path.write_text(";".join(SENDS_HEADER) + "\n" + ";".join(GOOD[0]) + "\n")
    summary = ingest_paths(tmp_path / "db.duckdb", [path.parent], read_options=ReadOptions(delimiter=";"))
    assert summary.counts["sends"].loaded == 1
