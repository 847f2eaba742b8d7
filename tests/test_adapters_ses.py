"""Amazon SES adapter: event publishing and notification records, raw, JSON lines, SNS HTTP
envelopes, Lambda Records[].Sns (Message escaped twice), batches; fixtures shaped like the examples
of the SES developer guide (tests/data/esp/ses)."""

from __future__ import annotations

from datetime import datetime

import pytest
from tests.test_adapters_helpers import by_key, copy_fixtures, counts, public_files, rows, stage

from dlvstats.ingest import ingest_paths
from dlvstats.ingest.adapters import sniff

A = "0102019a1f2e3d4c-aaaaaaaa-1111-4c1e-9d3b-000000000001-000000"
B = "0102019a1f2e3d4c-bbbbbbbb-2222-4c1e-9d3b-000000000002-000000"
C = "0102019a1f2e3d4c-cccccccc-3333-4c1e-9d3b-000000000003-000000"
D = "0102019a1f2e3d4c-dddddddd-4444-4c1e-9d3b-000000000004-000000"
F = "0102019a1f2e3d4c-ffffffff-6666-4c1e-9d3b-000000000006-000000"
G = "0102019a1f2e3d4c-99999999-7777-4c1e-9d3b-000000000007-000000"
H = "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000"


@pytest.fixture(scope="module")
def ses_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("ses") / "ses.duckdb"
    src = copy_fixtures("ses", tmp_path_factory.mktemp("ses_in"))
    summary = ingest_paths(db, [src], input_format="ses")
    again = ingest_paths(db, [src], input_format="ses")
    return db, summary, again


def test_sends_from_every_wrapping(ses_db):
    db, _, _ = ses_db
    sends = by_key(db, "SELECT message_id, status, sent_at, delivered_at, account_id, list_id, campaign_id, recipient, "
                       "provider, bounce_class, smtp_code, enhanced_status, bounce_reason, sending_ip, sending_domain FROM sends")
    assert set(sends) == {A, B, C, F, G, f"{H}:jane@example.com", f"{H}:mary@example.com", f"{H}:richard@example.com"}
    # Send + Delivery (+ Open, Click...) of one message: one row, delivered, the Send's time, tags.
    assert sends[A][1:] == (
        "delivered", datetime(2026, 10, 1, 8, 0, 0, 120000), datetime(2026, 10, 1, 8, 0, 4, 133000), "acme",
        "newsletter", "autumn-2026", "alice@gmail.com", "gmail", None, None, None, None, "203.0.113.25",
        "mail.acme.example",
    )
    # A bounce seen without its Send still creates the send, with mail.timestamp as sent_at.
    assert sends[B][1:4] == ("bounced", datetime(2026, 10, 1, 8, 0, 0, 450000), None)
    assert sends[B][9:13] == ("hard", 550, "5.1.1", "550 5.1.1 user unknown")
    # Send + DeliveryDelay and nothing else: deferred, with the delay's codes.
    assert sends[C][1] == "deferred" and sends[C][10:12] == (421, "4.7.0")
    # SNS HTTP envelope whose Message is the event as a JSON string.
    assert sends[F][1] == "delivered" and sends[F][8] == "microsoft"
    # Lambda Records[].Sns with the Message escaped twice; a Transient bounce is soft.
    assert sends[G][1] == "bounced" and sends[G][9:12] == ("soft", 452, "4.2.2")
    # Older notifications (notificationType) to three recipients: one row each, derived ids, no tags.
    assert sends[f"{H}:jane@example.com"][1] == "bounced"
    assert sends[f"{H}:richard@example.com"][9:13] == ("hard", None, None, "Permanent/General")
    assert sends[f"{H}:mary@example.com"][1] == "delivered"
    assert sends[f"{H}:mary@example.com"][4:7] == ("unknown", "unknown", "unknown")


def test_rejected_and_rendering_failures_are_notes_not_sends(ses_db):
    db, summary, _ = ses_db
    assert rows(db, "SELECT count(*) FROM sends WHERE message_id = ?", [D]) == [(0,)]
    notes = "\n".join(summary.notes)
    assert "1 Rendering Failure event(s) not loaded: template rendering failed" in notes
    assert "1 Reject event(s) not loaded" in notes and "1 Send event(s) not loaded" in notes
    assert "1 Complaint event(s) not loaded: feedback type not-spam" in notes
    assert "SNS SubscriptionConfirmation" in notes and "AmazonSnsSubscriptionSucceeded" in notes
    assert "ses: 22 event(s) read from 5 file(s)" in notes


def test_accounting_balances(ses_db):
    _, summary, _ = ses_db
    assert counts(summary) == {
        "sends": (10, 8, 0, 2, 0),
        "opens": (1, 1, 0, 0, 0),
        "clicks": (2, 2, 0, 0, 0),
        "complaints": (2, 2, 0, 0, 0),
        "subscriptions": (1, 1, 0, 0, 0),
    }


def test_engagement_complaints_unsubscribes(ses_db):
    db, _, _ = ses_db
    assert rows(db, "SELECT message_id, ts, user_agent, ip, is_machine FROM opens") == [
        (A, datetime(2026, 10, 1, 9, 12, 45, 652000),
         "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", "66.249.84.12", None)
    ]
    assert sorted(r[0] for r in rows(db, "SELECT url FROM clicks WHERE message_id = ?", [A])) == [
        "https://shop.acme.example/autumn?utm_source=ses", "https://shop.acme.example/unsubscribe?u=1"]
    assert sorted(rows(db, "SELECT message_id, recipient, account_id, source FROM complaints")) == [
        (f"{H}:mary@example.com", "mary@example.com", None, "ses"),
        (A, "alice@gmail.com", "acme", "yahoo_cfl"),
    ]
    assert rows(db, "SELECT ts, account_id, list_id, recipient, action, source, campaign_id FROM subscriptions") == [
        (datetime(2026, 10, 3, 10, 0, 17, 910000), "acme", "newsletter", "alice@gmail.com", "unsubscribe", "link", "autumn-2026")
    ]


def test_same_events_twice_add_nothing(ses_db):
    _, _, again = ses_db
    assert all(c.loaded == 0 and c.updated == 0 for c in again.counts.values())
    assert sum(c.duplicates for c in again.counts.values()) == 16


def test_account_and_campaign_defaults_and_tag_names(tmp_path):
    src = copy_fixtures("ses", tmp_path / "in", ["notifications-batch.json", "firehose-2026-10-01-08.jsonl"])
    staged, _ = stage("ses", src, account_id="client-x", campaign_id="spring",
                      tags={"account_id": "ses:caller-identity"})
    got = {r["message_id"]: r for r in staged["sends"]}
    mary = got[f"{H}:mary@example.com"]
    assert (mary["account_id"], mary["list_id"], mary["campaign_id"]) == ("client-x", "unknown", "spring")
    alice = got[A]  # the account from the named tag, list and campaign from the default tag names
    assert (alice["account_id"], alice["list_id"], alice["campaign_id"]) == ("ses_user", "newsletter", "autumn-2026")


def test_positions_are_lines_or_record_numbers(tmp_path):
    staged, _ = stage("ses", copy_fixtures("ses", tmp_path / "in"))
    lines = {(r["__file"].rsplit("/", 1)[-1], r["__line"]) for r in staged["sends"]}
    assert ("firehose-2026-10-01-08.jsonl", 7) in lines  # JSON lines: the physical line
    assert ("notifications-batch.json", 2) in lines  # one document: the record number in the batch
    assert ("lambda-sns-event.json", 1) in lines  # Lambda event: the record number in Records


def test_public_sns_notifications(tmp_path):
    """SNS HTTP bodies of django-anymail's SES tests (tests/data/esp/ses/SOURCES.md): the bounce and
    delivery examples of the SES developer guide, event-publishing Send, Reject, Open, Click and
    Rendering Failure."""
    (path,) = public_files("ses")
    assert sniff(path) == "ses"
    db = tmp_path / "pub.duckdb"
    summary = ingest_paths(db, [path], input_format="auto")
    assert counts(summary) == {"sends": (2, 2, 0, 0, 0), "opens": (1, 1, 0, 0, 0), "clicks": (1, 1, 0, 0, 0)}
    assert sorted(rows(db, "SELECT message_id, status, sent_at, recipient, bounce_class, smtp_code, enhanced_status "
                           "FROM sends")) == [
        ("00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000:jane@example.com", "bounced",
         datetime(2016, 1, 27, 14, 59, 38, 237000), "jane@example.com", "hard", 550, "5.1.1"),
        ("0000014644fe5ef6-9a483358-9170-4cb4-a269-f5dcdf415321-000000:jane@example.com", "delivered",
         datetime(2016, 1, 27, 14, 59, 38, 237000), "jane@example.com", None, None, None),
    ]
    rejected = "7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000"  # its Send was rejected: no sends row
    assert rows(db, "SELECT message_id, ts, ip FROM opens") == [
        (rejected, datetime(2017, 8, 9, 22, 0, 19, 652000), "192.0.2.1")]
    assert rows(db, "SELECT url, ts FROM clicks") == [
        ("https://docs.aws.amazon.com/ses/latest/DeveloperGuide/", datetime(2017, 8, 9, 23, 51, 25, 570000))]
    notes = "\n".join(summary.notes)
    assert "7 event(s) read from 1 file(s)" in notes
    assert "1 Reject event(s) not loaded" in notes and "1 Rendering Failure event(s) not loaded" in notes
