"""Drift alarms (dlvstats.drift) on hand-built labels in a real DuckDB file: each alarm fires on the
shift it is for and stays quiet on a steady month, a small month, or a young snapshot."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest

from dlvstats import db, drift

QUIET_SNAPSHOT = replace(drift.DEFAULT_THRESHOLDS, max_snapshot_age_days=10**6)


@pytest.fixture
def con(tmp_path):
    c = db.connect(tmp_path / "drift.duckdb")
    db.migrate(c)
    yield c
    c.close()


def month_of_opens(con, provider: str, month: str, n: int, machine_share: float, ip: str = "90.1.2.3",
                   prefix: str = "") -> None:
    """n messages sent on the 10th of ``month`` to ``provider``, one open each; the first
    machine_share of them labelled machine (rule apple_mpp), from ``ip``."""
    tag = f"{prefix}{provider}{month}"
    con.execute(
        "INSERT INTO sends (message_id, sent_at, account_id, list_id, campaign_id, recipient, status, delivered_at, "
        "provider) SELECT $tag || i, $day::TIMESTAMP, 'a', 'l', 'c', 'r' || i || '@x.fr', 'delivered', "
        "$day::TIMESTAMP, $provider FROM range($n) AS t(i)",
        {"tag": tag, "day": f"{month}-10 09:00:00", "provider": provider, "n": n})
    con.execute(
        "INSERT INTO opens (event_key, message_id, ts, user_agent, ip, event_id, is_machine, actor, actor_rule) "
        "SELECT uuid(), $tag || i, $day::TIMESTAMP + INTERVAL 1 HOUR, 'ua', $ip, $tag || 'e' || i, false, "
        "CASE WHEN i < $k THEN 'machine' ELSE 'human' END, CASE WHEN i < $k THEN 'apple_mpp' ELSE 'human' END "
        "FROM range($n) AS t(i)",
        {"tag": tag, "day": f"{month}-10 09:00:00", "n": n, "k": int(n * machine_share), "ip": ip})


def test_provider_shift_alarms_only_on_a_big_move_in_big_months(con):
    month_of_opens(con, "yahoo", "2026-08", 800, 0.25)
    month_of_opens(con, "yahoo", "2026-09", 800, 0.27)  # steady
    month_of_opens(con, "yahoo", "2026-10", 800, 0.60)  # a proxy starts prefetching
    month_of_opens(con, "orange", "2026-09", 100, 0.10)
    month_of_opens(con, "orange", "2026-10", 100, 0.60)  # big move, small months: flagged, no alarm
    shifts = drift.provider_shifts(con)
    shifts["month"] = shifts["month"].astype(str).str[:7]
    assert shifts["is_alarm"].sum() == 1
    row = shifts[shifts["is_alarm"]].iloc[0]
    assert (row.provider, row.month, row.opens, row.machine_opens) == ("yahoo", "2026-10", 800, 480)
    assert row.share_low < 0.60 < row.share_high
    small = shifts[shifts["provider"] == "orange"]
    assert small["is_small_cell"].all() and not small["is_alarm"].any()
    alarms = drift.alarms(con, QUIET_SNAPSHOT)
    assert len(alarms) == 1 and "yahoo" in alarms[0] and "27.0% to 60.0%" in alarms[0]
    assert drift.alarms(con, QUIET_SNAPSHOT, month="2026-09") == []


def test_unlisted_machines_growing_alarm(con):
    # September's machines come from Amazon (listed), October's from a hosting network in no list
    month_of_opens(con, "other", "2026-09", 400, 1.0, ip="3.64.1.1", prefix="a")
    month_of_opens(con, "gmx", "2026-10", 100, 1.0, ip="3.64.1.1", prefix="a")
    month_of_opens(con, "other", "2026-10", 300, 1.0, ip="51.68.3.3", prefix="b")
    rows = drift.unlisted_machines(con).set_index("month")
    assert list(rows["unlisted_events"]) == [0, 300]
    assert list(rows["is_alarm"]) == [False, True]
    alarms = [a for a in drift.alarms(con, QUIET_SNAPSHOT) if "no list" in a]
    assert len(alarms) == 1 and "0.0% to 75.0%" in alarms[0]


def test_steady_unlisted_share_is_quiet(con):
    for month in ("2026-09", "2026-10"):
        month_of_opens(con, "other", month, 300, 1.0, ip="51.68.3.3")
    assert not drift.unlisted_machines(con)["is_alarm"].any()


def test_stale_snapshot(con):
    ages = [age for _n, _d, age in drift.stale_networks(con, replace(drift.DEFAULT_THRESHOLDS, max_snapshot_age_days=-1))]
    assert ages, "every network is older than -1 days"
    assert drift.stale_networks(con, QUIET_SNAPSHOT) == []
    stale = drift.alarms(con, replace(drift.DEFAULT_THRESHOLDS, max_snapshot_age_days=-1))
    assert stale and stale[-1].startswith("Networks snapshot older than -1 days") and "networks update" in stale[-1]


def test_cli_classify_and_info_say_so(con, tmp_path):
    month_of_opens(con, "yahoo", "2026-09", 800, 0.25)
    month_of_opens(con, "yahoo", "2026-10", 800, 0.25)
    con.execute("INSERT INTO meta VALUES ('schema_version', '2') ON CONFLICT DO NOTHING")
    con.close()
    path = str(tmp_path / "drift.duckdb")
    info = subprocess.run([sys.executable, "-m", "dlvstats.cli", "info", "--db", path],
                          capture_output=True, text=True, check=False)
    assert info.returncode == 0, info.stderr
    assert "classification drift" in info.stdout
    classify_run = subprocess.run([sys.executable, "-m", "dlvstats.cli", "classify", "--db", path],
                                  capture_output=True, text=True, check=False)
    assert classify_run.returncode == 0, classify_run.stderr
    # re-labelled by the rules: the 'ua' opens from a residential address are people; no provider shift
    assert "Drift alarms" in classify_run.stdout
    assert "Machine-open share" not in classify_run.stdout
