"""Exim adapter: a Debian-style mainlog (tests/data/esp/exim/SOURCES.md): deliveries in one SMTP
transaction, a permanent failure, a deferral later delivered, the bounce message Exim generates,
a local delivery; auto-detection; a file that is not a mainlog."""

from __future__ import annotations

from datetime import datetime

import pytest
from tests.test_adapters_helpers import counts, fixture_dir, rows

from dlvstats.ingest import ingest_paths
from dlvstats.ingest.adapters import sniff
from dlvstats.ingest.canonical import DropError

MID = "20261001080000.1@mail.acme.example"


def test_mainlog_to_sends(tmp_path):
    log = fixture_dir("exim") / "mainlog"
    assert sniff(log) == "exim"
    db = tmp_path / "exim.duckdb"
    summary = ingest_paths(db, [log], input_format="auto", timezone_name="Europe/Paris",
                           adapter_options={"account_id": "acme", "list_id": "news", "campaign_id": "autumn"})
    got = {r[0]: r[1:] for r in rows(db, "SELECT recipient, message_id, sent_at, status, delivered_at, bounce_class, "
                                         "smtp_code, enhanced_status, sending_ip, sending_domain, account_id FROM sends")}
    sent = datetime(2026, 10, 1, 6, 0)  # 08:00 Paris (CEST) = 06:00 UTC
    assert got["alice@gmail.com"] == (f"{MID}:alice@gmail.com", sent, "delivered", datetime(2026, 10, 1, 6, 0, 1),
                                      None, None, None, "203.0.113.25", "mail.acme.example", "acme")
    assert got["bob@gmail.com"][2] == "delivered"  # `->`: another recipient of the same delivery
    assert got["carol@corp.example"][2:7] == ("bounced", None, "hard", 550, "5.1.1")
    assert got["dora@yahoo.fr"][2:4] == ("delivered", datetime(2026, 10, 1, 7, 10, 3))  # deferred, then delivered
    # not sends: the bounce message Exim generated (sender <>), the local delivery to root
    assert set(got) == {"alice@gmail.com", "bob@gmail.com", "carol@corp.example", "dora@yahoo.fr"}
    assert counts(summary)["sends"] == (5, 4, 0, 1, 0)  # dora's deferral and delivery: one message
    notes = "\n".join(summary.notes)
    assert "1 bounce-message event(s) not loaded: a delivery of a bounce message Exim generated" in notes
    assert "1 local-recipient event(s) not loaded" in notes


def test_not_a_mainlog_is_refused(tmp_path):
    path = tmp_path / "mainlog"
    path.write_text("hello\nworld\n")
    with pytest.raises(DropError, match="none of its 2 line\\(s\\) is an Exim mainlog line"):
        ingest_paths(tmp_path / "x.duckdb", [path], input_format="exim")
