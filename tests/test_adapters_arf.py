"""ARF adapter: RFC 5965 feedback reports as .eml files and an mbox (Yahoo CFL, AOL with a
redacted recipient and headers only, Return Path style, Signal Spam), Microsoft JMRP (not strict
ARF), non-abuse feedback types and non-report messages; matched to sends by own id header,
Message-ID or recipient and date."""

from __future__ import annotations

from datetime import datetime

import pytest
from tests.test_adapters_helpers import copy_fixtures, counts, fixture_dir, rows, stage

from dlvstats.ingest import IngestRefused, ingest_paths
from dlvstats.ingest.adapters import sniff

A = "0102019a1f2e3d4c-aaaaaaaa-1111-4c1e-9d3b-000000000001-000000"
C = "0102019a1f2e3d4c-cccccccc-3333-4c1e-9d3b-000000000003-000000"
F = "0102019a1f2e3d4c-ffffffff-6666-4c1e-9d3b-000000000006-000000"
G = "0102019a1f2e3d4c-99999999-7777-4c1e-9d3b-000000000007-000000"


def test_reports_matched_to_ses_sends(tmp_path):
    db = tmp_path / "arf.duckdb"
    ingest_paths(db, [copy_fixtures("ses", tmp_path / "ses")], input_format="ses")
    summary = ingest_paths(db, [copy_fixtures("arf", tmp_path / "arf")], input_format="arf")
    got = {r[1]: r for r in rows(db, "SELECT ts, message_id, recipient, account_id, source FROM complaints "
                                     "WHERE drop_id = (SELECT max(drop_id) FROM drops)")}
    # Yahoo CFL: by the original Message-ID (SES builds <id@region.amazonses.com>)
    assert got[A] == (datetime(2026, 10, 2, 7, 41, 2), A, "alice@gmail.com", "acme", "yahoo_cfl")
    # AOL, recipient redacted, original as text/rfc822-headers: by the own id header X-Message-Id
    assert got[C][2:] == ("carol@yahoo.fr", "acme", "yahoo_cfl")
    # Microsoft JMRP: no feedback-report part; unknown Message-ID: by recipient and date
    assert got[F][2:] == ("frank@outlook.com", "acme", "microsoft_jmrp")
    # Signal Spam (in the mbox)
    assert got[G][2:] == ("gus@orange.fr", "acme", "signal_spam")
    # Return Path style, redacted and unknown: kept with its Message-ID (an orphan)
    assert got["unknown-0001@mail.acme.example"][2:] == (None, None, "arf:fbl.returnpath.net")
    notes = "\n".join(summary.notes)
    assert "1 fraud event(s) not loaded: feedback type fraud is not a spam complaint" in notes
    assert "1 not a feedback report event(s) not loaded" in notes
    assert counts(summary) == {"complaints": (5, 5, 0, 0, 0)}


def test_unattributable_report_is_refused_or_quarantined(tmp_path):
    report = (fixture_dir("arf") / "aol-redacted-0002.eml").read_text()
    report = "\n".join(line for line in report.splitlines() if not line.startswith(("Message-ID", "X-Message-Id")))
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "r.eml").write_text(report)
    staged, _ = stage("arf", tmp_path / "in")
    [row] = staged["complaints"]
    assert row["__error"].startswith("the recipient is redacted and the report carries no Message-ID")
    summary = ingest_paths(tmp_path / "q.duckdb", [tmp_path / "in"], input_format="arf", on_error="quarantine")
    assert counts(summary) == {"complaints": (1, 0, 0, 0, 1)}
    assert rows(tmp_path / "q.duckdb", "SELECT line, kind FROM rejects") == [(1, "complaints")]


def test_mbox_positions():
    staged, _ = stage("arf", fixture_dir("arf") / "fbl-mailbox.mbox")
    assert [r["__line"] for r in staged["complaints"]] == [1, 52]  # the lines of their "From " separators


def test_reports_matched_to_sends_of_the_same_ingest(tmp_path):
    db = tmp_path / "one.duckdb"
    ingest_paths(db, [copy_fixtures("ses", tmp_path / "ses"), copy_fixtures("arf", tmp_path / "arf")], input_format="auto")
    matched = {r[0] for r in rows(db, "SELECT message_id FROM complaints WHERE source <> 'ses'")}
    assert {A, C, F, G} <= matched


def _public(*numbers: str) -> list:
    return [fixture_dir("arf") / "public" / f"sisimai-arf-{n}.eml" for n in numbers]


def test_public_feedback_reports(tmp_path):
    """Feedback reports of Sisimai's set-of-emails (tests/data/esp/arf/SOURCES.md): Yahoo, Amazon SES
    forwarding Yahoo's, Hotmail JMRP, Rackspace with a hashed recipient, RFC 5965 style; opt-out and
    auth-failure reports and an "unsubscribe" e-mail are not complaints."""
    paths = _public("02", "11", "12", "14", "18", "22", "25", "26")
    assert all(sniff(p) == "arf" for p in paths)
    db = tmp_path / "pub.duckdb"
    summary = ingest_paths(db, paths, input_format="arf")
    assert counts(summary) == {"complaints": (5, 5, 0, 0, 0)}
    assert sorted(rows(db, "SELECT ts, message_id, recipient, source FROM complaints"), key=str) == sorted([
        (datetime(2013, 4, 30, 7, 45), "000000000000000000000000.smtp@example.com",
         "this-local-part-does-not-exist-on-yahoo@yahoo.com", "yahoo_cfl"),
        (datetime(2006, 4, 9, 23, 34, 45), "ffffffffffffffffffffffffff0000000000@example.net", None, "arf:example.com"),
        (datetime(2017, 4, 29, 23, 34, 45), ("2222222222222222-00000000-eeee-eeee-ffff-222222222222-111111"
         "@email.amazonses.com"), "kijitora@y.example.com", "yahoo_cfl"),   # User-Agent: Yahoo!-Mail-Feedback
        (datetime(2016, 4, 29, 23, 34, 45), "0000000000fffffffff0000000000000@example.com", "kijitora@example.com",
         "microsoft_jmrp"),
        (datetime(2020, 10, 31, 18, 32, 53), None, "hashed@example.com", "arf:rackspacefbl.senderscore.net"),
    ], key=str)
    notes = "\n".join(summary.notes)
    assert "1 opt-out event(s) not loaded" in notes and "1 not a feedback report event(s) not loaded" in notes
    assert "1 auth-failure event(s) not loaded" in notes


def test_public_report_with_seven_recipients_is_staged_once_per_recipient():
    staged, _ = stage("arf", _public("16")[0])
    assert sorted(r["recipient"] for r in staged["complaints"]) == sorted([
        "kijitora@example.com", "sironeko@example.com", "mikeneko@example.com", "sabatora@example.com",
        "sirokiji@example.org", "kuroneko@example.com", "sabineko@example.com"])
    assert {r["message_id"] for r in staged["complaints"]} == {"ffffffffffffffffffffffff0000000@example.jp"}


def test_public_report_with_no_recipient_and_no_message_id_is_refused(tmp_path):
    with pytest.raises(IngestRefused, match="sisimai-arf-01.eml, line 1: the recipient is redacted and the report "
                                            "carries no Message-ID"):
        ingest_paths(tmp_path / "one.duckdb", _public("01"), input_format="arf")
