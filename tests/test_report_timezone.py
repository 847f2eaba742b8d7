"""The reporting time zone: days and months cut in Europe/Paris, not UTC.

A message sent at 2026-11-01 00:30 Paris time (2026-10-31 23:30 UTC) belongs to November in a
Europe/Paris report and to October in a UTC one, in the metrics, the metrics CLI and the report's
month bounds."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import datetime

import pandas as pd
import pytest
from tests.helpers import write_drop

from dlvstats.ingest import ingest_paths
from dlvstats.metrics.common import Period
from dlvstats.metrics.headlines import headline_rates
from dlvstats.report import MetricRun, month_bounds

HEADER = ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status"]


@pytest.fixture
def paris_db(tmp_path):
    drop = write_drop(tmp_path / "d", {"sends": (HEADER, [
        ["m-oct", "2026-10-31T23:30:00+01:00", "acme", "news", "c1", "a@example.com", "delivered"],
        ["m-nov", "2026-11-01T00:30:00+01:00", "acme", "news", "c1", "b@example.com", "delivered"],
        ["m-dec", "2026-12-01T00:30:00+01:00", "acme", "news", "c1", "c@example.com", "delivered"],
    ])})
    db = tmp_path / "tz.duckdb"
    ingest_paths(db, [drop])
    return db


def test_month_bounds_in_paris():
    assert month_bounds("2026-11", "Europe/Paris") == (datetime(2026, 10, 31, 23), datetime(2026, 11, 30, 23))
    assert month_bounds("2026-07", "Europe/Paris") == (datetime(2026, 6, 30, 22), datetime(2026, 7, 31, 22))
    assert month_bounds("2026-11") == (datetime(2026, 11, 1), datetime(2026, 12, 1))
    assert Period.month("2026-11", "Europe/Paris") == Period(datetime(2026, 10, 31, 23), datetime(2026, 11, 30, 23))
    with pytest.raises(ValueError, match="not a time zone name"):
        Period.month("2026-11", "Europe/Pariss")


def test_a_paris_month_counts_the_0030_message_in_november(paris_db):
    paris = MetricRun(paris_db, None, "Europe/Paris").table(headline_rates, "2026-11")
    utc = MetricRun(paris_db, None).table(headline_rates, "2026-11")
    assert int(paris["delivered"].iloc[0]) == 1  # m-nov (m-dec is 1 December 00:30 in Paris)
    assert int(utc["delivered"].iloc[0]) == 1  # m-dec (2026-11-30 23:30 UTC); m-nov is 2026-10-31 23:30 UTC

    def delivered(month, tz="UTC"):
        value = MetricRun(paris_db, None, tz).table(headline_rates, month)["delivered"].iloc[0]
        return 0 if pd.isna(value) else int(value)  # a month without sends: NA, not 0

    assert (delivered("2026-10", "Europe/Paris"), delivered("2026-10")) == (1, 2)  # m-oct | m-oct, m-nov
    assert (delivered("2026-12", "Europe/Paris"), delivered("2026-12")) == (1, 0)  # m-dec | none


def test_metrics_cli_report_timezone(paris_db):
    def delivered(*extra):
        out = subprocess.run(
            [sys.executable, "-m", "dlvstats.cli", "metrics", "engagement-by-age", "--db", str(paris_db),
             "--from", "2026-11-01", "--to", "2026-12-01", "--format", "csv", *extra],
            capture_output=True, text=True, check=True).stdout
        frame = pd.read_csv(io.StringIO(out))
        return int(frame["delivered"].sum())

    assert delivered("--report-timezone", "Europe/Paris") == 1  # m-nov
    assert delivered() == 1  # m-dec
    bad = subprocess.run(
        [sys.executable, "-m", "dlvstats.cli", "metrics", "engagement-by-age", "--db", str(paris_db),
         "--from", "2026-11-01", "--to", "2026-12-01", "--report-timezone", "Mars/Olympus"],
        check=False, capture_output=True, text=True)
    assert bad.returncode == 2 and "not a time zone name" in bad.stderr


def test_the_reports_daily_sender_health_is_cut_in_its_zone(tmp_path):
    """The report's own tables (MetricRun) hand the zone to every metric that cuts days, and the
    sender-health notebook declares the parameter the report fills: 00:30 and 01:30 Paris time on
    1 November are one Paris day, but two UTC days."""
    import json
    from pathlib import Path

    from dlvstats.metrics.sender_health import sender_health
    from dlvstats.report import declared_parameters

    drop = write_drop(tmp_path / "d", {"sends": (HEADER, [
        ["m-1", "2026-11-01T00:30:00+01:00", "acme", "news", "c1", "a@example.com", "delivered"],
        ["m-2", "2026-11-01T01:30:00+01:00", "acme", "news", "c1", "b@example.com", "delivered"],
    ])})
    db = tmp_path / "days.duckdb"
    ingest_paths(db, [drop])

    def days(run):
        frame = run.table(sender_health, "2026-11", by="all", grain="day")
        return {pd.Timestamp(r.period_start): int(r.delivered) for r in frame.itertuples() if r.delivered}

    assert days(MetricRun(db, None, "Europe/Paris")) == {pd.Timestamp("2026-10-31 23:00"): 2}
    notebook = Path(__file__).resolve().parent.parent / "notebooks" / "04_sender_health.ipynb"
    assert "report_timezone" in declared_parameters(notebook)
    source = "".join("".join(c["source"]) for c in json.loads(notebook.read_text())["cells"])
    assert source.count("timezone=report_timezone") >= 4
