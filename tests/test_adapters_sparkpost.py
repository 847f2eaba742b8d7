"""SparkPost adapter: event-webhook batches ({"msys": {"<class>_event": ...}}) on the public payloads
of django-anymail's test suite (tests/data/esp/sparkpost/SOURCES.md): bounce classes, delays, the
ping, generation rejections not sent, list unsubscribes; track events, complaints and detection."""

from __future__ import annotations

import json
from datetime import datetime

from tests.test_adapters_helpers import copy_fixtures, counts, fixture_dir, rows

from dlvstats.ingest import ingest_paths
from dlvstats.ingest.adapters import sniff


def test_sparkpost_public_samples(tmp_path):
    src = copy_fixtures("sparkpost", tmp_path / "in", ["anymail-batch.json"])
    db = tmp_path / "sp.duckdb"
    summary = ingest_paths(db, [src], input_format="auto")
    assert sorted(rows(db, "SELECT message_id, status, sent_at, bounce_class, smtp_code, enhanced_status, "
                           "campaign_id, sending_ip FROM sends")) == [
        ("65832150921904138:recipient@example.com", "delivered", datetime(2016, 2, 2, 19, 50), None, None, None,
         "Example Campaign Name", "127.0.0.1"),
        ("84345317650824116:bounce@example.com", "bounced", datetime(2016, 6, 1, 23, 42, 28), "hard", 550, "5.1.1",
         "unknown", None),                                       # bounce_class 10: invalid recipient
        ("84345317650824116:recipient@nomx.example.com", "deferred", datetime(2016, 6, 2, 0, 2, 28), None, 454,
         "4.4.4", "unknown", None),
    ]
    assert rows(db, "SELECT recipient, action, source FROM subscriptions") == [
        ("recipient@example.com", "unsubscribe", "list_unsubscribe")]
    assert counts(summary)["sends"] == (4, 3, 0, 1, 0)   # injection + delivery of one message
    notes = "\n".join(summary.notes)
    assert "8 event(s) read from 1 file(s)" in notes
    for vtype in ("ping", "generation_rejection", "generation_failure"):
        assert f"1 {vtype} event(s) not loaded" in notes


def test_sparkpost_track_events_and_classes(tmp_path):
    def ev(cls, **fields):
        base = {"transmission_id": "t1", "rcpt_to": "ana@laposte.net", "timestamp": "1793520000",
                "rcpt_meta": {"campaign_id": "c-1"}}
        return {"msys": {cls: {**base, **fields}}}
    batch = [ev("message_event", type="injection"),
             ev("message_event", type="bounce", bounce_class="60", raw_reason="auto-reply"),
             ev("track_event", type="initial_open", user_agent="Mozilla/5.0"),
             ev("track_event", type="open", user_agent="Mozilla/5.0", ip_address="198.51.100.4", timestamp="1793520600"),
             ev("track_event", type="click", target_link_url="https://acme.example/x", timestamp="1793520700"),
             ev("message_event", type="spam_complaint", fbtype="abuse", timestamp="1793521000"),
             ev("message_event", type="bounce", bounce_class="51", rcpt_to="bo@orange.fr",
                raw_reason="554 5.7.1 blocked", error_code="554")]
    src = tmp_path / "in"
    src.mkdir()
    (src / "batch.jsonl").write_text(json.dumps(batch) + "\n")
    assert sniff(src / "batch.jsonl") == "sparkpost"
    assert sniff(fixture_dir("sparkpost") / "anymail-batch.json") == "sparkpost"
    db = tmp_path / "b.duckdb"
    summary = ingest_paths(db, [src], input_format="sparkpost")
    assert sorted(rows(db, "SELECT message_id, status, bounce_class, campaign_id FROM sends")) == [
        ("t1:ana@laposte.net", "sent", None, "c-1"),        # class 60 (auto-reply) is not a failure
        ("t1:bo@orange.fr", "bounced", "soft", "c-1"),      # class 51 (block): soft
    ]
    assert rows(db, "SELECT ip, ts FROM opens") == [("198.51.100.4", datetime(2026, 11, 1, 8, 10))]
    assert rows(db, "SELECT url FROM clicks") == [("https://acme.example/x",)]
    assert rows(db, "SELECT source FROM complaints") == [("sparkpost_abuse",)]
    notes = "\n".join(summary.notes)
    assert "1 initial_open event(s) not loaded" in notes and "1 bounce/60 event(s) not loaded" in notes
