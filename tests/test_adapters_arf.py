"""ARF adapter: RFC 5965 feedback reports as .eml files and an mbox (Yahoo CFL, AOL with a
redacted recipient and headers only, Return Path style, Signal Spam), Microsoft JMRP (not strict
ARF), non-abuse feedback types and non-report messages; matched to sends by own id header,
Message-ID or recipient and date."""

from __future__ import annotations

from datetime import datetime

from tests.test_adapters_helpers import copy_fixtures, counts, fixture_dir, rows, stage

from dlvstats.ingest import ingest_paths

A = "0102019a1f2e3d4c-aaaaaaaa-1111-4c1e-9d3b-000000000001-000000"
C = "0102019a1f2e3d4c-cccccccc-3333-4c1e-9d3b-000000000003-000000"
F = "0102019a1f2e3d4c-ffffffff-6666-4c1e-9d3b-000000000006-000000"
G = "0102019a1f2e3d4c-99999999-7777-4c1e-9d3b-000000000007-000000"


def test_reports_matched_to_ses_sends(tmp_path):
    db = tmp_path / "arf.duckdb"
    ingest_paths(db, [copy_fixtures("ses", tmp_path / "ses")], input_format="ses")
    summary = ingest_paths(db, [fixture_dir("arf")], input_format="arf")
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
    ingest_paths(db, [copy_fixtures("ses", tmp_path / "ses"), fixture_dir("arf")], input_format="auto")
    matched = {r[0] for r in rows(db, "SELECT message_id FROM complaints WHERE source <> 'ses'")}
    assert {A, C, F, G} <= matched
