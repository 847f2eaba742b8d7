"""Postmark adapter: Delivery, Bounce (by TypeCode), SpamComplaint, Open, Click and
SubscriptionChange webhooks, one object per file (as Postmark posts them) or per line; ISO
timestamps with 7 decimals and offsets; fixtures shaped like Postmark's webhook examples."""

from __future__ import annotations

from datetime import datetime

from tests.test_adapters_helpers import by_key, copy_fixtures, counts, public_files, rows

from dlvstats.ingest import ingest_paths
from dlvstats.ingest.adapters import sniff

ALICE = "883953f4-6105-42a2-a16a-77a8eac79483:alice@gmail.com"


def test_postmark_webhooks(tmp_path):
    db = tmp_path / "pm.duckdb"
    summary = ingest_paths(db, [copy_fixtures("postmark", tmp_path / "in")], input_format="postmark")
    sends = by_key(db, "SELECT message_id, status, sent_at, delivered_at, bounce_class, smtp_code, enhanced_status, "
                       "account_id, list_id, campaign_id FROM sends")
    # no "sent" webhook: a Delivery creates the send, its time being the earliest known
    assert sends[ALICE][1:] == ("delivered", datetime(2026, 10, 1, 8, 0, 4, 907025), datetime(2026, 10, 1, 8, 0, 4, 907025),
                                None, None, None, "acme", "newsletter", "autumn-2026")
    assert sends["9d1c2a3b-0000-4000-8000-000000000002:carl@corp.example"][1:2] + sends[
        "9d1c2a3b-0000-4000-8000-000000000002:carl@corp.example"][4:7] == ("bounced", "hard", 550, "5.1.1")  # HardBounce, 1
    assert sends["5e6f7a8b-0000-4000-8000-000000000003:dora@yahoo.com"][1] == "deferred"  # Transient, 2
    assert sends["6f7a8b9c-0000-4000-8000-000000000004:eve@orange.fr"][1:2] + sends[
        "6f7a8b9c-0000-4000-8000-000000000004:eve@orange.fr"][4:5] == ("bounced", "soft")  # SoftBounce, 4096
    # an offset timestamp with 7 decimals, to UTC
    assert rows(db, "SELECT ts FROM opens") == [(datetime(2026, 10, 1, 9, 12, 45, 123456),)]
    assert rows(db, "SELECT url, ip FROM clicks") == [("https://shop.acme.example/autumn", "198.51.100.7")]
    assert rows(db, "SELECT ts, message_id, source FROM complaints") == [
        (datetime(2026, 10, 2, 7, 41, 2), ALICE, "postmark_fbl")]
    assert sorted(rows(db, "SELECT recipient, action, source FROM subscriptions")) == [
        ("alice@gmail.com", "subscribe", "reactivated"),   # SuppressSending false
        ("alice@gmail.com", "unsubscribe", "link"),        # ManualSuppression by the recipient
        ("carl@corp.example", "unsubscribe", "bounce"),    # HardBounce suppression: not a person leaving
    ]
    notes = "\n".join(summary.notes)
    assert "1 Bounce/AutoResponder event(s) not loaded" in notes
    assert "unknown type 'InboundMessage'" in notes
    assert counts(summary)["sends"] == (4, 4, 0, 0, 0)


def test_public_webhooks(tmp_path):
    """Webhook bodies of django-anymail's Postmark tests (tests/data/esp/postmark/SOURCES.md): Bounce,
    Delivery, Open, Click, SpamComplaint, three SubscriptionChange and a Bounce of type Unsubscribe."""
    (path,) = public_files("postmark")
    assert sniff(path) == "postmark"
    db = tmp_path / "pub.duckdb"
    summary = ingest_paths(db, [path], input_format="auto")
    assert counts(summary) == {"sends": (2, 2, 0, 0, 0), "opens": (1, 1, 0, 0, 0), "clicks": (1, 1, 0, 0, 0),
                               "complaints": (1, 1, 0, 0, 0), "subscriptions": (3, 2, 0, 1, 0)}
    # anymail's unsubscribe and bounce-suppression samples of john@example.com share list and second:
    # one unsubscribe, the other counted as its duplicate (the subscriptions key has no source)
    assert sorted(rows(db, "SELECT message_id, status, sent_at, delivered_at, bounce_class, smtp_code FROM sends")) == [
        ("2706ee8a-737c-4285-b032-ccd317af53ed:bounce@example.com", "bounced",
         datetime(2016, 4, 27, 20, 28, 50, 396393), None, "hard", 550),      # BouncedAt ...-04:00
        ("883953f4-6105-42a2-a16a-77a8eac79483:recipient@example.com", "delivered",
         datetime(2014, 8, 1, 17, 28, 10, 273539), datetime(2014, 8, 1, 17, 28, 10, 273539), None, None),
    ]
    assert rows(db, "SELECT recipient, source FROM complaints") == [("spam@example.com", "postmark_fbl")]
    assert sorted(rows(db, "SELECT recipient, action, source FROM subscriptions")) == [
        ("john@example.com", "subscribe", "reactivated"), ("john@example.com", "unsubscribe", "link")]
    assert rows(db, "SELECT url FROM clicks") == [("https://example.com/click/me",)]
    assert "1 Bounce/Unsubscribe event(s) not loaded" in "\n".join(summary.notes)
