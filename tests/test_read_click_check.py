"""The click-ratio check of the read estimator's assumption (blocked readers click as often as others):
its SQL on a hand-built message table, the pooled ratio and its verdict on hand-built strata, and
what a failed check does to the provider table (status and intervals)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from dlvstats import db
from dlvstats.metrics.read_estimator import (
    CLICK_RATIO_HIGH,
    ClickCheck,
    blocked_share_at_ratio,
    click_ratio_check,
    with_assumption_checks,
)


def _messages(con):
    """a (gmail, desktop): first click m1 without an open -> proven blocked; other messages: 2 opens, one
    with a click (m4 has neither). b (gmail, desktop): first click with an open -> other; 3 opens, 1 click.
    c: no click at all -> not classed. d: its only other message carries a machine open -> no row.
    e: a click without an open sent after the period -> not classed."""
    con.execute("""CREATE TABLE message_facts (account_id VARCHAR, recipient VARCHAR, provider VARCHAR,
                   message_id VARCHAR, sent_at TIMESTAMP, is_delivered BOOLEAN, has_machine_open BOOLEAN,
                   has_human_open BOOLEAN, has_human_click BOOLEAN)""")
    rows = [  # recipient, message, day, machine, open, click
        ("a", "a1", 1, False, False, True), ("a", "a2", 2, False, True, True), ("a", "a3", 3, False, True, False),
        ("a", "a4", 4, False, False, False),
        ("b", "b1", 1, False, True, True), ("b", "b2", 2, False, True, False), ("b", "b3", 3, False, True, False),
        ("b", "b4", 4, False, True, True),
        ("c", "c1", 1, False, True, False),
        ("d", "d1", 1, False, True, True), ("d", "d2", 2, True, False, True),
        ("e", "e1", 20, False, False, True),
    ]
    con.executemany("INSERT INTO message_facts VALUES ('A', ?, 'gmail', ?, TIMESTAMP '2024-01-01' + "
                    "INTERVAL (?) DAY, true, ?, ?, ?)", rows)
    con.execute("CREATE TEMP TABLE __reader_device AS SELECT DISTINCT hash(account_id, recipient) AS person, "
                "'desktop' AS device FROM message_facts")


def test_click_check_sql_classes_people_by_their_first_click():
    con = duckdb.connect()
    db.session_settings(con)  # the packaged macros every dlvstats connection has
    _messages(con)
    out = db.query_df(con, "metrics/hidden_images_click_check", date_from="2024-01-01", date_to="2024-01-15",
                      account_id=None).set_index("proven_blocked")
    assert list(out.index) == [False, True]  # b (and d, who has no other measurable message) / a
    other, blocked = out.loc[False], out.loc[True]
    assert (other.people, other.opens, other.open_clicks, other.y2, other.yn, other.n2) == (1, 3, 1, 1, 3, 9)
    assert (blocked.people, blocked.opens, blocked.open_clicks, blocked.y2, blocked.yn, blocked.n2) == (1, 2, 1, 1, 2, 4)


def _strata(rows):
    """Hand-built check rows; every person has ``opens`` opens and clicks on ``clicks`` of them (so the
    per-person sums y2, yn, n2 follow)."""
    out = []
    for provider, device, blocked, people, opens, clicks in rows:
        out.append({"provider": provider, "device": device, "proven_blocked": blocked, "people": people,
                    "opens": people * opens, "open_clicks": people * clicks, "y2": people * clicks**2,
                    "yn": people * clicks * opens, "n2": people * opens**2})
    return pd.DataFrame(out)


def test_click_ratio_pools_strata_and_flags_only_clean_evidence():
    # 200 proven-blocked people click 2 of 10 opens, the 1,000 others 1 of 10: ratio 2, clean evidence
    twice = click_ratio_check(_strata([("gmail", "mobile", True, 200, 10, 2), ("gmail", "mobile", False, 1000, 10, 1)]))
    assert twice.ratio == pytest.approx(2.0) and twice.low > 1 and twice.violated
    assert twice.text.endswith(": differs") and "200 people" in twice.text
    # the same within each stratum, but desktop clicks more and holds the blocked people: no violation
    strata = click_ratio_check(_strata([("orange", "desktop", True, 150, 10, 3), ("orange", "desktop", False, 300, 10, 3),
                                        ("orange", "mobile", True, 10, 10, 1), ("orange", "mobile", False, 900, 10, 1)]))
    assert strata.ratio == pytest.approx(1.0) and not strata.violated and strata.text.endswith(": agrees")
    # 10% more: inside the interval and below the minimum ratio -> agrees
    assert not click_ratio_check(_strata([("gmail", "mobile", True, 200, 10, 1.1),
                                          ("gmail", "mobile", False, 1000, 10, 1)])).violated
    # too few proven-blocked people: no check, said so
    few = click_ratio_check(_strata([("gmail", "mobile", True, 12, 10, 3), ("gmail", "mobile", False, 500, 10, 1)]))
    assert np.isnan(few.ratio) and not few.violated and few.text.startswith("no click-ratio check")
    assert not click_ratio_check(_strata([])).violated


def _provider_rows():
    return pd.DataFrame({
        "provider": ["gmail", "orange", "sfr"], "image_blocked_share": [0.25, 0.10, 0.2],
        "image_blocked_share_low": [0.22, 0.08, 0.1], "image_blocked_share_high": [0.28, 0.12, 0.3],
        "image_blocked_share_used": [0.25, 0.10, 0.2], "est_read_rate": [0.40, 0.30, 0.2],
        "est_read_rate_low": [0.38, 0.29, 0.1], "est_read_rate_high": [0.42, 0.31, 0.3],
        "measurable_delivered": [10000, 10000, 500], "human_openers": [3000, 2700, 80],
        "estimate_status": ["ok", "imprecise", "insufficient_data"], "status_reason": ["r", "r", "r"]})


def test_failed_click_check_makes_every_share_assumption_violated_and_spans_the_ratios():
    done = _provider_rows()
    check = ClickCheck(1.6, 1.3, 1.97, 160, True, "people proven ... click 1.60x as often: differs")
    out = with_assumption_checks(done, pd.DataFrame(columns=["provider", "evidence", "readers",
                                                             "share_without_open__num", "share_without_open__den"]),
                                 30, check).set_index("provider")
    assert list(out["estimate_status"]) == ["assumption_violated", "assumption_violated", "insufficient_data"]
    assert "1.60x" in out.loc["gmail", "status_reason"] and out.loc["sfr", "status_reason"] == "r"
    g = out.loc["gmail"]
    # ratios 1 .. 1.97 (the check's far end, beyond the band's 1.5): low end of the share at r = 1.97
    assert g.image_blocked_share_low == pytest.approx(0.22 / (0.22 + 1.97 * 0.78))
    assert g.image_blocked_share_high == pytest.approx(0.28)
    assert g.est_read_rate_low == pytest.approx(0.38 * 0.75 / (1 - 0.25 / (0.25 + 1.97 * 0.75)))
    assert g.est_read_rate_high == pytest.approx(0.42)
    assert out.loc["gmail", "assumption_check"].endswith("1.60x as often: differs")
    # an agreeing check changes nothing but the text
    calm = ClickCheck(1.02, 0.8, 1.3, 160, False, "x: agrees")
    same = with_assumption_checks(done, pd.DataFrame(columns=["provider", "evidence", "readers",
                                                              "share_without_open__num", "share_without_open__den"]),
                                  30, calm)
    assert list(same["estimate_status"]) == list(done["estimate_status"])
    assert same["image_blocked_share_low"].tolist() == done["image_blocked_share_low"].tolist()
    assert blocked_share_at_ratio(0.22, CLICK_RATIO_HIGH) > g.image_blocked_share_low


def test_few_openers_keep_a_score_interval():
    """One stratum (weight 1.25), two ages, 4 identical replicates (rep 0 = the data). Age A: 0 openers of
    300 measurable messages: the bootstrap says [0, 0]; the score interval is Wilson(0 of 300) x 1.25,
    upper z^2 / (300 + z^2) x 1.25. Age B: 20 openers of 300 (under 30): Wilson(20 of 300) x 1.25 (no design effect
    when the replicates do not vary: never below 1)."""
    from dlvstats.metrics.common import Z95, wilson
    from dlvstats.metrics.read_strata import _few_openers_interval, _group_table

    o = np.zeros((4, 1, 2))
    o[:, 0, 1] = 20
    d = np.full((4, 1, 2), 300.0)
    weight = np.full((4, 1), 1.25)
    low, high = _few_openers_interval(o, d, weight)
    assert low[0] == pytest.approx(0, abs=1e-12) and high[0] == pytest.approx(Z95**2 / (300 + Z95**2) * 1.25)
    _, w_low, w_high = wilson(20, 300)
    assert (low[1], high[1]) == pytest.approx((w_low * 1.25, w_high * 1.25))
    table = _group_table(o, d, weight, np.array([0.2]), np.array([False]), "age_years", [1, 2])
    assert table["est_read_rate"].tolist() == pytest.approx([0.0, 20 / 300 * 1.25])
    assert table["est_read_rate_high"].iloc[0] == pytest.approx(high[0])  # not the bootstrap's 0
    assert table["est_read_rate_low"].iloc[1] == pytest.approx(low[1])
