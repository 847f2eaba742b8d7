"""SendGrid Event Webhook adapter: webhook POST bodies (JSON arrays, pretty-printed or one per
line), single bare events, epoch seconds, milliseconds and strings, sg_machine_open, every
documented event type; fixtures shaped like the Event Webhook reference (tests/data/esp/sendgrid)."""

from __future__ import annotations

from datetime import datetime

import pytest
from tests.test_adapters_helpers import by_key, copy_fixtures, counts, public_files, rows, stage

from dlvstats.ingest import ingest_paths
from dlvstats.ingest.adapters import sniff

X1 = "14c5d75ce93.dfd.64b469:alice@gmail.com"
X2 = "uAaBAfrEROik3Gq7pg6qHQ:bob@icloud.com"


@pytest.fixture(scope="module")
def sg_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("sendgrid") / "sg.duckdb"
    return db, ingest_paths(db, [copy_fixtures("sendgrid", tmp_path_factory.mktemp("sendgrid_in"))], input_format="sendgrid")


def test_delivery_events_make_one_send_per_message_and_recipient(sg_db):
    db, _ = sg_db
    sends = by_key(db, "SELECT message_id, status, sent_at, delivered_at, account_id, list_id, campaign_id, "
                       "bounce_class, smtp_code, enhanced_status, sending_ip FROM sends")
    assert set(sends) == {X1, X2, "9eZBI4XvQtiBGdAS9XJRGg:carl@corp.example", "Qm9yYUJsb2NrZWRYWVo:dora@hotmail.com",
                          "TXVsdGlSY3B0UmVxdWVzdA:fay@gmx.de", "TXVsdGlSY3B0UmVxdWVzdA:gil@gmx.de"}
    # processed, deferred, delivered: delivered, sent at the processed time (epoch seconds)
    assert sends[X1][1:] == ("delivered", datetime(2026, 10, 1, 8, 0), datetime(2026, 10, 1, 8, 5, 3), "acme",
                             "newsletter", "autumn-2026", None, None, None, "168.1.1.1")
    # bounce type "bounce" is hard, "blocked" (a policy/reputation block) is soft
    assert sends["9eZBI4XvQtiBGdAS9XJRGg:carl@corp.example"][7:10] == ("hard", 550, "5.1.1")
    assert sends["Qm9yYUJsb2NrZWRYWVo:dora@hotmail.com"][7:10] == ("soft", 550, "5.7.1")
    # one request to two recipients: two rows; epoch milliseconds, a string epoch, a bare object
    assert sends["TXVsdGlSY3B0UmVxdWVzdA:fay@gmx.de"][2:4] == (datetime(2026, 10, 1, 8, 20, 0, 123000),
                                                              datetime(2026, 10, 1, 8, 20, 5))
    assert sends["TXVsdGlSY3B0UmVxdWVzdA:gil@gmx.de"][1:4] == ("delivered", datetime(2026, 10, 1, 8, 20, 0, 456000),
                                                              datetime(2026, 10, 1, 8, 20, 9))
    # no list custom argument: unknown; the campaign falls back on the category
    assert sends["TXVsdGlSY3B0UmVxdWVzdA:fay@gmx.de"][4:7] == ("acme", "unknown", "transactional")


def test_dropped_messages_are_not_sends(sg_db):
    db, summary = sg_db
    assert rows(db, "SELECT count(*) FROM sends WHERE recipient = 'eve@example.org'") == [(0,)]
    notes = "\n".join(summary.notes)
    assert "1 dropped event(s) not loaded" in notes and "1 processed event(s) not loaded" in notes
    assert "unknown type 'account_status_change'" in notes


def test_engagement_keeps_event_ids_and_machine_flag(sg_db):
    db, _ = sg_db
    assert sorted(rows(db, "SELECT message_id, event_id, user_agent, is_machine FROM opens")) == [
        (X1, "b3Blbi0wLTE=", "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", False),
        (X2, "b3Blbi0wLTI=", "Mozilla/5.0", True),
    ]
    assert rows(db, "SELECT actor_rule FROM opens WHERE event_id = 'b3Blbi0wLTI='") == [("vendor_flag",)]
    assert rows(db, "SELECT message_id, url, event_id FROM clicks") == [(X1, "https://shop.acme.example/autumn", "Y2xpY2stMC0x")]
    assert rows(db, "SELECT message_id, recipient, account_id, source FROM complaints") == [
        (X1, "alice@gmail.com", "acme", "sendgrid_fbl")]
    assert sorted(rows(db, "SELECT recipient, action, list_id, source FROM subscriptions")) == [
        ("alice@gmail.com", "unsubscribe", "newsletter", "link"),
        ("bob@icloud.com", "subscribe", "asm_group:10", "resubscribe"),
        ("bob@icloud.com", "unsubscribe", "asm_group:10", "link"),
    ]


def test_accounting(sg_db):
    _, summary = sg_db
    assert counts(summary) == {
        "sends": (11, 6, 0, 5, 0), "opens": (2, 2, 0, 0, 0), "clicks": (1, 1, 0, 0, 0),
        "complaints": (1, 1, 0, 0, 0), "subscriptions": (3, 3, 0, 0, 0),
    }


def test_custom_argument_names_and_own_message_id(tmp_path):
    path = tmp_path / "events.json"
    path.write_text(
        '[{"email":"a@b.example","timestamp":1790841600,"event":"delivered","sg_event_id":"e1",'
        '"sg_message_id":"abc.filter0001.1.0","client":"acme","my_id":"m-42","response":"250 OK"},'
        '{"email":"a@b.example","timestamp":"2026-10-01T10:05:00+02:00","event":"open","sg_event_id":"e2",'
        '"sg_message_id":"abc.filter0001.1.0","my_id":"m-42","useragent":"UA","ip":"192.0.2.9"}]'
    )
    staged, _ = stage("sendgrid", path, tags={"account_id": "client", "message_id": "my_id"})
    assert (staged["sends"][0]["message_id"], staged["sends"][0]["account_id"]) == ("m-42", "acme")
    assert (staged["opens"][0]["message_id"], staged["opens"][0]["ts"]) == ("m-42", "2026-10-01T10:05:00+02:00")


def test_public_event_webhook_post(tmp_path):
    """The Event Webhook payloads of django-anymail's SendGrid tests (tests/data/esp/sendgrid/SOURCES.md)
    in one POST: processed, delivered (twice), dropped (invalid, bounced, unsubscribed), bounce,
    deferred, open, click."""
    (path,) = public_files("sendgrid")
    assert sniff(path) == "sendgrid"
    db = tmp_path / "pub.duckdb"
    summary = ingest_paths(db, [path], input_format="auto")
    # 5 delivery-status events of 3 messages: one row each, the other events counted as duplicates
    assert counts(summary) == {"sends": (5, 3, 0, 2, 0), "opens": (1, 1, 0, 0, 0), "clicks": (1, 1, 0, 0, 0)}
    assert sorted(rows(db, "SELECT message_id, status, sent_at, delivered_at, bounce_class, smtp_code, "
                           "enhanced_status FROM sends")) == [
        ("Lli-03HcQ5-JLybO9fXsJg:noreply@example.com", "bounced", datetime(2016, 4, 19, 19, 47, 30), None,
         "hard", 550, "5.1.1"),
        ("u9Gvi3mzT6iC2poAb58_qQ:recipient@example.com", "deferred", datetime(2016, 4, 21, 1, 9, 50), None,
         None, None, None),
        ("wrfRRvF7Q0GgwUo2CvDmEA:recipient@example.com", "delivered", datetime(2016, 4, 19, 19, 47, 26),
         datetime(2016, 4, 19, 19, 47, 30), None, None, None),   # processed 1461095246, delivered ...250
    ]
    assert rows(db, "SELECT message_id, ip FROM opens") == [
        ("wrfRRvF7Q0GgwUo2CvDmEA:recipient@example.com", "66.102.6.229")]
    assert rows(db, "SELECT message_id, url, ip FROM clicks") == [
        ("_fjPjuJfRW-IPs5SuvYotg:recipient@example.com", "http://www.example.com", "24.130.34.103")]
    assert "3 dropped event(s) not loaded" in "\n".join(summary.notes)
