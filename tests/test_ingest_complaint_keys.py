"""Complaint keys: a feedback report listing several recipients loads one complaint per recipient
(Sisimai's arf-16 lists seven), a re-delivered report is a duplicate, and a database written with
the schema-2 key (message_id or recipient, ts, source) is migrated so that a file loaded before the
upgrade is still a duplicate when dropped again."""

from __future__ import annotations

import shutil

import duckdb
import pytest
from tests.helpers import write_drop
from tests.test_adapters_helpers import copy_fixtures, counts, fixture_dir, rows

from dlvstats import db
from dlvstats.ingest import ingest_paths, schema

ARF16 = fixture_dir("arf") / "public" / "sisimai-arf-16.eml"
ARF16_RECIPIENTS = sorted([
    "kijitora@example.com", "sironeko@example.com", "mikeneko@example.com", "sabatora@example.com",
    "sirokiji@example.org", "kuroneko@example.com", "sabineko@example.com"])
OLD_PARTS = ("coalesce(message_id, recipient)", "ts", "source")
#: the schema-2 key, written out here rather than taken from the package
OLD_KEY_SQL = ("md5_number(concat_ws(chr(31), coalesce(coalesce(message_id, recipient), ''), "
               "strftime(ts, '%Y-%m-%dT%H:%M:%S.%f'), coalesce(source, '')))::UUID")
NEW_KEY_SQL = ("md5_number(concat_ws(chr(31), coalesce(message_id, ''), coalesce(recipient, ''), "
               "strftime(ts, '%Y-%m-%dT%H:%M:%S.%f'), coalesce(source, '')))::UUID")
CANONICAL = (
    ["ts", "message_id", "recipient", "account_id", "source"],
    [["2026-10-02T08:00:00Z", "m1", "", "a1", "signal_spam"],
     ["2026-10-02T09:00:00Z", "", "bob@hotmail.fr", "a1", "microsoft_jmrp"],
     ["2026-10-02T10:00:00Z", "m2", "carl@corp.example", "a1", "yahoo_cfl"],
     ["2026-10-02T10:00:00Z", "m2", "dora@corp.example", "a1", "yahoo_cfl"]],
)


def _arf_drop(target):
    """The ARF fixtures written here and the public samples that load (all but arf-01, refused)."""
    copy_fixtures("arf", target)
    for path in sorted((fixture_dir("arf") / "public").glob("*.eml")):
        if path.name != "sisimai-arf-01.eml":
            shutil.copy2(path, target / path.name)
    return target


def _complaints_of_arf16(path):
    return rows(path, "SELECT message_id, recipient FROM complaints WHERE ts = TIMESTAMP '2015-04-29 14:34:45' "
                      "ORDER BY recipient")


def test_report_with_seven_recipients_loads_seven_complaints_then_seven_duplicates(tmp_path):
    path = tmp_path / "arf16.duckdb"
    first = ingest_paths(path, [ARF16], input_format="arf")
    assert counts(first) == {"complaints": (7, 7, 0, 0, 0)}
    loaded = _complaints_of_arf16(path)
    assert [r[1] for r in loaded] == ARF16_RECIPIENTS  # each attributed to its own recipient
    assert {r[0] for r in loaded} == {"ffffffffffffffffffffffff0000000@example.jp"}  # unmatched: its Message-ID
    assert rows(path, "SELECT count(DISTINCT event_key) FROM complaints") == [(7,)]
    again = ingest_paths(path, [ARF16], input_format="arf")
    assert counts(again) == {"complaints": (7, 0, 0, 7, 0)}
    assert rows(path, "SELECT count(*) FROM complaints") == [(7,)]


def test_same_report_twice_in_one_drop_is_loaded_once(tmp_path):
    drop = tmp_path / "fbl"
    drop.mkdir()
    shutil.copy2(ARF16, drop / "a.eml")
    shutil.copy2(ARF16, drop / "b.eml")  # the feedback loop delivered it twice
    summary = ingest_paths(tmp_path / "twice.duckdb", [drop], input_format="arf")
    assert counts(summary) == {"complaints": (14, 7, 0, 7, 0)}


def _ingest_as_schema_2(monkeypatch, path, drops):
    """Ingest with the schema-2 complaint key and migrations, as dlvstats did before the upgrade."""
    with monkeypatch.context() as m:
        m.setitem(schema.EVENT_KEY_PARTS, "complaints", OLD_PARTS)
        m.setattr(db, "SCHEMA_VERSION", 2)
        old_migrations = [found for found in db.migrations() if found[0] <= 2]
        m.setattr(db, "migrations", lambda: old_migrations)
        return [ingest_paths(path, [drop], input_format=fmt) for drop, fmt in drops]


def test_keys_of_an_older_database_are_migrated_and_its_drops_stay_duplicates(tmp_path, monkeypatch):
    path = tmp_path / "old.duckdb"
    arf = _arf_drop(tmp_path / "arf")
    canonical = write_drop(tmp_path / "canonical", {"complaints": CANONICAL})
    drops = [(arf, "arf"), (canonical, "canonical")]
    old_arf, old_canonical = _ingest_as_schema_2(monkeypatch, path, drops)
    read = old_arf.counts["complaints"].read
    # schema 2: arf-16's seven complaints shared one key, six were taken for duplicates
    assert counts(old_arf) == {"complaints": (read, read - 6, 0, 6, 0)}
    assert counts(old_canonical) == {"complaints": (4, 3, 0, 1, 0)}  # m2's two recipients, one key
    assert rows(path, "SELECT value FROM meta WHERE key = 'schema_version'") == [("2",)]
    assert rows(path, f"SELECT count(*) FROM complaints WHERE event_key <> {OLD_KEY_SQL}") == [(0,)]
    stored = read - 6 + 3

    new_arf, new_canonical = [ingest_paths(path, [drop], input_format=fmt) for drop, fmt in drops]
    assert rows(path, "SELECT value FROM meta WHERE key = 'schema_version'") == [(str(db.SCHEMA_VERSION),)]
    # every stored complaint is found again; only the recipients the old key had lost are loaded
    assert counts(new_arf) == {"complaints": (read, 6, 0, read - 6, 0)}
    assert counts(new_canonical) == {"complaints": (4, 1, 0, 3, 0)}
    assert rows(path, "SELECT count(*), count(DISTINCT event_key) FROM complaints") == [(stored + 7, stored + 7)]
    assert [r[1] for r in _complaints_of_arf16(path)] == ARF16_RECIPIENTS
    assert rows(path, "SELECT count(*) FROM (SELECT message_id, recipient, ts, source FROM complaints "
                      "GROUP BY ALL HAVING count(*) > 1)") == [(0,)]
    # and a third drop of both adds nothing
    third = [ingest_paths(path, [drop], input_format=fmt) for drop, fmt in drops]
    assert [counts(s) for s in third] == [{"complaints": (read, 0, 0, read, 0)}, {"complaints": (4, 0, 0, 4, 0)}]


def test_migrated_keys_are_the_keys_the_loader_computes(tmp_path, monkeypatch):
    """The migration's key (a frozen SQL file) and the loader's (EVENT_KEY_PARTS) agree row by row."""
    path = tmp_path / "old.duckdb"
    _ingest_as_schema_2(monkeypatch, path, [(_arf_drop(tmp_path / "arf"), "arf"),
                                            (write_drop(tmp_path / "c", {"complaints": CANONICAL}), "canonical")])
    con = db.connect(path)
    try:
        assert db.migrate(con) == db.SCHEMA_VERSION
        from dlvstats.ingest.validation import event_key_sql

        mismatched = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE event_key <> {event_key_sql('complaints')}), "
            f"count(*) FILTER (WHERE event_key <> {NEW_KEY_SQL}) FROM complaints").fetchone()
    finally:
        con.close()
    assert mismatched[0] > 0 and mismatched[1:] == (0, 0)


def test_a_database_the_migration_failed_on_is_left_as_it_was(tmp_path, monkeypatch):
    """The migration runs in the transaction of its version: a failure leaves schema 2 and the old keys."""
    path = tmp_path / "old.duckdb"
    _ingest_as_schema_2(monkeypatch, path, [(write_drop(tmp_path / "c", {"complaints": CANONICAL}), "canonical")])
    before = rows(path, "SELECT event_key FROM complaints ORDER BY ts, recipient")
    real_run = db.run

    def failing(con, name, **params):
        if name == "schema/003_complaint_keys":
            real_run(con, name, **params)
            raise duckdb.IOException("disk full")
        return real_run(con, name, **params)

    monkeypatch.setattr(db, "run", failing)
    con = db.connect(path)
    try:
        with pytest.raises(duckdb.IOException, match="disk full"):
            db.migrate(con)
    finally:
        con.close()
    assert rows(path, "SELECT value FROM meta WHERE key = 'schema_version'") == [("2",)]
    assert rows(path, "SELECT event_key FROM complaints ORDER BY ts, recipient") == before


def test_redacted_report_dropped_again_once_its_send_is_known_stays_one_complaint(tmp_path):
    """A redacted report gets its recipient from its send: dropped before the send (no recipient) and
    again after it (the send's recipient), it is one complaint, not two."""
    path = tmp_path / "late.duckdb"
    arf = copy_fixtures("arf", tmp_path / "arf", ["aol-redacted-0002.eml"])
    assert counts(ingest_paths(path, [arf], input_format="arf")) == {"complaints": (1, 1, 0, 0, 0)}
    [(message_id, recipient)] = rows(path, "SELECT message_id, recipient FROM complaints")
    assert recipient is None  # redacted, and no send to take it from yet
    ingest_paths(path, [copy_fixtures("ses", tmp_path / "ses")], input_format="ses")
    assert counts(ingest_paths(path, [arf], input_format="arf")) == {"complaints": (1, 0, 0, 1, 0)}
    assert rows(path, "SELECT count(*) FROM complaints WHERE message_id = $m AND source = 'yahoo_cfl'",
                {"m": message_id}) == [(1,)]
    # the report dropped first after its send carries the send's recipient
    fresh = tmp_path / "fresh.duckdb"
    ingest_paths(fresh, [copy_fixtures("ses", tmp_path / "ses2")], input_format="ses")
    ingest_paths(fresh, [arf], input_format="arf")
    assert rows(fresh, "SELECT recipient FROM complaints WHERE message_id = $m AND source = 'yahoo_cfl'",
                {"m": message_id}) == [("carol@yahoo.fr",)]
