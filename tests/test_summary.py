"""The report's summary from frames (``dlvstats.summary``): alerts, headline totals and the one
number rule of ``dlvstats.formatting``, on tiny hand-made tables (no database, no notebook).

The frames carry only the columns the summary reads; the expected alerts are worked out by hand in
each test.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from dlvstats import formatting, summary
from dlvstats.i18n import Locale


def health(rows):
    columns = ["dimension", "dimension_value", "sends", "delivered", "hard_bounces", "hard_bounce_rate",
               "complaints_fbl", "delivered_fbl", "complaint_rate_fbl", "complaint_rate_fbl_low",
               "complaint_rate_fbl_high", "small_cell_fbl"]
    return pd.DataFrame(rows, columns=columns)


def test_month_alerts_complaint_lines_and_bounce_spike():
    """acme: 12 complaints on 2,000 FBL deliveries = 0.6% > 0.3%: critical. globex: 3 on 2,000 =
    0.15%: over 0.1% only, a warning. yahoo (a provider): 0.05%: no alert. globex bounces 150 of
    5,000 = 3% (>= 2%) against 1% the month before (3% >= 2 x 1%): a spike, a warning (< 5%).
    acme bounces 2.5% against 2% before: not twice, no spike."""
    now = health([
        ["account", "acme", 4000, 3900, 100, 0.025, 12, 2000, 0.006, 0.004, 0.009, False],
        ["account", "globex", 5000, 4850, 150, 0.03, 3, 2000, 0.0015, 0.0005, 0.004, False],
        ["provider", "yahoo", 3000, 2950, 10, 0.0033, 1, 2000, 0.0005, 0.0001, 0.002, False],
    ])
    before = health([
        ["account", "acme", 4000, 3900, 80, 0.02, 0, 2000, 0.0, 0.0, 0.001, False],
        ["account", "globex", 5000, 4900, 50, 0.01, 0, 2000, 0.0, 0.0, 0.001, False],
    ])
    alerts = summary.month_alerts(now, before, None, Locale("en"))
    assert [(a.level, a.text.split(",")[0]) for a in alerts] == [
        ("critical", "Complaint rate 0.60% for account acme"),
        ("warning", "Complaint rate 0.15% for account globex"),
        ("warning", "Hard-bounce spike for account globex: 3.00% of messages sent"),
    ]
    assert "up from 1.00% the month before" in alerts[2].text and "(150 hard bounces on 5,000 sends)" in alerts[2].text
    assert "over the 0.3% line" in alerts[0].text and "95% interval 0.40%–0.90%" in alerts[0].text


def test_a_day_already_named_by_the_month_alert_is_not_repeated():
    """globex's month spike names it; its 6% day is not repeated. initech's 8% day on 300 sends is
    new (>= 5% on >= 200 sends); a 9% day on 150 sends is too small."""
    month = summary.month_alerts(
        health([["account", "globex", 5000, 4850, 150, 0.03, 0, 2000, 0.0, 0.0, 0.001, False]]),
        health([]), None)
    daily = pd.DataFrame({
        "dimension": ["account"] * 3, "dimension_value": ["globex", "initech", "initech"],
        "period_start": [datetime(2026, 10, 3), datetime(2026, 10, 4), datetime(2026, 10, 5)],
        "sends": [1000, 300, 150], "hard_bounce_rate": [0.06, 0.08, 0.09],
    })
    days = summary.daily_bounce_alerts(daily, month, None)
    assert [a.text for a in days] == [
        "Hard-bounce spike on 2026-10-04 for account initech: 8.00% of 300 messages sent that day."]
    assert "no sends the month before" in month[0].text


def test_alerts_sort_critical_first_and_keep_their_order():
    alerts = [summary.Alert("info", "a"), summary.Alert("warning", "b"), summary.Alert("critical", "c"),
              summary.Alert("warning", "d")]
    assert [a.text for a in summary.sort_alerts(alerts)] == ["c", "b", "d", "a"]


def test_headline_totals_pool_counts_not_rates():
    """Two age buckets: 10 readers of 100 and 90 of 300 measurable deliveries: 100 / 400 = 25%
    (the mean of the two rates would be 20%). Delivery 950 of 1,000 with a Wilson interval."""
    health_month = pd.DataFrame({"dimension": ["all"], "sends": [1000], "delivered": [950]})
    engagement = pd.DataFrame({"est_readers": [10, 90], "measurable_delivered": [100, 300]})
    totals = summary.headline_totals(health_month, None, engagement)
    assert totals["est_read_rate"] == 0.25
    assert totals["delivery_rate"] == 0.95 and totals["delivery_rate_low"] < 0.95 < totals["delivery_rate_high"]
    rows = {h.label: h for h in summary.headlines(totals, {"sends": 800, "delivery_rate": 0.96})}
    assert rows["Messages sent"].value == "1,000" and rows["Messages sent"].change == "+25.0%"
    assert rows["Delivery rate"].change == "-1.00 pp" and rows["Delivery rate"].tone == "bad"
    assert rows["Delivery rate"].interval.startswith("95% CI ")


def test_one_number_rule():
    assert formatting.is_rate_column("complaint_rate_fbl_low") and formatting.is_rate_column("machine_open_share")
    assert not formatting.is_rate_column("half_life_low") and not formatting.is_rate_column("sends")
    assert formatting.format_cell_text("0.0004", rate=True) == "0.040%"  # under 1%: three decimals
    assert formatting.format_cell_text("0.25", rate=True) == "25.00%"
    assert formatting.format_cell_text("12345.0", rate=False) == "12,345"
    assert formatting.format_cell_text("2026", rate=False, plain=True) == "2026"
    assert formatting.format_cell_text("NaN", rate=False) == formatting.DASH
    assert formatting.format_interval(None, 0.2, "rate") == ""
