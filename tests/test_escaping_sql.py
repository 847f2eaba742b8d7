"""Escaping on the ingest side: SQL takes values only as parameters.

File paths, header names, data values, the time zone, the date format and the pseudonym key are
attacker-controlled text. They are handled as data: stored verbatim or refused, never executed.
The strongest check records every SQL text the ingest sends to DuckDB and asserts that a marker
planted in the path, the header names and the data never appears in it (values travel as
prepared parameters; identifiers come from the fixed schema)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest
from tests.helpers import write_drop

from dlvstats import config, privacy
from dlvstats import db as dbmod
from dlvstats.ingest import DropError, ReadOptions, ingest_paths

EVIL = [
    "'; DROP TABLE sends; --",
    "\"); DROP TABLE campaigns; --",
    "x' OR '1'='1",
    "$1 ? :name %s {0}",
    "<img src=x onerror=alert(1)>",
    "</script><script>alert(2)</script>",
    "=HYPERLINK(\"http://evil\")",
    "back\\slash\\'",
]
MARKER = "ZQXMARKERQZX"
EVIL_DIR = f"it's; DROP TABLE sends; --\"{MARKER}"


def query(db: Path, sql: str, params=None):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def evil_drop(root: Path) -> Path:
    campaigns = [[f"c{i}", f"acc{MARKER}{v}", "l1", "2026-10-01T10:00:00Z", "regular", v + MARKER, v]
                 for i, v in enumerate(EVIL)]
    sends = [[f"m{i}{MARKER}", "2026-10-01T10:00:00Z", f"acc{v}", "l1", f"c{i}", f"u{i}@example.com", v]
             for i, v in enumerate(EVIL)]
    opens = [[f"m{i}{MARKER}", "2026-10-01T11:00:00Z", v + MARKER, f"https://x.example/?q={v}"] for i, v in enumerate(EVIL)]
    drop = write_drop(root / EVIL_DIR, {
        "campaigns": (["campaign_id", "account_id", "list_id", "sent_at", "kind", "name", "subject"], campaigns),
        "sends": (["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "bounce_reason"], sends),
    })
    # header names are attacker-controlled too: extra columns named like SQL
    with open(drop / "opens.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["message_id", "ts", "user_agent", f'x"); DROP TABLE opens; --{MARKER}', "url"])
        writer.writerows(row[:3] + ["extra", row[3]] for row in opens)
    return drop


@pytest.fixture
def sql_statements(monkeypatch) -> list[str]:
    """Every SQL text sent to DuckDB through dlvstats.db.connect during the test."""
    statements: list[str] = []
    real_connect = dbmod.connect

    class Recorder:
        def __init__(self, con):
            self._con = con

        def execute(self, sql, params=None):
            statements.append(sql)
            return self._con.execute(sql, params) if params is not None else self._con.execute(sql)

        def executemany(self, sql, params):
            statements.append(sql)
            return self._con.executemany(sql, params)

        def __getattr__(self, name):
            return getattr(self._con, name)

    monkeypatch.setattr(dbmod, "connect", lambda *a, **k: Recorder(real_connect(*a, **k)))
    return statements


def test_values_and_names_never_enter_sql_text(tmp_path, sql_statements):
    statements = sql_statements
    drop = evil_drop(tmp_path)
    db = tmp_path / "db.duckdb"
    summary = ingest_paths(db, [drop])
    assert summary.counts["campaigns"].loaded == len(EVIL) and summary.counts["opens"].loaded == len(EVIL)
    assert statements, "the recorder saw no SQL"
    leaked = [s for s in statements if MARKER in s]
    assert leaked == [], leaked[:3]
    # ... and everything landed verbatim, as data
    assert [r[0] for r in query(db, "SELECT subject FROM campaigns ORDER BY campaign_id")] == [
        EVIL[int(c[1:])] for c in sorted(f"c{i}" for i in range(len(EVIL)))
    ]
    assert {r[0] for r in query(db, "SELECT bounce_reason FROM sends")} == set(EVIL)
    assert {r[0] for r in query(db, "SELECT user_agent FROM opens")} == {v + MARKER for v in EVIL}
    assert summary.counts["opens"].ignored_columns == {f'x"); drop table opens; --{MARKER}'.lower(), "url"}
    stored_paths = json.loads(query(db, "SELECT paths FROM drops")[0][0])
    assert stored_paths == [str(drop)]


def test_evil_paths_in_every_format_and_in_rejects(tmp_path):
    drop = evil_drop(tmp_path)
    con = duckdb.connect()
    con.execute("COPY (SELECT 'p1' AS message_id, '2026-10-01T12:00:00Z' AS ts, $ua AS user_agent) TO $p (FORMAT parquet)",
                {"ua": EVIL[0], "p": str(drop / "clicks.parquet")})
    con.close()
    (drop / "complaints.jsonl").write_text(
        json.dumps({"ts": "2026-10-01T12:00:00Z", "recipient": "u1@example.com", "source": EVIL[1]}) + "\n"
        + json.dumps({"ts": "no date", "recipient": "u2@example.com", "source": EVIL[2]}) + "\n",
        encoding="utf-8",
    )
    db = tmp_path / "db.duckdb"
    summary = ingest_paths(db, [drop], on_error="quarantine")
    assert summary.counts["clicks"].loaded == 1 and summary.counts["complaints"].rejected == 1
    assert query(db, "SELECT user_agent FROM clicks") == [(EVIL[0],)]
    assert query(db, "SELECT source FROM complaints") == [(EVIL[1],)]
    assert query(db, "SELECT file, line FROM rejects") == [(str(drop / "complaints.jsonl"), 2)]
    for table in ("sends", "campaigns", "opens", "clicks", "complaints"):
        assert query(db, f"SELECT count(*) > 0 FROM {table}") == [(True,)]


def test_hostile_options_are_data(tmp_path):
    drop = evil_drop(tmp_path)
    db = tmp_path / "db.duckdb"
    ingest_paths(db, [drop])
    with pytest.raises(DropError, match="is not a time zone name"):
        ingest_paths(db, [drop], timezone_name="UTC'; DROP TABLE sends; --")
    with pytest.raises(DropError, match="not a strptime pattern"):
        ingest_paths(db, [drop], read_options=ReadOptions(date_format="%d'); DROP TABLE sends; --%Q"))
    # a harmless-but-odd pattern is just a pattern: ISO rows still load, nothing is executed
    ingest_paths(db, [drop], read_options=ReadOptions(date_format="%Y'); DROP TABLE sends; --"))
    with pytest.raises(DropError, match="header looks ','-separated: pass `--delimiter`"):
        ingest_paths(db, [drop], read_options=ReadOptions(delimiter="'"))
    with pytest.raises(DropError, match="cannot separate CSV fields"):
        ingest_paths(db, [drop], read_options=ReadOptions(delimiter='"'))
    hostile_key = config.settings().replace(pseudonym_key="k'); DROP TABLE sends; --0123456789")
    pseudo = tmp_path / "pseudo.duckdb"
    ingest_paths(pseudo, [drop], pseudonymize=True, config=hostile_key)
    assert query(pseudo, "SELECT count(*) FROM sends") == [(len(EVIL),)]
    assert query(db, "SELECT count(*) FROM sends") == [(len(EVIL),)]


def test_forget_takes_the_address_as_data(tmp_path):
    odd = "o'brien+x.(y)*?@example.com"
    drop = write_drop(tmp_path / "d", {"sends": (
        ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient"],
        [["m1", "2026-10-01T10:00:00Z", "a", "l", "c", odd], ["m2", "2026-10-01T10:00:00Z", "a", "l", "c", "obrienx@example.com"]],
    )})
    db = tmp_path / "db.duckdb"
    ingest_paths(db, [drop])
    report = privacy.forget(db, odd)
    assert report.removed["sends"] == 1
    assert query(db, "SELECT recipient FROM sends") == [("obrienx@example.com",)]


@pytest.mark.parametrize("fmt", ["pmta", "ses", "postfix"])
def test_adapter_paths_and_headers_never_enter_sql_text(tmp_path, sql_statements, fmt):
    """The ESP/MTA adapters too: the file path (and PowerMTA's header names) travel as parameters."""
    from tests.test_adapters_helpers import copy_fixtures

    statements = sql_statements
    drop = copy_fixtures(fmt, tmp_path / EVIL_DIR)  # the derived files, not SOURCES.md nor public/
    if fmt == "pmta":  # an extra column whose name is SQL
        for path in drop.iterdir():
            lines = path.read_text(encoding="utf-8").splitlines()
            lines[0] += f',"x""); DROP TABLE sends; --{MARKER}"'
            path.write_text("\n".join([lines[0]] + [line + ",extra" for line in lines[1:]]) + "\n", encoding="utf-8")
    summary = ingest_paths(tmp_path / "db.duckdb", [drop], input_format=fmt, on_error="quarantine")
    assert summary.counts["sends"].loaded > 0
    leaked = [s for s in statements if MARKER in s]
    assert leaked == [], leaked[:3]
