"""Mailgun adapter: webhook payloads ({"signature", "event-data"}), one per line, and an Events API
page ({"items", "paging"}); float epoch timestamps; the bot flag of client-info; fixtures shaped
like Mailgun's webhook and Events API examples (tests/data/esp/mailgun)."""

from __future__ import annotations

from datetime import datetime

from tests.test_adapters_helpers import copy_fixtures, counts, public_files, rows, stage

from dlvstats.ingest import ingest_paths
from dlvstats.ingest.adapters import sniff

M1 = "20261001080000.1.5A3C2B1D0E@mg.acme.example:alice@gmail.com"
M2 = "20261001080000.2.6B4D3C2E1F@mg.acme.example:bob@icloud.com"
M3 = "20261001080000.3.7C5E4D3F2A@mg.acme.example:carl@corp.example"
M4 = "20261001080000.4.8D6F5E4A3B@mg.acme.example:dora@yahoo.com"


def test_mailgun_events(tmp_path):
    staged, result = stage("mailgun", copy_fixtures("mailgun", tmp_path / "in"))
    sends = {}
    for r in staged["sends"]:  # one staged row per event, all carrying the message's aggregate
        sends.setdefault(r["message_id"], r)
    assert set(sends) == {M1, M2, M3, M4}
    assert (sends[M1]["status"], sends[M1]["sent_at"], sends[M1]["delivered_at"]) == (
        "delivered", "2026-10-01T08:00:00.104312+00:00", "2026-10-01T08:00:03.054876+00:00")
    assert (sends[M1]["account_id"], sends[M1]["list_id"], sends[M1]["campaign_id"]) == ("acme", "newsletter", "autumn-2026")
    assert (sends[M1]["sending_ip"], sends[M1]["sending_domain"]) == ("209.61.154.250", "mg.acme.example")
    # failed/permanent is a hard bounce with the delivery-status codes
    assert (sends[M3]["status"], sends[M3]["bounce_class"], sends[M3]["smtp_code"], sends[M3]["enhanced_status"]) == (
        "bounced", "hard", "550", "5.1.1")
    # failed/temporary (a delay) in the webhooks, then delivered in the Events API page: delivered
    assert sends[M4]["status"] == "delivered"
    # failed with reason suppress-bounce: Mailgun did not send it
    assert not any(r["recipient"] == "old@example.org" for r in staged["sends"])

    machine = {(r["message_id"], r["user_agent"]): r["is_machine"] for r in staged["opens"] + staged["clicks"]}
    assert machine[(M2, "Mozilla/5.0")] == "true"  # bot: apple
    assert machine[(M1, "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)")] == "false"  # bot: gmail
    assert machine[(M2, "Mozilla/5.0 (compatible; scanner)")] == "true"  # bot: generic (a link scanner)
    assert machine[(M4, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.31 (KHTML, like Gecko) Chrome/26.0.1410.43 Safari/537.31")] is None  # no bot field
    assert {r["event_id"] for r in staged["opens"]} == {"Ase7i2zsRYeDXztHGENqRA", "Mg8Bn5sl1TC6nu79C8C0by", "Pg1OpenedXYZ0123456789"}

    [complaint] = staged["complaints"]
    assert (complaint["message_id"], complaint["recipient"], complaint["source"]) == (M1, "alice@gmail.com", "mailgun_fbl")
    [unsub] = staged["subscriptions"]
    assert (unsub["recipient"], unsub["action"], unsub["source"], unsub["list_id"]) == (
        "bob@icloud.com", "unsubscribe", "link", "newsletter")
    # Events API page: positions are record numbers within the page
    page = [r for r in staged["opens"] if r["__file"].endswith("events-api-page-1.json")]
    assert page[0]["__line"] == 2
    notes = "\n".join(result.notes)
    assert "1 stored event(s) not loaded" in notes and "1 failed event(s) not loaded: not sent" in notes


def test_public_webhooks(tmp_path):
    """Webhook bodies of django-anymail's Mailgun tests (tests/data/esp/mailgun/SOURCES.md): failed
    permanent, failed temporary (Mailgun's internal 498 and a 450 greylisting), rejected, complained,
    unsubscribed, opened."""
    (path,) = public_files("mailgun")
    assert sniff(path) == "mailgun"
    db = tmp_path / "pub.duckdb"
    summary = ingest_paths(db, [path], input_format="auto")
    assert counts(summary) == {"sends": (3, 3, 0, 0, 0), "opens": (1, 1, 0, 0, 0), "complaints": (1, 1, 0, 0, 0),
                               "subscriptions": (1, 1, 0, 0, 0)}
    assert sorted(rows(db, "SELECT message_id, status, sent_at, bounce_class, smtp_code, enhanced_status FROM sends")) == [
        ("20180812214638.1.4A7D468E9BC18C5D@example.org:undeliverable@mx.example.com", "deferred",
         datetime(2018, 8, 12, 22, 11, 39, 659519), None, 450, None),
        ("20180812214638.1.4A7D468E9BC18C5D@example.org:undeliverable@nomx.example.com", "deferred",
         datetime(2018, 8, 12, 22, 11, 39, 659519), None, None, None),     # 498 is Mailgun's, not SMTP
        ("20180812214658.1.0DF563D0B3597700@example.org:invalid@example.com", "bounced",
         datetime(2018, 8, 12, 21, 47, 2, 389832), "hard", 550, "5.1.1"),
    ]
    assert rows(db, "SELECT message_id, source FROM complaints") == [
        ("20130718032413.263EE2E0926@example.org:recipient@example.com", "mailgun_fbl")]
    assert rows(db, "SELECT recipient, action, ts FROM subscriptions") == [
        ("recipient@example.com", "unsubscribe", datetime(2013, 8, 22, 23, 23, 11, 421473))]
    assert rows(db, "SELECT ts FROM opens") == [(datetime(2018, 8, 12, 21, 33, 20, 89676),)]
    assert "1 rejected event(s) not loaded" in "\n".join(summary.notes)
