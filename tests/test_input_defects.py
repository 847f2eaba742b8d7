"""Input defects seen in real exports, each on a derived sample (tests/data/defects/SOURCES.md):
each test fails on the code before its fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.test_adapters_helpers import counts, rows

from dlvstats.ingest import IngestRefused, ingest_paths
from dlvstats.ingest.canonical import DropError

DEFECTS = Path(__file__).parent / "data" / "defects"


def test_pmta_without_queue_time_or_job_keeps_each_message(tmp_path):
    """Defect 1: no timeQueued, no jobId -> two days to the same recipients were merged into one send each."""
    db = tmp_path / "pmta.duckdb"
    first = ingest_paths(db, [DEFECTS / "pmta" / "acct-2026-10-01.csv"], input_format="pmta")
    assert counts(first)["sends"] == (2, 2, 0, 0, 0)
    second = ingest_paths(db, [DEFECTS / "pmta" / "acct-2026-10-02.csv"], input_format="pmta")
    assert counts(second)["sends"] == (2, 2, 0, 0, 0)  # before the fix: (2, 0, 1, 1, 0) or duplicates
    by_status = rows(db, "SELECT status, count(*) FROM sends GROUP BY status ORDER BY status")
    assert by_status == [("bounced", 1), ("delivered", 3)]
    # the same drop again: every record is a duplicate, nothing doubles
    again = ingest_paths(db, [DEFECTS / "pmta" / "acct-2026-10-02.csv"], input_format="pmta")
    assert counts(again)["sends"] == (2, 0, 0, 2, 0)
    assert rows(db, "SELECT count(*) FROM sends") == [(4,)]


FRENCH_LEGACY = {
    "club-internet.fr": "sfr", "aliceadsl.fr": "free", "numericable.fr": "sfr", "voila.fr": "orange",
    "neuf.fr": "sfr", "9online.fr": "sfr", "cegetel.net": "sfr", "noos.fr": "sfr",
    "libertysurf.fr": "free", "tiscali.fr": "free", "worldonline.fr": "free",
}


def test_french_legacy_domains_have_their_provider(tmp_path):
    """The French ISP domains still found in old lists map to today's provider."""
    path = tmp_path / "acct.csv"
    lines = ["type,timeLogged,rcpt,jobId"]
    lines += [f"d,2026-10-01 10:00:0{i % 10}+0000,user{i}@{d},j1" for i, d in enumerate(FRENCH_LEGACY)]
    path.write_text("\n".join(lines) + "\n")
    db = tmp_path / "fr.duckdb"
    ingest_paths(db, [path], input_format="pmta")
    assert dict(rows(db, "SELECT recipient_domain, provider FROM sends")) == FRENCH_LEGACY


def test_excel_scientific_ids_are_refused_naming_the_column(tmp_path):
    """Defect 3: ids Excel rewrote as 1,23457E+16 were merged as duplicates; now refused with file, line, column."""
    drop = DEFECTS / "excel"
    with pytest.raises(IngestRefused) as refused:
        ingest_paths(tmp_path / "x.duckdb", [drop])
    message = str(refused.value)
    assert f"{drop / 'sends.csv'}, line 2" in message and f"{drop / 'sends.csv'}, line 3" in message
    assert 'message_id: "1,23457E+16" is a number in scientific notation' in message
    assert "Excel" in message


def test_postfix_local_recipient_and_forward_are_counted_and_skipped(tmp_path):
    """Defect 4: `to=<system>` refused the whole maillog; `forwarded as` counted as another send."""
    db = tmp_path / "pf.duckdb"
    summary = ingest_paths(db, [DEFECTS / "postfix" / "maillog"], input_format="postfix",
                           adapter_options={"year": 2026})
    assert sorted(r[0] for r in rows(db, "SELECT recipient FROM sends")) == ["alice@gmail.com", "bob@orange.fr"]
    assert counts(summary)["sends"] == (2, 2, 0, 0, 0)
    notes = "\n".join(summary.notes)
    assert "1 local-recipient event(s) not loaded: a local recipient without a domain" in notes
    assert "1 forwarded event(s) not loaded: a local alias forwarded as a new queue id" in notes


def test_a_date_without_time_stays_on_its_day(tmp_path):
    """Defect 5: `01/11/2026` read in Europe/Paris was 2026-10-31 23:00 UTC, so reported in October."""
    from tests.helpers import write_drop

    from dlvstats.ingest.canonical import ReadOptions

    header = ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status"]
    drop = write_drop(tmp_path / "d", {"sends": (header, [
        ["m1", "01/11/2026", "acme", "news", "c1", "a@example.com", "delivered"],
        ["m2", "01/11/2026 00:30", "acme", "news", "c1", "b@example.com", "delivered"],
        ["m3", "2026-11-01", "acme", "news", "c1", "c@example.com", "delivered"],
    ])})
    db = tmp_path / "x.duckdb"
    ingest_paths(db, [drop], timezone_name="Europe/Paris",
                 read_options=ReadOptions(date_format=("%d/%m/%Y %H:%M", "%d/%m/%Y")))
    got = dict(rows(db, "SELECT message_id, strftime(sent_at, '%Y-%m-%d %H:%M') FROM sends"))
    # a day is a day (kept at 12:00 UTC); a time of day is an instant in --timezone, as before
    assert got == {"m1": "2026-11-01 12:00", "m2": "2026-10-31 23:30", "m3": "2026-11-01 12:00"}


ID9 = "0102019a1f2e3d4c-aaaaaaaa-1111-4c1e-9d3b-000000000009-000000"


def test_arf_undisclosed_recipient_is_attributed_by_message_id(tmp_path):
    """Defect 2: `To: <Undisclosed Recipients>` (no address) refused the whole feedback-loop ingest,
    although the report's Message-ID names the send."""
    from tests.test_adapters_helpers import copy_fixtures

    db = tmp_path / "arf.duckdb"
    ingest_paths(db, [copy_fixtures("ses", tmp_path / "ses")], input_format="ses")
    summary = ingest_paths(db, [DEFECTS / "arf" / "undisclosed.eml"], input_format="arf")
    assert counts(summary) == {"complaints": (1, 1, 0, 0, 0)}
    assert rows(db, "SELECT message_id, recipient, account_id FROM complaints "
                   "WHERE drop_id = (SELECT max(drop_id) FROM drops)") == [
        ("0102019a1f2e3d4c-aaaaaaaa-1111-4c1e-9d3b-000000000001-000000", "alice@gmail.com", "acme")]


def test_arf_report_listing_two_recipients_gives_two_complaints(tmp_path):
    """Defect 2: a report with two Original-Rcpt-To fields was attributed to the first recipient only."""
    from tests.helpers import write_drop

    header = ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status"]
    drop = write_drop(tmp_path / "d", {"sends": (header, [
        [f"{ID9}:alice@gmail.com", "2026-10-01T08:00:00Z", "acme", "news", "c1", "alice@gmail.com", "delivered"],
        [f"{ID9}:bob@gmail.com", "2026-10-01T08:00:00Z", "acme", "news", "c1", "bob@gmail.com", "delivered"],
    ])})
    db = tmp_path / "two.duckdb"
    ingest_paths(db, [drop])
    summary = ingest_paths(db, [DEFECTS / "arf" / "two-recipients.eml"], input_format="arf")
    assert counts(summary) == {"complaints": (2, 2, 0, 0, 0)}
    assert rows(db, "SELECT message_id, recipient FROM complaints ORDER BY recipient") == [
        (f"{ID9}:alice@gmail.com", "alice@gmail.com"), (f"{ID9}:bob@gmail.com", "bob@gmail.com")]


def test_mailgun_internal_code_498_is_not_an_smtp_code(tmp_path):
    """Defect 6: Mailgun's 498 (no MX) is its own code, no server said it: it was stored as smtp_code."""
    db = tmp_path / "mg.duckdb"
    ingest_paths(db, [DEFECTS / "mailgun" / "failed-498.jsonl"], input_format="mailgun")
    assert rows(db, "SELECT recipient, status, bounce_class, smtp_code, bounce_reason FROM sends") == [
        ("zoe@nomx.example", "bounced", "hard", None,
         "Mailgun internal code 498 (no SMTP reply): No MX for nomx.example")]


def test_excel_sep_line_is_understood(tmp_path):
    """Defect 6: Excel's `sep=;` first line was taken for the header (missing columns); now it sets
    the separator, the header is line 2, and line numbers stay the file's own."""
    drop = DEFECTS / "excel-sep"
    with pytest.raises(IngestRefused) as refused:
        ingest_paths(tmp_path / "x.duckdb", [drop])
    # the one bad row (status "nope") is reported at its physical line, 4
    assert f"{drop / 'sends.csv'}, line 4" in str(refused.value)
    summary = ingest_paths(tmp_path / "q.duckdb", [drop], on_error="quarantine")
    assert counts(summary)["sends"] == (3, 2, 0, 0, 1)
    assert rows(tmp_path / "q.duckdb", "SELECT message_id, status FROM sends ORDER BY 1") == [
        ("m1", "delivered"), ("m3", "sent")]
    assert rows(tmp_path / "q.duckdb", "SELECT line FROM rejects") == [(4,)]
    assert any("sep=" in note for note in summary.notes)


def test_ses_sns_body_without_topicarn_and_message_escaped_twice(tmp_path):
    """Defect 6: an SNS body was recognised only by its TopicArn; its Message escaped twice must load."""
    from dlvstats.ingest.adapters import sniff

    path = DEFECTS / "ses" / "sns-body-no-topicarn.json"
    assert sniff(path) == "ses"
    db = tmp_path / "ses.duckdb"
    summary = ingest_paths(db, [path], input_format="auto")
    assert counts(summary)["sends"] == (1, 1, 0, 0, 0)
    assert rows(db, "SELECT recipient, status FROM sends") == [("frank@outlook.com", "delivered")]


def test_mailtrap_is_not_taken_for_sendgrid(tmp_path):
    """Defect 6: a Mailtrap webhook under --format auto was read as SendGrid, and the refusal told
    the user to use --format auto, which they had."""
    from dlvstats.ingest.adapters import sniff

    path = DEFECTS / "mailtrap" / "webhook.json"
    assert sniff(path) != "sendgrid"
    with pytest.raises(DropError) as refused:
        ingest_paths(tmp_path / "m.duckdb", [path], input_format="auto")
    message = str(refused.value)
    assert "Mailtrap" in message and "no adapter" in message
    assert "--format auto" not in message
    assert "sendgrid, mailgun" in message  # the formats it can read are listed


def test_auto_refusal_does_not_advise_auto(tmp_path):
    """Defect 6: a file auto-detection took for a format but which has no event of it is refused
    naming what detection chose, without advising `--format auto`."""
    import json

    path = tmp_path / "s3-via-sns.json"  # an SNS notification of an S3 event, not of SES
    path.write_text(json.dumps({"Type": "Notification", "TopicArn": "arn:aws:sns:eu-west-1:123456789012:uploads",
                                "Message": json.dumps({"Records": [{"eventSource": "aws:s3"}]})}))
    with pytest.raises(DropError) as refused:
        ingest_paths(tmp_path / "o.duckdb", [path], input_format="auto")
    message = str(refused.value)
    assert "--format auto" not in message and "detected" in message and "--format" in message


def test_auto_says_not_recognised_listing_the_formats(tmp_path):
    """A file auto-detection cannot read is 'not recognised', with the formats listed."""
    from dlvstats.ingest.adapters import FORMATS

    path = tmp_path / "export.json"
    path.write_text('[{"id": 1, "what": "a JSON export of no known ESP"}]\n')
    with pytest.raises(DropError) as refused:
        ingest_paths(tmp_path / "n.duckdb", [path], input_format="auto")
    message = str(refused.value)
    assert message.startswith("format not recognised: cannot tell the format of")
    assert all(name in message for name in FORMATS) and "--format" in message


@pytest.mark.parametrize("sep", [",", "\t", "|"])
def test_excel_sep_line_with_other_separators(tmp_path, sep):
    drop = tmp_path / "d"
    drop.mkdir()
    header = ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status"]
    row = ["m1", "2026-10-01T08:00:00Z", "acme", "news", "c1", "a@example.com", "delivered"]
    (drop / "sends.csv").write_text(f"sep={sep}\n{sep.join(header)}\n{sep.join(row)}\n")
    summary = ingest_paths(tmp_path / "s.duckdb", [drop])
    assert counts(summary)["sends"] == (1, 1, 0, 0, 0)
