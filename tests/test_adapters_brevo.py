"""Brevo adapter: transactional webhooks, on the public payloads of django-anymail's test suite
(tests/data/esp/brevo/SOURCES.md): event types, UTC epochs, proxy opens as machine opens, tags,
X-Mailin-custom metadata, detection by `--format auto`."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from tests.test_adapters_helpers import by_key, copy_fixtures, counts, fixture_dir, rows

from dlvstats.ingest import ingest_paths
from dlvstats.ingest.adapters import sniff
from dlvstats.ingest.core import IngestRefused

MID = "201803011158.9876543210@smtp-relay.mailin.fr"
T0 = datetime(2018, 3, 6, 19, 10, 23)
SAMPLES = ["anymail-request.json", "anymail-webhooks.jsonl"]


def test_brevo_public_samples(tmp_path):
    db = tmp_path / "brevo.duckdb"
    src = copy_fixtures("brevo", tmp_path / "in", SAMPLES)   # without SOURCES.md
    summary = ingest_paths(db, [src], input_format="brevo")
    sends = by_key(db, "SELECT message_id, status, sent_at, bounce_class, smtp_code, enhanced_status, "
                       "campaign_id, sending_ip FROM sends")
    # request: ts_epoch is UTC in milliseconds (ts and date are the account's local time, not used)
    assert sends["201803062010.27287306012@smtp-relay.mailin.fr:recipient@example.com"][1:] == (
        "sent", T0, None, None, None, "tag1", None)   # the sample's 333.33.33.33 is not an address
    assert sends[f"{MID}:recipient@example.com"][1] == "delivered"
    assert sends[f"{MID}:not-a-user@example.com"][1:] == ("bounced", T0, "hard", 550, "5.5.0", "header-tag", None)
    assert sends[f"{MID}:recipient@no-mx.example.com"][1:4] == ("bounced", T0, "soft")
    assert sends[f"{MID}:notauser@example.com"][1] == "deferred"
    assert len(sends) == 5
    # proxy_open is Brevo's "loaded via proxy": a machine open, kept with its vendor flag
    assert sorted(rows(db, "SELECT message_id, ts, is_machine FROM opens"), key=str) == [
        ("201798300811.5787683@relay.domain.com:example@domain.com", datetime(2018, 8, 17, 6, 18, 2), True),
        (f"{MID}:recipient@example.com", T0, None),
    ]
    assert rows(db, "SELECT url FROM clicks") == [("https://example.com/click/me",)]
    # the `complaint` sample has only ts_event (epoch seconds)
    assert sorted(rows(db, "SELECT ts, source FROM complaints")) == [
        (T0, "brevo_fbl"), (datetime(2020, 11, 9, 14, 54, 14), "brevo_fbl")]
    assert rows(db, "SELECT recipient, action, source FROM subscriptions") == [
        ("recipient@example.com", "unsubscribe", "link")]
    c = counts(summary)
    assert c["sends"][:2] == (5, 5)
    assert c["opens"][:4] == (3, 2, 0, 1)   # opened + unique_opened of the same pixel fetch: one duplicate
    notes = "\n".join(summary.notes)
    assert "15 event(s) read from 2 file(s)" in notes
    for vtype in ("blocked", "error", "invalid_email"):
        assert f"1 {vtype} event(s) not loaded" in notes


def test_brevo_custom_metadata_and_detection(tmp_path):
    event = {"event": "delivered", "email": "Alice@Gmail.com", "ts_epoch": 1793520000000,
             "message-id": "<abc@smtp-relay.mailin.fr>",
             "X-Mailin-custom": json.dumps({"message_id": "m-1", "account_id": "acme", "list_id": "news",
                                            "campaign_id": "c-42"})}
    src = tmp_path / "in"
    src.mkdir()
    (src / "hook.json").write_text(json.dumps(event))
    assert sniff(src / "hook.json") == "brevo"
    for name in SAMPLES:
        assert sniff(fixture_dir("brevo") / name) == "brevo"
    db = tmp_path / "b.duckdb"
    ingest_paths(db, [src], input_format="auto")
    assert rows(db, "SELECT message_id, account_id, list_id, campaign_id, recipient, status FROM sends") == [
        ("m-1", "acme", "news", "c-42", "alice@gmail.com", "delivered")]


def test_brevo_bad_line_is_refused_with_its_position(tmp_path):
    src = copy_fixtures("brevo", tmp_path / "in", ["anymail-webhooks.jsonl"])
    with open(src / "anymail-webhooks.jsonl", "a") as handle:
        handle.write('{"event": "delivered", "email": \n')
    with pytest.raises(IngestRefused) as err:
        ingest_paths(tmp_path / "b.duckdb", [src], input_format="brevo")
    assert "anymail-webhooks.jsonl, line 15: not valid JSON" in str(err.value)
    assert "nothing was loaded" in str(err.value)
