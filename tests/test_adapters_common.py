"""What every ESP/MTA adapter shares: format sniffing (`auto`), canonical files beside ESP data,
refusal of malformed payloads with file and position (or quarantine), wrong or unknown formats,
and the notes that account for events with no canonical meaning."""

from __future__ import annotations

import json

import pytest
from tests.helpers import write_csv
from tests.test_adapters_helpers import (
    copy_fixtures,
    counts,
    derived_files,
    fixture_dir,
    public_files,
    rows,
    stage,
)

from dlvstats.ingest import DropError, IngestRefused, ingest_paths
from dlvstats.ingest.adapters import sniff


@pytest.mark.parametrize("fmt", ["ses", "sendgrid", "mailgun", "postmark", "pmta", "arf", "postfix", "brevo",
                                 "mailjet", "mandrill", "sparkpost", "exim", "mailchimp"])
def test_every_fixture_is_sniffed_as_its_format(fmt):
    for path in derived_files(fmt) + public_files(fmt):
        assert sniff(path) == fmt, path


def test_auto_reads_a_mixed_drop_with_canonical_files(tmp_path):
    drop = tmp_path / "drop"
    copy_fixtures("sendgrid", drop / "sendgrid")
    copy_fixtures("pmta", drop / "pmta")
    write_csv(drop / "campaigns.csv", ["campaign_id", "account_id", "list_id", "sent_at", "kind"],
              [["autumn-2026", "acme", "newsletter", "2026-10-01T08:00:00Z", "regular"]])
    write_csv(drop / "orders" / "part-1.csv", ["ts", "account_id", "recipient", "order_id", "amount"],
              [["2026-10-02T08:00:00Z", "acme", "alice@gmail.com", "o-1", "12.50"]])
    db = tmp_path / "d.duckdb"
    summary = ingest_paths(db, [drop], input_format="auto")
    got = counts(summary)
    assert got["campaigns"] == (1, 1, 0, 0, 0) and got["orders"] == (1, 1, 0, 0, 0)
    assert got["sends"] == (20, 13, 0, 7, 0)  # 11 SendGrid + 9 PowerMTA delivery-status events
    assert any("canonical file(s) read beside" in n for n in summary.notes)
    assert rows(db, "SELECT input_format FROM drops") == [("auto",)]


def test_unknown_file_in_auto_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("hello\n")
    with pytest.raises(DropError, match="cannot tell the format of .*notes.txt.*--format"):
        stage("auto", tmp_path)


def test_unknown_format_and_wrong_format(tmp_path):
    with pytest.raises(DropError, match="unknown input format 'lettermint'"):
        stage("lettermint", fixture_dir("ses"))
    with pytest.raises(DropError, match="does not look like SparkPost data"):
        stage("sparkpost", fixture_dir("ses"))
    with pytest.raises(DropError, match="does not look like SES data"):
        stage("ses", fixture_dir("sendgrid") / "webhook-posts.jsonl")


def test_malformed_json_line_is_refused_with_its_line_or_quarantined(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    lines = (fixture_dir("ses") / "firehose-2026-10-01-08.jsonl").read_text().splitlines()
    lines.insert(3, lines[3][:40])  # a truncated record on line 4
    (src / "events.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(IngestRefused) as refused:
        ingest_paths(tmp_path / "r.duckdb", [src], input_format="ses")
    assert f"{src / 'events.jsonl'}, line 4: not valid JSON" in str(refused.value)
    summary = ingest_paths(tmp_path / "q.duckdb", [src], input_format="ses", on_error="quarantine")
    assert summary.counts["sends"].rejected == 1 and summary.counts["sends"].loaded == 3
    assert rows(tmp_path / "q.duckdb", "SELECT line, reason FROM rejects") == [(4, "not valid JSON")]


def test_broken_json_document_is_refused_with_line_and_column(tmp_path):
    text = (fixture_dir("ses") / "sns-http-delivery.json").read_text()
    bad = tmp_path / "envelope.json"
    bad.write_text(text.replace('"TopicArn":', '"TopicArn"', 1))
    with pytest.raises(DropError) as refused:
        ingest_paths(tmp_path / "x.duckdb", [bad], input_format="ses")
    assert f"{bad}, line 4, column" in str(refused.value)
    assert not (tmp_path / "x.duckdb").exists() or rows(tmp_path / "x.duckdb", "SELECT count(*) FROM sends") == [(0,)]


def test_event_without_required_values_is_refused_with_position(tmp_path):
    path = tmp_path / "batch.json"
    path.write_text(json.dumps([
        {"email": "a@b.example", "timestamp": 1790841600, "event": "delivered", "sg_message_id": "x.filter0.0"},
        {"email": "not an address", "timestamp": "yesterday", "event": "bounce", "sg_message_id": "y.filter0.0", "type": "bounce"},
        {"event": "some_new_event", "timestamp": 1790841600},
    ]))
    with pytest.raises(IngestRefused) as refused:
        ingest_paths(tmp_path / "x.duckdb", [path], input_format="sendgrid")
    message = str(refused.value)
    assert f"{path}, line 2: event time \"yesterday\" is not an ISO 8601 timestamp or an epoch" in message
    assert "recipient" in message and "line 1" not in message


def test_bom_blank_lines_and_crlf(tmp_path):
    body = (fixture_dir("sendgrid") / "webhook-posts.jsonl").read_text().splitlines()
    path = tmp_path / "posts.jsonl"
    path.write_bytes(("\ufeff" + body[0] + "\r\n\r\n" + "\r\n".join(body[1:]) + "\r\n").encode())
    staged, result = stage("sendgrid", path)
    assert [r["__line"] for r in staged["sends"]] == [1, 1, 3, 4]
    assert result.errors == {}
