"""Mailjet adapter: Event API webhooks, grouped (arrays) and not, on the public payloads of
django-anymail's test suite (tests/data/esp/mailjet/SOURCES.md); greylisting as a delay, blocked
not sent, List-Unsubscribe, Payload metadata, detection, and a bad recipient refused by position."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from tests.test_adapters_helpers import by_key, copy_fixtures, counts, fixture_dir, rows

from dlvstats.ingest import ingest_paths
from dlvstats.ingest.adapters import sniff
from dlvstats.ingest.core import IngestRefused

T0 = datetime(2017, 6, 22, 1, 5, 27)
MID = "12345678901234567"
SAMPLES = ["anymail-grouped.json", "anymail-non-grouped.json"]


def test_mailjet_public_samples(tmp_path):
    src = copy_fixtures("mailjet", tmp_path / "in", SAMPLES)
    db = tmp_path / "mj.duckdb"
    summary = ingest_paths(db, [src], input_format="mailjet")
    sends = by_key(db, "SELECT message_id, status, sent_at, delivered_at, bounce_class, bounce_reason FROM sends")
    # "sent" is the receiving server's acceptance; greylisting is retried: deferred, not bounced
    assert sends == {
        f"{MID}:recipient@example.com": (f"{MID}:recipient@example.com", "delivered", T0, T0, None, None),
        f"{MID}:protected@example.com": (f"{MID}:protected@example.com", "deferred", T0, None, None,
                                         "domain: greylisted"),
    }
    assert sorted(rows(db, "SELECT user_agent, ip, is_machine FROM opens")) == [
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_5) Chrome/58.0.3029.110", "192.168.100.100", None),
        ("Mozilla/5.0 (via ggpht.com GoogleImageProxy)", "192.168.100.100", None),
    ]
    assert rows(db, "SELECT ts, message_id, source FROM complaints") == [
        (T0, f"{MID}:spam@example.com", "mailjet_greylisted")]
    # unsubscribed through the List-Unsubscribe header; mj_list_id 0 means no list
    assert rows(db, "SELECT recipient, action, source, list_id FROM subscriptions") == [
        ("recipient@example.com", "unsubscribe", "list_unsubscribe", "unknown")]
    # 3 delivery-status events (two for the same message: sent twice, grouped and not) -> 2 rows, 1 duplicate
    assert counts(summary)["sends"] == (3, 2, 0, 1, 0)
    notes = "\n".join(summary.notes)
    assert "8 event(s) read from 2 file(s)" in notes
    assert "1 blocked event(s) not loaded" in notes


def test_mailjet_detection_and_payload(tmp_path):
    for name in SAMPLES + ["anymail-bounce-invalid-domain.json"]:
        assert sniff(fixture_dir("mailjet") / name) == "mailjet"
    src = tmp_path / "in"
    src.mkdir()
    event = {"event": "bounce", "time": 1793520000, "MessageID": 19421777835146490, "email": "bob@orange.fr",
             "mj_campaign_id": 7257, "mj_contact_id": 4, "customcampaign": "", "hard_bounce": True,
             "error_related_to": "recipient", "error": "user unknown",
             "Payload": json.dumps({"message_id": "m-7", "account_id": "acme", "campaign_id": "c-9"})}
    (src / "events.jsonl").write_text(json.dumps(event) + "\n")
    db = tmp_path / "b.duckdb"
    ingest_paths(db, [src], input_format="auto")
    assert rows(db, "SELECT message_id, account_id, campaign_id, status, bounce_class, sent_at FROM sends") == [
        ("m-7", "acme", "c-9", "bounced", "hard", datetime(2026, 11, 1, 8, 0))]


def test_mailjet_invalid_recipient_refused_then_quarantined(tmp_path):
    src = copy_fixtures("mailjet", tmp_path / "in", ["anymail-bounce-invalid-domain.json"])
    with pytest.raises(IngestRefused) as err:
        ingest_paths(tmp_path / "a.duckdb", [src], input_format="auto")
    assert 'anymail-bounce-invalid-domain.json, line 1: recipient: "invalid@invalid" is not an e-mail address' in str(err.value)
    summary = ingest_paths(tmp_path / "b.duckdb", [src], input_format="auto", on_error="quarantine")
    assert rows(tmp_path / "b.duckdb", "SELECT count(*) FROM sends") == [(0,)]
    assert rows(tmp_path / "b.duckdb", "SELECT count(*) FROM rejects") == [(1,)]
    assert counts(summary)["sends"] == (1, 0, 0, 0, 1)


def test_mailjet_bounce_detail_fields(tmp_path):
    """Mailjet's documented bounce (tests/data/esp/mailjet/SOURCES.md): `error_related_to`, `error`
    and the receiving server's reply in `comment` make the bounce reason; `hard_bounce` the class;
    SMTP and enhanced codes are read from `comment` when it quotes them."""
    src = copy_fixtures("mailjet", tmp_path / "in", ["mailjet-docs-bounce.json"])
    assert sniff(src / "mailjet-docs-bounce.json") == "mailjet"
    reply = "550 5.1.1 <bob@orange.fr>: Recipient address rejected: User unknown"
    extra = {"event": "bounce", "time": 1793520000, "MessageID": 19421777835146490, "email": "bob@orange.fr",
             "mj_campaign_id": 7257, "hard_bounce": False, "error_related_to": "recipient",
             "error": "quota exceeded", "comment": reply}
    (src / "more.jsonl").write_text(json.dumps(extra) + "\n")
    db = tmp_path / "mj.duckdb"
    ingest_paths(db, [src], input_format="mailjet")
    got = by_key(db, "SELECT recipient, status, bounce_class, smtp_code, enhanced_status, bounce_reason FROM sends")
    assert got == {
        "bounce@mailjet.com": ("bounce@mailjet.com", "bounced", "hard", None, None,
                               ("recipient: user unknown (Host or domain name not found. Name service error "
                                "for name=lbjsnrftlsiuvbsren.com type=A: Host not found)")),
        "bob@orange.fr": ("bob@orange.fr", "bounced", "soft", 550, "5.1.1", f"recipient: quota exceeded ({reply})"),
    }
