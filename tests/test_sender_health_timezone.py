"""Sender health's days and months are cut in the reporting time zone: a
message sent on 1 November 00:30 in Paris (31 October 23:30 UTC) is in November's bucket and in
1 November's day in Europe/Paris, in October's in UTC."""

from __future__ import annotations

from datetime import datetime

import pytest
from tests.helpers import write_drop

from dlvstats.ingest import ingest_paths
from dlvstats.metrics.sender_health import bounce_categories, sender_health

HEADER = ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status", "bounce_class",
          "smtp_code", "bounce_reason"]


@pytest.fixture
def db(tmp_path):
    drop = write_drop(tmp_path / "d", {"sends": (HEADER, [
        ["m-oct", "2026-10-31T12:00:00+01:00", "acme", "news", "c1", "a@example.com", "delivered", "", "", ""],
        ["m-nov", "2026-11-01T00:30:00+01:00", "acme", "news", "c1", "b@example.com", "bounced", "hard", "550",
         "550 5.1.1 user unknown"],
        ["m-nov2", "2026-11-02T10:00:00+01:00", "acme", "news", "c1", "c@example.com", "delivered", "", "", ""],
    ])})
    path = tmp_path / "h.duckdb"
    ingest_paths(path, [drop])
    return path


def _cells(frame):
    return {(row.period_start.to_pydatetime(), row.period_end.to_pydatetime()): int(row.sends)
            for row in frame.itertuples()}


def test_months_cut_in_paris(db):
    start, end = datetime(2026, 9, 30, 22), datetime(2026, 11, 30, 23)  # October and November in Paris
    paris = sender_health(db, start, end, by="all", grain="month", timezone="Europe/Paris")
    assert _cells(paris) == {(datetime(2026, 9, 30, 22), datetime(2026, 10, 31, 23)): 1,
                             (datetime(2026, 10, 31, 23), datetime(2026, 11, 30, 23)): 2}
    utc = sender_health(db, start, end, by="all", grain="month")
    assert _cells(utc) == {(datetime(2026, 10, 1), datetime(2026, 11, 1)): 2,
                           (datetime(2026, 11, 1), datetime(2026, 11, 30, 23)): 1}


def test_days_cut_in_paris(db):
    start, end = datetime(2026, 10, 31, 23), datetime(2026, 11, 2, 23)
    paris = sender_health(db, start, end, by="all", grain="day", timezone="Europe/Paris")
    assert _cells(paris) == {(datetime(2026, 10, 31, 23), datetime(2026, 11, 1, 23)): 1,
                             (datetime(2026, 11, 1, 23), datetime(2026, 11, 2, 23)): 1}
    bounces = bounce_categories(db, start, end, by="all", grain="day", timezone="Europe/Paris")
    assert [(r.period_start.to_pydatetime(), int(r.bounces)) for r in bounces.itertuples()] == [
        (datetime(2026, 10, 31, 23), 1)]


def test_an_unknown_zone_is_refused(db):
    with pytest.raises(ValueError, match="'Europe/Pariss' is not a time zone name"):
        sender_health(db, datetime(2026, 11, 1), datetime(2026, 12, 1), grain="day", timezone="Europe/Pariss")


def test_metrics_cli_cuts_days_in_the_report_timezone(db, capsys):
    from dlvstats.cli import main

    code = main(["metrics", "sender-health", "--db", str(db), "--from", "2026-11-01", "--to", "2026-11-03",
                 "--report-timezone", "Europe/Paris", "--option", "by=all", "--option", "grain=day",
                 "--format", "csv"])
    assert code == 0
    out = capsys.readouterr().out
    assert "2026-10-31 23:00:00" in out and "2026-11-01 23:00:00" in out
