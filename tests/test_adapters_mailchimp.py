"""Mailchimp adapter: Marketing API campaign reports (email-activity, open-details, sent-to,
unsubscribed, abuse-reports, the campaign report), on the public records of Airbyte's Mailchimp
connector tests and Mailchimp's API reference, and on pages derived from them for the documents no
public sample has (tests/data/esp/mailchimp/SOURCES.md): proxy opens kept as machine opens, the
send time from the campaign report, refusals, detection."""

from __future__ import annotations

import json
import shutil
from datetime import datetime

import pytest
from tests.test_adapters_helpers import by_key, copy_fixtures, counts, fixture_dir, rows

from dlvstats.ingest import DropError, ingest_paths
from dlvstats.ingest.adapters import sniff
from dlvstats.ingest.core import IngestRefused

PUBLIC = ["airbyte-email-activity.json", "airbyte-unsubscribed.json", "airbyte-report.json",
          "mailchimp-docs-abuse-report.json"]
JOE = "7847cdaeff:11273c9a5dc6ae6c5aaccfb77b2addfb"  # campaign : Mailchimp's subscriber hash
THOMAS = "7847cdaeff:458f50b08c829a8ab901d3f8f88df914"


def test_mailchimp_public_samples(tmp_path):
    src = copy_fixtures("mailchimp", tmp_path / "in", PUBLIC)
    db = tmp_path / "mc.duckdb"
    summary = ingest_paths(db, [src], input_format="mailchimp")
    # email-activity's open: the message is the campaign and the subscriber hash (Mailchimp's email_id)
    assert rows(db, "SELECT message_id, ts, ip, user_agent, is_machine FROM opens") == [
        (JOE, datetime(2023, 11, 6, 20, 17, 57), "74.125.212.231", None, None)]
    assert rows(db, "SELECT ts, list_id, recipient, action, source, campaign_id FROM subscriptions") == [
        (datetime(2023, 11, 6, 20, 18, 1), "16d6ec4ffc", "airbytemailchimpuser@gmail.com", "unsubscribe", "link",
         "7847cdaeff")]
    assert rows(db, "SELECT ts, message_id, recipient, source FROM complaints") == [
        (datetime(2015, 7, 15, 19, 19, 31), "839488a60b:62eeb292278cc15f5817cb78f7790b08",
         "urist.mcvankab@freddiesjokes.com", "mailchimp_abuse")]
    # no sent-to page: no sends; the campaign report is read for its send time, counted, not loaded
    assert rows(db, "SELECT count(*) FROM sends") == [(0,)]
    assert counts(summary) == {"opens": (1, 1, 0, 0, 0), "subscriptions": (1, 1, 0, 0, 0),
                               "complaints": (1, 1, 0, 0, 0)}
    notes = "\n".join(summary.notes)
    assert "4 event(s) read from 4 file(s)" in notes
    assert "1 campaign report event(s) not loaded" in notes


def test_mailchimp_sends_and_proxy_opens(tmp_path):
    src = copy_fixtures("mailchimp", tmp_path / "in", ["airbyte-email-activity.json"])
    shutil.copytree(fixture_dir("mailchimp") / "derived", src / "derived")
    db = tmp_path / "mc.duckdb"
    summary = ingest_paths(db, [src], input_format="auto")
    sent = datetime(2023, 11, 6, 20, 10)  # the campaign report's send_time
    assert by_key(db, "SELECT message_id, sent_at, status, delivered_at, bounce_class, list_id, campaign_id, "
                      "recipient FROM sends") == {
        JOE: (JOE, sent, "delivered", None, None, "16d6ec4ffc", "7847cdaeff", "airbytemailchimpuser@gmail.com"),
        THOMAS: (THOMAS, sent, "bounced", None, "hard", "16d6ec4ffc", "7847cdaeff", "integration-test+thomas@airbyte.io"),
    }
    # the open listed by email-activity and open-details is one open, with the ip of the first and
    # the proxy flag of the second; open-details' other open is a proxy open of its own
    assert rows(db, "SELECT ts, ip, is_machine, actor_rule FROM opens ORDER BY ts") == [
        (datetime(2023, 11, 6, 20, 17, 57), "74.125.212.231", True, "vendor_flag"),
        (datetime(2023, 11, 6, 20, 40), None, True, "vendor_flag"),
    ]
    assert counts(summary)["opens"] == (2, 2, 0, 0, 0)
    notes = "\n".join(summary.notes)
    assert "1 open-details open event(s) not loaded: the same open as listed by email-activity" in notes


def test_mailchimp_sent_to_without_its_report_is_refused(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(fixture_dir("mailchimp") / "derived" / "sent-to.json", src / "sent-to.json")
    with pytest.raises(IngestRefused) as err:
        ingest_paths(tmp_path / "a.duckdb", [src], input_format="mailchimp")
    assert 'sent-to.json, line 1: no send time for campaign "7847cdaeff"' in str(err.value)
    assert "GET /reports/{campaign_id}" in str(err.value)
    summary = ingest_paths(tmp_path / "b.duckdb", [src], input_format="mailchimp", on_error="quarantine")
    assert counts(summary)["sends"] == (2, 0, 0, 0, 2)
    assert rows(tmp_path / "b.duckdb", "SELECT line FROM rejects ORDER BY line") == [(1,), (2,)]


def test_mailchimp_detection_and_unknown_documents(tmp_path):
    for name in PUBLIC:
        assert sniff(fixture_dir("mailchimp") / name) == "mailchimp", name
    for name in ("report.json", "sent-to.json", "open-details.json"):
        assert sniff(fixture_dir("mailchimp") / "derived" / name) == "mailchimp", name
    src = tmp_path / "in"
    src.mkdir()
    # a Mailchimp document that is no campaign report (a list's members) is not read as one
    (src / "members.json").write_text(json.dumps({"list_id": "16d6ec4ffc", "list_is_active": True,
                                                   "total_items": 0, "stats": {}}))
    with pytest.raises(DropError, match=r"members.json: format detected as Mailchimp, but none of its records"):
        ingest_paths(tmp_path / "c.duckdb", [src], input_format="auto")
