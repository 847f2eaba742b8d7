"""Mandrill adapter: message-event webhooks (a `mandrill_events` batch) on the public payloads of
django-anymail's test suite (tests/data/esp/mandrill/SOURCES.md); send time from `msg.ts`, `smtp;`
diagnostics, sync events counted and not loaded, metadata, detection."""

from __future__ import annotations

import json
from datetime import datetime

from tests.test_adapters_helpers import copy_fixtures, counts, fixture_dir, rows

from dlvstats.ingest import ingest_paths
from dlvstats.ingest.adapters import sniff

ID = "abcdef012345789abcdef012345789"


def test_mandrill_public_samples(tmp_path):
    src = copy_fixtures("mandrill", tmp_path / "in", ["anymail-mandrill-events.json"])
    assert sniff(src / "anymail-mandrill-events.json") == "mandrill"
    db = tmp_path / "md.duckdb"
    summary = ingest_paths(db, [src], input_format="auto")
    assert sorted(rows(db, "SELECT message_id, status, sent_at, delivered_at, bounce_class, smtp_code, "
                           "enhanced_status, bounce_reason, campaign_id, sending_domain FROM sends")) == [
        (f"{ID}:bounce@example.com", "bounced", datetime(2016, 4, 19, 19, 46, 51), None, "hard", 550, "5.1.1",
         "550 5.1.1 The email account that you tried to reach does not exist.", "unknown", "example.com"),
        # `send` is Mandrill's last word on a message the receiving server took (there is no
        # delivery event): delivered at the event's time, sent at `msg.ts`
        (f"{ID}:recipient@example.com", "delivered", datetime(2016, 4, 19, 19, 46, 51),
         datetime(2016, 4, 19, 19, 47, 26), None, None, None, None, "tag1", "example.com"),
    ]
    assert rows(db, "SELECT message_id, ts, url, user_agent FROM clicks") == [
        (f"{ID}:recipient@example.com", datetime(2016, 4, 19, 19, 47, 26), "http://example.com",
         "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0")]
    assert counts(summary)["sends"] == (2, 2, 0, 0, 0)
    notes = "\n".join(summary.notes)
    assert "4 event(s) read from 1 file(s)" in notes
    assert "1 sync/blacklist event(s) not loaded" in notes


def test_mandrill_metadata_open_spam_unsub(tmp_path):
    meta = {"message_id": "m-1", "account_id": "acme", "campaign_id": "c-3"}
    msg = {"ts": 1793520000, "email": "zoe@free.fr", "sender": "news@acme.example", "metadata": meta, "_id": "x1"}
    batch = [{"event": "send", "msg": msg, "_id": "x1", "ts": 1793520001},
             {"event": "open", "msg": msg, "_id": "x1", "ts": 1793523600, "ip": "203.0.113.9", "user_agent": "Mozilla/5.0"},
             {"event": "spam", "msg": msg, "_id": "x1", "ts": 1793527200},
             {"event": "unsub", "msg": msg, "_id": "x1", "ts": 1793527300},
             {"event": "inbound", "msg": msg, "_id": "x1", "ts": 1793527300}]
    src = tmp_path / "in"
    src.mkdir()
    (src / "batch.json").write_text(json.dumps(batch))
    db = tmp_path / "b.duckdb"
    summary = ingest_paths(db, [src], input_format="mandrill")
    assert rows(db, "SELECT message_id, account_id, campaign_id, sent_at, sending_domain FROM sends") == [
        ("m-1", "acme", "c-3", datetime(2026, 11, 1, 8, 0), "acme.example")]
    assert rows(db, "SELECT message_id, ip FROM opens") == [("m-1", "203.0.113.9")]
    assert rows(db, "SELECT source FROM complaints") == [("mandrill_fbl",)]
    assert rows(db, "SELECT recipient, action FROM subscriptions") == [("zoe@free.fr", "unsubscribe")]
    assert "unknown type 'inbound'" in "\n".join(summary.notes)
    assert sniff(fixture_dir("mandrill") / "anymail-mandrill-events.json") == "mandrill"
