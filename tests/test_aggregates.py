"""The monthly aggregates: refreshed at ingest to what a full rebuild gives, and the metrics read from
them give the tables they give from raw messages.

- Refresh: after every monthly drop (late events, settled deferrals and complaints put earlier months
  in scope again), after a hand-built drop aimed at an already-aggregated month, and after a
  reclassification under other rules, each aggregate table equals a full rebuild row for row.
- Metrics: on simulated data, sender health (every dimension, grain and account scope), the headline
  rates and the 12-month trend give the same table from the aggregates as from raw messages (counts
  exact, rates within 1e-9), in UTC and in Europe/Paris; periods the aggregates cannot serve read
  raw messages (and a forced ``source="aggregates"`` says why).
- Report: the summary's CSV tables of a month are identical from a database with aggregates and
  from the same database without them.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import replace

import duckdb
import pandas as pd
import pytest

from dlvstats import aggregates, export
from dlvstats.classify import DEFAULT_RULES, classify
from dlvstats.ingest import ingest_paths
from dlvstats.metrics import headlines as hl
from dlvstats.metrics import sender_health as sh
from dlvstats.metrics.common import Period
from helpers import assert_same_table, write_drop

KEYS = {
    "agg_health_cells": "month_start, scope_account, dimension, dimension_value, grain, period_start",
    "agg_health_routes": "month_start, account_id, provider, sending_ip, sending_domain, day",
    "agg_headline_month": "month_start, account_id",
}


def _aggregate_differences(db_path) -> dict[str, tuple[int, int, int]]:
    """Per table: (rows, rows only in the refreshed table, rows only in a full rebuild)."""
    con = duckdb.connect(str(db_path))
    try:
        con.execute("BEGIN TRANSACTION")
        for table in aggregates.TABLES:
            con.execute(f"CREATE TEMP TABLE __refreshed_{table} AS SELECT * FROM {table}")
        aggregates.rebuild(con)
        out = {}
        for table in aggregates.TABLES:
            rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            only_refreshed = con.execute(
                f"SELECT count(*) FROM (SELECT * FROM __refreshed_{table} EXCEPT ALL SELECT * FROM {table})"
            ).fetchone()[0]
            only_rebuilt = con.execute(
                f"SELECT count(*) FROM (SELECT * FROM {table} EXCEPT ALL SELECT * FROM __refreshed_{table})"
            ).fetchone()[0]
            out[table] = (rows, only_refreshed, only_rebuilt)
        con.execute("ROLLBACK")
        return out
    finally:
        con.close()


def _assert_refresh_is_rebuild(db_path, when: str) -> None:
    for table, (rows, only_refreshed, only_rebuilt) in _aggregate_differences(db_path).items():
        assert rows > 0, f"{table} empty {when}"
        assert (only_refreshed, only_rebuilt) == (0, 0), f"{table} {when}"


@pytest.fixture
def refreshed_months(monkeypatch):
    """The months each refresh rebuilt, in call order (full builds marked)."""
    calls: list[tuple[bool, list]] = []
    original = aggregates.refresh

    def recording(con, all_months=False, timezone=None):
        months = original(con, all_months=all_months, timezone=timezone)
        calls.append((all_months, months))
        return months

    monkeypatch.setattr(aggregates, "refresh", recording)
    return calls


@pytest.fixture(scope="module")
def monthly(tmp_path_factory):
    from dlvstats.simulate import simulate

    root = tmp_path_factory.mktemp("agg_monthly")
    simulate(root / "sim", seed=3, contacts=3000, months=4, end_month="2026-10", fmt="csv")
    return sorted((root / "sim" / "drops").iterdir()), root


def test_monthly_ingests_refresh_to_the_full_rebuild(monthly, tmp_path, refreshed_months):
    drops, _ = monthly
    db_path = tmp_path / "monthly.duckdb"
    for index, drop in enumerate(drops):
        refreshed_months.clear()
        ingest_paths(db_path, [drop])
        assert [full for full, _ in refreshed_months] == [index == 0], drop.name
        _assert_refresh_is_rebuild(db_path, f"after {drop.name}")
    # the last drop's late events reached back: it refreshed an earlier month than its own
    _, months = refreshed_months[-1]
    assert len(months) >= 2 and min(months) < max(months), months


def test_a_reclassification_rebuilds_the_aggregates(monthly, tmp_path):
    drops, _ = monthly
    db_path = tmp_path / "reclassified.duckdb"
    ingest_paths(db_path, drops)
    period = ("2026-09-01", "2026-10-01")
    before = hl.headline_trend(db_path, "2026-07-01", "2026-11-01", source="aggregates")
    # Apple's proxy fetches unrecognised: their opens turn human
    rules = replace(DEFAULT_RULES, name="no MPP rule", mpp_user_agent="(none)", mpp_by_ip=False)
    con = duckdb.connect(str(db_path))
    try:
        classify(con, rules)
    finally:
        con.close()
    _assert_refresh_is_rebuild(db_path, "after the reclassification")
    after = hl.headline_trend(db_path, "2026-07-01", "2026-11-01", source="aggregates")
    assert (after["openers"] == before["openers"]).all()  # every open is still an open
    assert (after["human_openers"] > before["human_openers"]).all()  # and more of them human
    assert_same_table(after, hl.headline_trend(db_path, "2026-07-01", "2026-11-01", source="raw"))
    assert_same_table(sh.sender_health(db_path, *period, by="provider", grain="day", source="aggregates"),
                      sh.sender_health(db_path, *period, by="provider", grain="day", source="raw"))


SENDS = ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status",
         "delivered_at", "bounce_class", "sending_ip"]
COMPLAINTS = ["ts", "message_id", "recipient", "account_id", "source"]


def test_a_late_complaint_refreshes_its_old_month(tmp_path, refreshed_months):
    """Drop 1 mails ann and bob in September and October; drop 2 is only a complaint, in November,
    about ann's September message: September's cells gain it, October's do not change."""
    db_path = tmp_path / "late.duckdb"
    ingest_paths(db_path, [write_drop(tmp_path / "d1", {"sends": (SENDS, [
        ["m1", "2026-09-10T08:00:00Z", "acct", "L", "c1", "ann@yahoo.com", "delivered", "2026-09-10T08:00:05Z", None, "192.0.2.1"],
        ["m2", "2026-10-10T08:00:00Z", "acct", "L", "c2", "ann@yahoo.com", "delivered", "2026-10-10T08:00:05Z", None, "192.0.2.1"],
        ["m3", "2026-10-11T08:00:00Z", "acct", "L", "c2", "bob@gmail.com", "bounced", None, "hard", "192.0.2.2"],
    ])})])
    october_before = sh.sender_health(db_path, "2026-10-01", "2026-11-01", by="all", grain="day", source="aggregates")
    refreshed_months.clear()
    ingest_paths(db_path, [write_drop(tmp_path / "d2", {"complaints": (COMPLAINTS, [
        ["2026-11-02T10:00:00Z", "m1", "ann@yahoo.com", "acct", "fbl"]])})])
    assert [months for _, months in refreshed_months] == [[Period.month("2026-09").start]]
    _assert_refresh_is_rebuild(db_path, "after the late complaint")
    september = sh.sender_health(db_path, "2026-09-01", "2026-10-01", by=["all", "provider"], grain="period",
                                 source="aggregates")
    assert september.set_index(["dimension", "dimension_value"])["complaints_fbl"].to_dict() == {
        ("all", "all"): 1, ("provider", "yahoo"): 1}
    assert_same_table(sh.sender_health(db_path, "2026-10-01", "2026-11-01", by="all", grain="day",
                                       source="aggregates"), october_before)
    assert_same_table(september, sh.sender_health(db_path, "2026-09-01", "2026-10-01", by=["all", "provider"],
                                                  grain="period", source="raw"))


# --------------------------------------------------------------------------------------------------
# The metrics from aggregates against raw messages, on the demo-sized simulation

def _both(func, *args, **options):
    return func(*args, source="aggregates", **options), func(*args, source="raw", **options)


@pytest.mark.parametrize("grain", ["day", "week", "month", "period"])
def test_sender_health_from_aggregates_is_the_raw_table(sim, grain):
    accounts = [None, duckdb.connect(str(sim.db_path), read_only=True).execute(
        "SELECT min(account_id) FROM sends").fetchone()[0]]
    for account_id in accounts:
        got, want = _both(sh.sender_health, sim.db_path, "2026-10-01", "2026-11-01", account_id,
                          by=list(sh.DIMENSIONS), grain=grain)
        assert set(want["dimension"]) == set(sh.DIMENSIONS)
        assert_same_table(got, want)
    if grain in ("day", "month"):  # several months: these grains keep persons within a month
        assert_same_table(*_both(sh.sender_health, sim.db_path, "2026-05-01", "2026-11-01", by="account", grain=grain))


def test_headlines_from_aggregates_are_the_raw_tables(sim):
    account_id = duckdb.connect(str(sim.db_path), read_only=True).execute(
        "SELECT max(account_id) FROM sends").fetchone()[0]
    for who in (None, account_id):
        assert_same_table(*_both(hl.headline_rates, sim.db_path, "2026-10-01", "2026-11-01", who))
        trend, raw = _both(hl.headline_trend, sim.db_path, "2025-10-01", "2026-11-01", who)
        assert len(trend) == 12
        assert_same_table(trend, raw)


def test_periods_the_aggregates_cannot_serve_read_raw_messages(sim):
    """Part of a month, several months pooled, another time zone, other rules: raw messages, and a
    forced source='aggregates' names the reason."""
    cases = [
        (sh.sender_health, ("2026-10-03", "2026-11-01"), {"grain": "day"}, "not whole months"),
        (sh.sender_health, ("2026-09-01", "2026-11-01"), {"grain": "period"}, "several months"),
        (sh.sender_health, ("2026-09-01", "2026-11-01"), {"grain": "week"}, "several months"),
        (sh.sender_health, ("2026-10-01", "2026-11-01"), {"fbl_providers": "yahoo"}, "feedback-loop"),
        (hl.headline_rates, ("2026-09-01", "2026-11-01"), {}, "several months"),
        (hl.headline_trend, (Period.month("2026-10", "Europe/Paris").start, Period.month("2026-10", "Europe/Paris").end),
         {"timezone": "Europe/Paris"}, "cut in UTC"),
    ]
    for func, period, options, reason in cases:
        with pytest.raises(ValueError, match=reason):
            func(sim.db_path, *period, source="aggregates", **options)
        assert_same_table(func(sim.db_path, *period, **options), func(sim.db_path, *period, source="raw", **options))


@pytest.mark.slow
def test_aggregates_in_another_zone_give_that_zones_tables(sim, tmp_path):
    db_path = tmp_path / "paris.duckdb"
    shutil.copy(sim.db_path, db_path)
    con = duckdb.connect(str(db_path))
    try:
        aggregates.rebuild(con, timezone="Europe/Paris")
    finally:
        con.close()
    october = Period.month("2026-10", "Europe/Paris")
    for grain, by in (("day", "account"), ("week", "provider"), ("period", ["all", "account", "provider"])):
        assert_same_table(*_both(sh.sender_health, db_path, october.start, october.end, by=by, grain=grain,
                                 timezone="Europe/Paris"))
    year = Period(Period.month("2025-11", "Europe/Paris").start, october.end)
    assert_same_table(*_both(hl.headline_trend, db_path, year.start, year.end, timezone="Europe/Paris"))
    with pytest.raises(ValueError, match="cut in Europe/Paris"):
        sh.sender_health(db_path, "2026-10-01", "2026-11-01", source="aggregates")


# --------------------------------------------------------------------------------------------------
# The report's CSV tables

def _summary_csvs(db_path, month: str) -> dict[str, str]:
    """Every CSV file the report writes beside its page: the summary and each table."""
    from dlvstats import report

    summary = report.compute_summary(db_path, month, None, None)
    frames = {"summary": report.summary_frame(summary), **summary.tables}
    return {name: export.to_csv(frame) for name, frame in frames.items()}


def _health_and_trend_csvs(db_path, month: str, monkeypatch) -> dict[str, str]:
    """The report's tables that the aggregates serve, computed as the report computes them: its
    metric tables with only sender health registered (the other metrics never read aggregates),
    the 12-month trend and the headline totals."""
    from dlvstats import metrics, report

    monkeypatch.setattr(metrics, "REGISTRY", {"sender-health": metrics.REGISTRY["sender-health"]})
    run = report.MetricRun(db_path, None, "UTC")
    frames = {**report.metric_tables(run, month), "headline-trend": report.headline_trend(run, month)}
    out = {name: export.to_csv(frame) for name, frame in frames.items()}
    out["totals"] = repr(sorted(report.metric_run.month_totals(run, month).items()))
    return out


def _without_aggregates(db_path, tmp_path):
    copy = tmp_path / f"raw-{db_path.name}"
    shutil.copy(db_path, copy)
    con = duckdb.connect(str(copy))
    try:
        aggregates.invalidate(con)
    finally:
        con.close()
    return copy


def test_report_csv_tables_are_the_same_from_aggregates(tmp_path, monkeypatch):
    from test_report import build_tiny_db

    db_path = build_tiny_db(tmp_path / "tiny")
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        assert aggregates.stored(con) is not None
    finally:
        con.close()
    raw_path = _without_aggregates(db_path, tmp_path)
    got = _health_and_trend_csvs(db_path, "2026-10", monkeypatch)
    want = _health_and_trend_csvs(raw_path, "2026-10", monkeypatch)
    assert sorted(got) == sorted(want)
    assert {"sender-health", "sender-health-month", "sender-health-daily", "headline-trend", "totals"} <= set(got)
    for name in want:
        assert got[name] == want[name], name


@pytest.mark.slow
def test_report_csv_tables_of_the_simulated_month_are_the_same_from_aggregates(sim, tmp_path):
    got = _summary_csvs(sim.db_path, "2026-10")
    want = _summary_csvs(_without_aggregates(sim.db_path, tmp_path), "2026-10")
    assert sorted(got) == sorted(want)
    served = ("summary", "sender-health", "sender-health-month", "sender-health-daily", "headline-trend")
    for name in served:
        assert got[name] == want[name], name
    # the other tables never read aggregates; DuckDB's parallel double sums can move their last digits
    # between two runs of the same query, so they are compared cell by cell within 1e-9
    for name in set(want) - set(served):
        assert_same_table(pd.read_csv(io.StringIO(got[name])), pd.read_csv(io.StringIO(want[name])))
