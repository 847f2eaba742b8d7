"""Privacy: pseudonymised ingest, the recorded recipient mode, and erasure of
one person with ``dlvstats forget`` (rows gone from every table, old blocks gone from the file)."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import duckdb
import pytest
from tests.helpers import write_drop

from dlvstats import config, privacy
from dlvstats.db import SCHEMA_VERSION
from dlvstats.ingest import ingest_paths

KEY = "test-key-0123456789abcdef-not-a-real-secret"
ALICE = "alice.martin@orange.fr"
BOB = "bob@gmail.com"


def drop_with_two_people(directory: Path) -> Path:
    """Alice and Bob across every kind; Bob's bounce reason and a click URL quote Alice's address;
    one bad subscription row (quarantined) quotes Alice too."""
    return write_drop(directory, {
        "sends": (
            ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status",
             "bounce_class", "bounce_reason"],
            [
                ["a1", "2026-10-01T10:00:00Z", "acc", "l1", "c1", " Alice.Martin@Orange.fr ", "delivered", "", ""],
                ["a2", "2026-10-02T10:00:00Z", "acc", "l1", "c2", ALICE, "bounced", "soft", f"452 mailbox of <{ALICE}> full"],
                ["b1", "2026-10-01T10:00:00Z", "acc", "l1", "c1", BOB, "delivered", "", ""],
                ["b2", "2026-10-02T10:00:00Z", "acc", "l1", "c2", BOB, "bounced", "hard", f"550 forwarded to {ALICE.upper()} failed"],
                # an id derived the way ESP adapters do for multi-recipient messages: <provider id>:<recipient>
                [f"<x1@mta.example>:{ALICE}", "2026-10-05T10:00:00Z", "acc", "l1", "c3", ALICE, "delivered", "", ""],
            ],
        ),
        "opens": (["message_id", "ts", "user_agent"], [["a1", "2026-10-01T11:00:00Z", "Thunderbird"],
                                                       ["b1", "2026-10-01T11:00:00Z", "Outlook"],
                                                       [f"<x1@mta.example>:{ALICE}", "2026-10-05T11:00:00Z", "Thunderbird"]]),
        "clicks": (["message_id", "ts", "url"], [
            ["a1", "2026-10-01T11:05:00Z", "https://shop.example/promo?email=alice.martin%40orange.fr"],
            ["b1", "2026-10-01T11:05:00Z", "https://shop.example/promo?ref=alice.martin%40orange.fr"],
        ]),
        "complaints": (["ts", "message_id", "recipient", "source"], [
            ["2026-10-03T10:00:00Z", "", ALICE, "abuse_desk"],
            ["2026-10-03T10:00:00Z", "b1", "", "yahoo_cfl"],
        ]),
        "subscriptions": (["ts", "account_id", "list_id", "recipient", "action", "source"], [
            ["2026-09-01T10:00:00Z", "acc", "l1", ALICE, "subscribe", "form"],
            ["2026-09-01T10:00:00Z", "acc", "l1", BOB, "subscribe", "form"],
            ["not-a-date", "acc", "l1", ALICE, "subscribe", "form"],
        ]),
        "orders": (["ts", "account_id", "recipient", "order_id", "amount"], [
            ["2026-10-04T10:00:00Z", "acc", ALICE, "o1", "10.00"],
            ["2026-10-04T10:00:00Z", "acc", BOB, "o2", "20.00"],
        ]),
    })


def varchar_mentions(db: Path, needle: str) -> list[str]:
    """Every table.column whose text contains ``needle`` (case-insensitive)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        cols = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR' "
            "AND table_schema = 'main'"
        ).fetchall()
        hits = []
        for table, column in cols:
            n = con.execute(
                f'SELECT count(*) FROM "{table}" WHERE contains(lower("{column}"), $n)', {"n": needle.lower()}
            ).fetchone()[0]
            if n:
                hits.append(f"{table}.{column}")
        return hits
    finally:
        con.close()


def query(db: Path, sql: str, params=None):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


@pytest.fixture
def use_key(monkeypatch):
    """``use_key(KEY)`` (or None: no key) sets the pseudonym key for this process's settings (read from
    the environment once, so a changed variable would not reach them) and, through the environment,
    for the ``dlvstats`` processes the test starts."""
    with ExitStack() as stack:
        def use(value: str | None) -> None:
            if value is None:
                monkeypatch.delenv("DLVSTATS_PSEUDONYM_KEY", raising=False)
            else:
                monkeypatch.setenv("DLVSTATS_PSEUDONYM_KEY", value)
            stack.enter_context(config.using(config.settings().replace(pseudonym_key=value)))

        yield use


@pytest.fixture
def key(use_key):
    use_key(KEY)
    return KEY


# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key_text", [KEY, "k" * 100, "clé secrète très longue 🔑"])
def test_sql_pseudonym_is_the_hmac_sha256_python_computes(key_text):
    p = privacy.Pseudonymizer(key_text)
    con = duckdb.connect()
    p.install_macros(con)
    for address in [ALICE, BOB, "émile@free.fr", "a+tag@sub.example.co.uk"]:
        expected = hmac.new(key_text.encode(), address.encode(), hashlib.sha256).hexdigest()[:32]
        got = con.execute("SELECT dlv_pseudonym($a, $__pk_i, $__pk_o)", {"a": address, **p.params()}).fetchone()[0]
        assert got == f"{expected}@{address.split('@')[1]}" == p.pseudonym(address)
    text = f"to <{ALICE}> and {BOB.upper()} via https://x/?e=alice.martin%40orange.fr"
    sql = con.execute("SELECT dlv_redact($t, $__pk_i, $__pk_o)", {"t": text, **p.params()}).fetchone()[0]
    assert sql == p.redact_text(text)
    assert ALICE not in sql and "bob@" not in sql.lower() and p.pseudonym(ALICE) in sql and p.pseudonym(BOB) in sql


def test_pseudonymized_ingest_stores_no_address_and_analyses_still_work(tmp_path, key):
    drop = drop_with_two_people(tmp_path / "drop")
    db = tmp_path / "p.duckdb"
    summary = ingest_paths(db, [drop], pseudonymize=True, on_error="quarantine")
    assert summary.counts["subscriptions"].rejected == 1
    p = privacy.Pseudonymizer(KEY)
    for person in (ALICE, BOB):
        assert varchar_mentions(db, person) == [], person
        assert varchar_mentions(db, person.replace("@", "%40")) == []
    assert b"alice.martin" not in db.read_bytes() and b"bob@" not in db.read_bytes()
    # same person, same pseudonym, in every table; the domain and provider are kept
    assert query(db, "SELECT DISTINCT recipient, recipient_domain, provider FROM sends ORDER BY 1") == sorted(
        [(p.pseudonym(ALICE), "orange.fr", "orange"), (p.pseudonym(BOB), "gmail.com", "gmail")]
    )
    for table in ("subscriptions", "orders"):
        assert {r[0] for r in query(db, f"SELECT recipient FROM {table}")} == {p.pseudonym(ALICE), p.pseudonym(BOB)}
    assert query(db, "SELECT recipient FROM complaints WHERE recipient IS NOT NULL") == [(p.pseudonym(ALICE),)]
    # the complaint given by recipient still reaches Alice's message (joins work on pseudonyms)
    assert query(db, "SELECT message_id FROM message_facts WHERE has_complaint ORDER BY 1") == [("a2",), ("b1",)]
    # free text and the rejected raw line carry the pseudonym instead of the address
    assert query(db, "SELECT bounce_reason FROM sends WHERE message_id = 'b2'") == [
        (f"550 forwarded to {p.pseudonym(ALICE)} failed",)
    ]
    assert p.pseudonym(ALICE) in query(db, "SELECT raw FROM rejects")[0][0]
    assert query(db, "SELECT value FROM meta WHERE key = 'recipient_mode'") == [("pseudonymized",)]
    # an adapter-style message id holding the address is pseudonymised the same way in every table
    derived = p.redact_text(f"<x1@mta.example>:{ALICE}")
    assert query(db, "SELECT has_open FROM message_facts WHERE message_id = $m", {"m": derived}) == [(True,)]


def test_modes_never_mix(tmp_path, use_key):
    first = write_drop(tmp_path / "d1", {"sends": (
        ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient"],
        [["m1", "2026-10-01T10:00:00Z", "a", "l", "c", ALICE]])})
    second = write_drop(tmp_path / "d2", {"sends": (
        ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient"],
        [["m2", "2026-10-01T10:00:00Z", "a", "l", "c", BOB]])})
    plain = tmp_path / "plain.duckdb"
    ingest_paths(plain, [first])
    use_key(KEY)
    with pytest.raises(privacy.RecipientModeError, match="already holds plain recipient addresses"):
        ingest_paths(plain, [second], pseudonymize=True)
    assert query(plain, "SELECT recipient FROM sends") == [(ALICE,)]

    pseudo = tmp_path / "pseudo.duckdb"
    ingest_paths(pseudo, [first], pseudonymize=True)
    with pytest.raises(privacy.RecipientModeError, match="holds pseudonymised recipients"):
        ingest_paths(pseudo, [second])
    use_key("another-key-0123456789")
    with pytest.raises(privacy.RecipientModeError, match="different DLVSTATS_PSEUDONYM_KEY"):
        ingest_paths(pseudo, [second], pseudonymize=True)
    assert query(pseudo, "SELECT count(*) FROM sends") == [(1,)]
    # the CLI says it and exits 3 (refused, nothing loaded)
    use_key(KEY)
    done = subprocess.run([sys.executable, "-m", "dlvstats.cli", "ingest", str(second), "--db", str(pseudo)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 3 and "--pseudonymize" in done.stderr and "unchanged" in done.stderr


def test_pseudonymize_needs_a_key(tmp_path, use_key):
    use_key(None)
    drop = drop_with_two_people(tmp_path / "drop")
    with pytest.raises(privacy.PrivacyError, match="DLVSTATS_PSEUDONYM_KEY"):
        ingest_paths(tmp_path / "db.duckdb", [drop], pseudonymize=True)
    use_key("short")
    with pytest.raises(privacy.PrivacyError, match="too short"):
        ingest_paths(tmp_path / "db.duckdb", [drop], pseudonymize=True)


def test_forget_removes_one_person_everywhere_and_rewrites_the_file(tmp_path):
    drop = drop_with_two_people(tmp_path / "drop")
    db = tmp_path / "plain.duckdb"
    ingest_paths(db, [drop], on_error="quarantine")
    assert ALICE.encode() in db.read_bytes()  # control: the byte search can see the address

    # control: deleting rows alone leaves the address's bytes in the file's free blocks
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(db.read_bytes())
    con = duckdb.connect(str(copy))
    for table in ("sends", "subscriptions", "orders", "complaints", "message_facts"):
        con.execute(f"DELETE FROM {table} WHERE recipient = $a", {"a": ALICE})
    con.execute("CHECKPOINT")
    con.close()
    assert ALICE.encode() in copy.read_bytes()

    done = subprocess.run([sys.executable, "-m", "dlvstats.cli", "forget", " Alice.Martin@orange.FR", "--db", str(db)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for line in ("removed          3 row(s) from sends", "removed          2 row(s) from opens",
                 "removed          1 row(s) from clicks", "removed          1 row(s) from complaints",
                 "removed          1 row(s) from subscriptions", "removed          1 row(s) from orders",
                 "removed          1 row(s) from rejects", "removed          3 row(s) from message_facts",
                 "erased the address in 1 row(s) of sends.bounce_reason",
                 "erased the address in 1 row(s) of clicks.url", "Rewrote the database"):
        assert line in out, out
    assert varchar_mentions(db, ALICE) == [] and varchar_mentions(db, "alice.martin%40") == []
    assert ALICE.encode() not in db.read_bytes() and b"alice.martin%40" not in db.read_bytes()
    # Bob is intact (his rows stay; only the quoted address in his bounce reason is erased)
    assert query(db, "SELECT message_id FROM sends ORDER BY 1") == [("b1",), ("b2",)]
    assert query(db, "SELECT bounce_reason FROM sends WHERE message_id = 'b2'") == [("550 forwarded to [erased] failed",)]
    assert query(db, "SELECT count(*) FROM complaints WHERE message_id = 'b1'") == [(1,)]
    assert query(db, "SELECT count(*) FROM opens") == [(1,)] and query(db, "SELECT count(*) FROM clicks") == [(1,)]
    assert query(db, "SELECT count(*) FROM orders") == [(1,)]
    assert not list(tmp_path.glob("*.forget-tmp*")) and not Path(str(db) + ".wal").exists()
    # the rewritten database is a working dlvstats database
    assert query(db, "SELECT value FROM meta WHERE key = 'schema_version'") == [(str(SCHEMA_VERSION),)]
    ingest_paths(db, [drop], on_error="quarantine")  # and Alice can come back with a new drop


def test_forget_in_a_pseudonymized_database(tmp_path, key):
    drop = drop_with_two_people(tmp_path / "drop")
    db = tmp_path / "pseudo.duckdb"
    ingest_paths(db, [drop], pseudonymize=True, on_error="quarantine")
    pseudonym = privacy.Pseudonymizer(KEY).pseudonym(ALICE)
    assert pseudonym.encode() in db.read_bytes()
    report = privacy.forget(db, ALICE)
    assert report.target == pseudonym and report.removed["sends"] == 3 and report.removed["rejects"] == 1
    assert report.erased_mentions == {"sends.bounce_reason": 1, "clicks.url": 1}
    assert varchar_mentions(db, pseudonym) == []
    assert pseudonym.encode() not in db.read_bytes()
    assert query(db, "SELECT count(*) FROM sends") == [(2,)]


def test_forget_dry_run_and_missing_key(tmp_path, use_key):
    drop = drop_with_two_people(tmp_path / "drop")
    db = tmp_path / "pseudo.duckdb"
    use_key(KEY)
    ingest_paths(db, [drop], pseudonymize=True, on_error="quarantine")
    before = db.read_bytes()
    report = privacy.forget(db, ALICE, dry_run=True)
    assert report.dry_run and report.removed["sends"] == 3 and db.read_bytes() == before
    use_key(None)
    done = subprocess.run([sys.executable, "-m", "dlvstats.cli", "forget", ALICE, "--db", str(db)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "DLVSTATS_PSEUDONYM_KEY" in done.stderr
    assert query(db, "SELECT count(*) FROM sends") == [(5,)]
