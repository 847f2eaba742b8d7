"""Mailchimp adapter: Marketing API campaign reports (email-activity, open-details, sent-to,
unsubscribed, abuse-reports, the campaign report), on the public records of Airbyte's Mailchimp
connector tests and Mailchimp's API reference, and on pages derived from them for the documents no
public sample has (tests/data/esp/mailchimp/SOURCES.md): proxy opens kept as machine opens, the
send time from the campaign report, refusals, detection."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

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


# ---------------------------------------------------------------------------------------------
# Round trip: a canonical drop written as Mailchimp's report responses (`write_as`, behind
# `dlvstats simulate --as mailchimp`) and read back; the expected rows are the canonical ones
# brought to what a campaign report carries (export.py's docstring, docs/formats/mailchimp.md).

MC_ID = "s.campaign_id || ':' || md5(s.recipient)"
WRITTEN = "s.status IN ('delivered', 'bounced')"  # a message only accepted or deferred is not listed


def test_mailchimp_round_trip_of_a_canonical_drop(tmp_path):
    from tests.helpers import write_drop
    from tests.test_adapters_roundtrip import SAMPLE

    from dlvstats.simulate.esp import write_as

    drop = write_drop(tmp_path / "canonical", SAMPLE)
    canonical, esp = tmp_path / "canonical.duckdb", tmp_path / "mc.duckdb"
    ingest_paths(canonical, [drop])
    result = write_as("mailchimp", drop, tmp_path / "mc")
    (written,) = result["files"]
    assert sniff(Path(written)) == "mailchimp"
    # the campaign report and one page each of sent-to, email-activity, open-details, abuse-reports, unsubscribed
    assert result["events"] == 6
    summary = ingest_paths(esp, [tmp_path / "mc"], input_format="mailchimp", adapter_options={"account_id": "a1"})
    assert summary.counts["sends"].loaded == 4
    # sends: one per campaign and recipient, at the campaign's send time (its earliest send, to the second)
    assert sorted(rows(canonical, f"""
        SELECT {MC_ID}, date_trunc('second', min(s.sent_at) OVER (PARTITION BY s.campaign_id)), s.account_id,
               s.list_id, s.campaign_id, s.recipient, s.status, s.bounce_class FROM sends AS s WHERE {WRITTEN}""")) \
        == sorted(rows(esp, "SELECT message_id, sent_at, account_id, list_id, campaign_id, recipient, status, "
                            "bounce_class FROM sends"))
    # opens and clicks of the listed messages: time to the second, IP, URL; the machine flag where
    # the canonical row has one (open-details' is_proxy_open); no user agent
    for sql_c, sql_e in (
        (f"SELECT {MC_ID}, date_trunc('second', o.ts), o.ip, o.is_machine FROM opens AS o JOIN sends AS s USING (message_id) WHERE {WRITTEN}",
         "SELECT message_id, ts, ip, is_machine FROM opens"),
        (f"SELECT {MC_ID}, date_trunc('second', k.ts), k.url, k.ip FROM clicks AS k JOIN sends AS s USING (message_id) WHERE {WRITTEN}",
         "SELECT message_id, ts, url, ip FROM clicks"),
    ):
        expected = sorted(rows(canonical, sql_c))
        assert expected and expected == sorted(rows(esp, sql_e)), sql_e
    assert rows(esp, "SELECT count(*) FROM opens WHERE user_agent IS NOT NULL") == [(0,)]
    # complaints from the feedback loops become abuse reports of their message; the others stay canonical files
    relayed = f"c.source IN ('yahoo_cfl', 'microsoft_jmrp') AND {WRITTEN}"
    expected = rows(canonical, f"SELECT {MC_ID}, c.ts, 'mailchimp_abuse' FROM complaints AS c JOIN sends AS s "
                               f"USING (message_id) WHERE {relayed}") + rows(
        canonical, f"SELECT c.message_id, c.ts, c.source FROM complaints AS c WHERE c.event_key NOT IN "
                   f"(SELECT c.event_key FROM complaints AS c JOIN sends AS s USING (message_id) WHERE {relayed})")
    assert len(expected) == 3
    assert sorted(expected, key=repr) == sorted(rows(esp, "SELECT message_id, ts, source FROM complaints"), key=repr)
    for kind in ("subscriptions", "campaigns", "orders"):
        sql = f"SELECT * EXCLUDE (drop_id) FROM {kind}"
        assert sorted(rows(canonical, sql), key=repr) == sorted(rows(esp, sql), key=repr), kind


def test_simulate_as_mailchimp(tmp_path, capsys):
    from dlvstats import cli

    target = tmp_path / "sim"
    assert cli.main(["simulate", "--out", str(target), "--seed", "3", "--contacts", "120", "--months", "1",
                     "--end-month", "2026-10", "--as", "mailchimp", "--quiet"]) == 0
    assert "drops-mailchimp" in capsys.readouterr().out
    (month,) = sorted((target / "drops-mailchimp").iterdir())
    summary = ingest_paths(tmp_path / "mc.duckdb", [month], input_format="auto")
    canonical = ingest_paths(tmp_path / "canonical.duckdb", [target / "drops" / month.name])
    assert 0 < summary.counts["sends"].loaded <= canonical.counts["sends"].loaded
    assert 0 < summary.counts["opens"].loaded <= canonical.counts["opens"].loaded
    # machine flags travel as they are (open-details is written only for opens that have one)
    flags = "SELECT is_machine, count(*) FROM opens GROUP BY ALL ORDER BY ALL"
    assert rows(tmp_path / "mc.duckdb", flags) == rows(tmp_path / "canonical.duckdb", flags)
