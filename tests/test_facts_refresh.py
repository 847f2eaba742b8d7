"""message_facts after an ingest: the refresh of the drop's messages equals a full rebuild.

An ingest into a database that already has facts refreshes only the messages the drop can have
changed (relations/message_facts_scope.sql), so month 13 costs what month 13 costs. These tests
compare the refreshed table with a full rebuild of the same database, row for row, after every
drop: on simulated monthly drops (deferred messages settled later, complaints without message_id,
campaign unsubscribes) and on hand-built drops aimed at each scope rule.
"""

from __future__ import annotations

import duckdb
import pytest

from dlvstats import db
from dlvstats.classify import update_message_facts
from dlvstats.ingest import ingest_paths
from helpers import write_drop


def _facts_differences(db_path) -> tuple[int, int, int]:
    """(rows, rows only in the refreshed table, rows only in a full rebuild)."""
    con = duckdb.connect(str(db_path))
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute("CREATE TEMP TABLE __refreshed AS SELECT * FROM message_facts")
        update_message_facts(con)
        rows = con.execute("SELECT count(*) FROM message_facts").fetchone()[0]
        only_refreshed = con.execute(
            "SELECT count(*) FROM (SELECT * FROM __refreshed EXCEPT ALL SELECT * FROM message_facts)"
        ).fetchone()[0]
        only_rebuilt = con.execute(
            "SELECT count(*) FROM (SELECT * FROM message_facts EXCEPT ALL SELECT * FROM __refreshed)"
        ).fetchone()[0]
        con.execute("ROLLBACK")
        return rows, only_refreshed, only_rebuilt
    finally:
        con.close()


@pytest.fixture
def sql_files_run(monkeypatch):
    names: list[str] = []
    original = db.run

    def recording(con, name, **params):
        names.append(name)
        return original(con, name, **params)

    monkeypatch.setattr(db, "run", recording)
    return names


def test_monthly_ingests_refresh_to_the_full_rebuild(tmp_path, sql_files_run):
    from dlvstats.simulate import simulate

    simulate(tmp_path / "sim", seed=3, contacts=3000, months=4, end_month="2026-10", fmt="csv")
    drops = sorted((tmp_path / "sim" / "drops").iterdir())
    db_path = tmp_path / "monthly.duckdb"
    for index, drop in enumerate(drops):
        sql_files_run.clear()
        ingest_paths(db_path, [drop])
        refreshed = "relations/message_facts_scope" in sql_files_run
        assert refreshed == (index > 0), f"drop {drop.name}: {sql_files_run}"
        rows, only_refreshed, only_rebuilt = _facts_differences(db_path)
        assert rows > 0
        assert (only_refreshed, only_rebuilt) == (0, 0), f"after {drop.name}"
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        # the scope rules were exercised: complaints that arrived in a later drop than their
        # message (address-only complaints: the hand-built test below)
        later = con.execute(
            "SELECT count(*) FROM complaints AS c JOIN sends AS s USING (message_id) WHERE c.drop_id > s.drop_id"
        ).fetchone()[0]
        assert later > 0
        assert con.execute("SELECT count(*) FROM message_facts WHERE has_complaint").fetchone()[0] > 0
        assert con.execute("SELECT count(*) FROM message_facts WHERE has_unsubscribe").fetchone()[0] > 0
    finally:
        con.close()


SENDS = ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status",
         "delivered_at", "bounce_class"]
OPENS = ["message_id", "ts", "user_agent", "ip"]
COMPLAINTS = ["ts", "message_id", "recipient", "account_id", "source"]
SUBSCRIPTIONS = ["ts", "account_id", "list_id", "recipient", "action", "source", "campaign_id"]


def test_each_scope_rule_refreshes_what_it_changes(tmp_path):
    """Each drop holds one kind of change, so each scope rule alone decides whether the refresh is
    right (removing any one of them from the SQL makes this test fail)."""
    db_path = tmp_path / "hand.duckdb"
    drops = [
        # 1: two messages to ann, one deferred; one to bob
        {"sends": (SENDS, [
            ["m1", "2026-10-01T08:00:00Z", "acct", "L", "c1", "ann@example.com", "delivered", "2026-10-01T08:00:05Z", None],
            ["m2", "2026-10-05T08:00:00Z", "acct", "L", "c2", "ann@example.com", "deferred", None, None],
            ["m3", "2026-10-05T08:00:00Z", "acct", "L", "c2", "bob@example.com", "delivered", "2026-10-05T08:00:01Z", None],
        ])},
        # 2: the deferral settles
        {"sends": (SENDS, [["m2", "2026-10-05T08:00:00Z", "acct", "L", "c2", "ann@example.com", "delivered", "2026-10-05T09:00:00Z", None]])},
        # 3: alone in its drop, an address-only complaint from ann: it goes to her latest earlier message, m2
        {"complaints": (COMPLAINTS, [["2026-10-07T10:00:00Z", None, "ann@example.com", "acct", "signal_spam"]])},
        # 4: a late send to ann, between m2 and the complaint, takes the complaint from m2
        {"sends": (SENDS, [["m4", "2026-10-06T08:00:00Z", "acct", "L", "c3", "ann@example.com", "delivered", "2026-10-06T08:00:02Z", None]])},
        # 5: alone in its drop, a complaint naming an old message
        {"complaints": (COMPLAINTS, [["2026-10-09T10:00:00Z", "m3", "bob@example.com", "acct", "fbl"]])},
        # 6: alone in its drop, bob unsubscribes from c2
        {"subscriptions": (SUBSCRIPTIONS, [["2026-10-08T12:00:00Z", "acct", "L", "bob@example.com", "unsubscribe", "link", "c2"]])},
        # 7: an open of an old message
        {"opens": (OPENS, [["m1", "2026-10-08T12:00:00Z", "Mozilla/5.0 (Windows NT 10.0) Thunderbird/115", "192.0.2.1"]])},
    ]
    for index, tables in enumerate(drops, start=1):
        ingest_paths(db_path, [write_drop(tmp_path / f"drop{index}", tables)])
        _rows, only_refreshed, only_rebuilt = _facts_differences(db_path)
        assert (only_refreshed, only_rebuilt) == (0, 0), f"after drop {index}"
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        facts = dict(con.execute(
            "SELECT message_id, (status, has_complaint, has_unsubscribe, open_count) FROM message_facts"
        ).fetchall())
    finally:
        con.close()
    assert facts == {
        "m1": ("delivered", False, False, 1),
        "m2": ("delivered", False, False, 0),
        "m3": ("delivered", True, True, 0),
        "m4": ("delivered", True, False, 0),
    }
