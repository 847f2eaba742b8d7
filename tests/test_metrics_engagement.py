"""engagement-by-age and its notebook helpers on the tiny hand-built drop of
test_metrics_hidden_images (read its docstring first), then against the simulator's truth.

Ages at the January send (2026-01-10), from the subscriptions of the drop:
- g1, g2, g5, g6, g8, g9: imported 2025-12-01 with collected_at 2024-01-01 -> 740 days -> age 2
  (basis collected_at: an old list imported last month is old).
- g3, g4, g7, g10, g11, g12: imported 2022-12-01 without collected_at -> 1136 days -> age 3, a lower
  bound (basis import).
- m1..m5: form 2025-10-01 -> age 0; a1..a4: form 2025-06-01 -> age 0.

Read weights: the stratified estimator (metrics.read_strata), strata provider x reading device (the
person's user agents). Provider shares first, shrunk toward the overall one (read_estimator.shrink_shares):
gmail 2/4 = 0.5, cluster variance 1/12; microsoft 0/2 = 0, floored at the binomial one at the overall
share 1/3: (2/9)/2 = 1/9; tau^2 = 1/36, B = 3/4 and 4/5, random-effects mean 5/18: gmail 1/3, microsoft 2/9.
Then each cell toward its provider's share (read_estimator.shrink_within, tau^2 per provider): gmail
desktop 2/2 (g5, g6 click in a desktop browser, no open), gmail mobile 0/2 (g1, g2); variances floored at
the binomial one at gmail's share: 1/9 each. Mean 1/2, Q = 9/4 + 9/4 = 4.5 on 2 - 1 = 1 degree of
freedom, denominator 18 - 162/18 = 9, tau^2 = 3.5/9 = 7/18, B = (1/9)/(1/9 + 7/18) = 2/9.
Shares: gmail desktop 7/9 + 2/27 = 23/27, gmail mobile 2/27 (weight 27/25). microsoft has one usable
cell (desktop, m1, m2): nothing tells its devices apart, tau^2 = 0, the cell takes microsoft's 2/9
(weight 9/7). Cells without a clicker (g3, g4 open through the image proxy and never click: device
unknown) take their provider's share (gmail 1/3, weight 3/2).

Hand-worked engagement-by-age (account A, January):
- age 0 (m1..m5, a1..a4): sends 9, delivered 9, hard_bounce_rate 0, open_rate 6/9 (m1, m2, a1-a4),
  human_open_rate 2/9, human_click_rate 3/9 (m1, m2, a1), complaint 0, unsubscribe 0,
  measurable_delivered 5 (the apple messages have machine opens), est_read_rate 2*(9/7)/5 = 18/35,
  age_is_lower_bound_share 0.
- age 2 (g1, g2, g5, g6, g8, g9): sends 6, delivered 6, open_rate 2/6, human_click_rate 4/6,
  est_read_rate 2*(27/25)/6 = 0.36 (g1, g2 on mobile).
- age 3 (g3, g4, g7, g10, g11, g12): sends 6, delivered 5, hard_bounce_rate 1/6, open_rate 2/5,
  human_click_rate 0 (g7 is a scanner, g12 clicked unsubscribe only), complaint_rate 1/5 (g10),
  unsubscribe_rate 1/5 (g12, source link), est_read_rate 2*(3/2)/5 = 0.6 (g3, g4, device unknown), age_is_lower_bound_share 1.

Recency (human signals before the send): g2 ordered on 2025-12-20 (21 days: '0-2 months'); g1 opened
p1 on 2025-09-02 (130 days: '3-5 months'); a1's only earlier open is p2's MPP prefetch ('unknown
(machine opens only)'); the 18 others have no signal ('no signal yet').

Sunset (inactivity in months; for people without a signal, since the later of collection and the
account's first message, 2025-09-01): g2 0, m1..m5 3 (since 2025-10-01), g1 and every other gmail and
apple address 4; a1 is 'unknown' and kept. At T = 4 the removed mail is g1, g3..g12 and a2..a4: 14
sends, 1 complaint (g10), 1 hard bounce (g11), 3 human clickers (g1, g5, g6), 1 order (g5, 2 days
after its message), estimated hidden readers (27/25 - 1) + 2 x (3/2 - 1) = 1.08 (gmail openers g1 on
mobile, g3 and g4). Net value at
the default weights (click 1, order 5, complaint 30, hard bounce 3) = 3 + 5 - 30 - 3 = -25; at T <= 3
m1..m5 join (+2 clickers, m1 and m2): -23; at T >= 6 nothing is removed: 0. So T = 4 is recommended.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from test_metrics_hidden_images import PERIOD, _wilson, build_tiny_drop


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory) -> Path:
    from dlvstats.ingest import ingest_paths

    root = tmp_path_factory.mktemp("tiny_engagement")
    db_path = root / "tiny.duckdb"
    ingest_paths(db_path, [build_tiny_drop(root / "drop")])
    return db_path


def test_engagement_by_age_tiny(tiny_db):
    from dlvstats.metrics.engagement import engagement_by_age

    df = engagement_by_age(tiny_db, *PERIOD, account_id="A", max_blocked_share_halfwidth=1).set_index("age_years")
    assert list(df.index) == [0, 2, 3]
    a0, a2, a3 = df.loc[0], df.loc[2], df.loc[3]
    assert (a0.sends, a0.delivered, a0.measurable_delivered) == (9, 9, 5)
    assert a0.open_rate == pytest.approx(6 / 9)
    assert a0.human_open_rate == pytest.approx(2 / 9)
    assert a0.human_click_rate == pytest.approx(3 / 9)
    assert a0.est_read_rate == pytest.approx(18 / 35)
    assert a0.age_is_lower_bound_share == 0
    assert (a2.sends, a2.delivered) == (6, 6)
    assert a2.open_rate == pytest.approx(2 / 6) and a2.human_click_rate == pytest.approx(4 / 6)
    assert a2.est_read_rate == pytest.approx(0.36)
    assert (a3.sends, a3.delivered) == (6, 5)
    assert a3.hard_bounce_rate == pytest.approx(1 / 6)
    assert a3.human_click_rate == 0
    assert a3.complaint_rate == pytest.approx(1 / 5)
    assert a3.unsubscribe_rate == pytest.approx(1 / 5)
    assert a3.est_read_rate == pytest.approx(0.6)
    assert a3.age_is_lower_bound_share == 1
    # one message per person in the period: the cluster interval is the plain Wilson interval
    assert (a3.complaint_rate_low, a3.complaint_rate_high) == tuple(pytest.approx(v) for v in _wilson(1, 5))
    assert (a0.est_read_rate_low <= 18 / 35 <= a0.est_read_rate_high <= 1)
    assert df.small_cell.all()
    required = ["age_years", "sends", "delivered", "hard_bounce_rate", "open_rate", "human_open_rate",
                "human_click_rate", "complaint_rate", "unsubscribe_rate", "est_read_rate"]
    assert list(df.reset_index().columns[: len(required)]) == required


def test_engagement_split_lower_bound_tiny(tiny_db):
    from dlvstats.metrics.engagement import engagement_by_age

    df = engagement_by_age(tiny_db, *PERIOD, account_id="A", split_lower_bound=True)
    assert list(zip(df.age_years, df.age_is_lower_bound)) == [(0, False), (2, False), (3, True)]


def test_recency_source_surface_cohorts_tiny(tiny_db):
    from dlvstats.metrics import engagement as e

    rec = e.engagement_by_recency(tiny_db, *PERIOD, account_id="A").set_index("recency")
    assert rec.sends.to_dict() == {"0-2 months": 1, "3-5 months": 1, "no signal yet": 18,
                                   "unknown (machine opens only)": 1}
    src = e.engagement_by_source(tiny_db, *PERIOD, account_id="A").set_index("acquisition_source")
    assert src.sends.to_dict() == {"import": 12, "form": 9}
    surf = e.engagement_surface(tiny_db, *PERIOD, account_id="A")
    assert surf.sends.sum() == 21
    assert set(surf.age_band) == {"0", "2", "3-4"}
    coh = e.signup_cohorts(tiny_db, *PERIOD, account_id="A", cohort_unit="quarter", cohorts_since="2024-01-01")
    assert set(coh.signup_cohort) == {"2024-01", "2025-04", "2025-10"}
    assert coh.set_index("signup_cohort").loc["2025-10"].months_since_signup == 3


def test_sunset_tiny(tiny_db):
    from dlvstats.metrics.engagement import sunset_in_plain_words, sunset_recommendation

    df = sunset_recommendation(tiny_db, *PERIOD, account_id="A", thresholds=[1, 3, 4, 6], min_complaints=1,
                               min_orders=1, max_blocked_share_halfwidth=1).set_index("threshold_months")
    t4 = df.loc[4]
    assert (t4.sends_removed, t4.complaints_removed, t4.hard_bounces_removed) == (14, 1, 1)
    assert (t4.human_clickers_removed, t4.orders_removed) == (3, 1)
    assert t4.revenue_removed == pytest.approx(40)
    assert t4.est_hidden_readers_removed == pytest.approx(1.08)
    assert df.net_value.to_dict() == {1: -23, 3: -23, 4: -25, 6: 0}
    assert df.recommended.to_dict() == {1: False, 3: False, 4: True, 6: False}
    assert "4 months" in sunset_in_plain_words(df.reset_index())
    # the weights are parameters: make a complaint cheap and nothing is worth suppressing
    cheap = sunset_recommendation(tiny_db, *PERIOD, account_id="A", thresholds=[1, 3, 4, 6], weight_complaint=1,
                                  min_complaints=1, min_orders=1, max_blocked_share_halfwidth=1)
    assert not cheap.recommended.any()


def test_fit_decay_recovers_a_known_curve():
    """On synthetic cells following 0.1 + 0.3 exp(-ln2 t / 2) exactly, the fit finds half-life 2."""
    from dlvstats.metrics.engagement import fit_decay

    ages = np.arange(0, 12)
    t = ages + 0.5
    rate = 0.1 + 0.3 * np.exp(-np.log(2) * t / 2.0)
    table = pd.DataFrame({"age_years": ages, "delivered": 50_000, "est_read_rate": rate,
                          "est_read_rate_low": rate - 0.004, "est_read_rate_high": rate + 0.004})
    fit = fit_decay(table, n_boot=100)
    assert fit["half_life"] == pytest.approx(2.0, rel=0.03)
    assert fit["half_life_low"] < 2.0 < fit["half_life_high"]
    assert fit["plateau"] == pytest.approx(0.1, abs=0.005)
    assert len(fit["curve"]) == 60


# ------------------------------------------------------------------------------ against the truth


@pytest.mark.slow
def test_engagement_by_age_against_truth(sim):
    """est_read_rate per age_years within 0.03 of the truth, and within a fifth of it (at least 0.01)
    where the true read rate is low, for every age with 5,000 delivered or more. The truth is the read
    rate among delivered messages without a machine open, by the address's true collection year."""
    from dlvstats.metrics.engagement import engagement_by_age

    truth = sim.truth["read_rate_by_age_year"]
    period = (sim.truth["period"]["start"][:10], sim.truth["period"]["end"][:10])
    df = engagement_by_age(sim.db_path, *period)
    checked = []
    for row in df.itertuples():
        if row.delivered < 5000:
            continue
        t = truth[str(row.age_years)]["measurable_read_rate"]
        tolerance = min(0.03, max(0.01, t / 5))
        checked.append((row.age_years, row.est_read_rate, t, row.est_read_rate - t, tolerance))
    print("\n".join(f"age {a}: est {e:.4f} truth {t:.4f} error {d:+.4f} (tolerance {tol:.4f})"
                    for a, e, t, d, tol in checked))
    assert len(checked) >= 8 and max(a for a, *_ in checked) >= 10, "old addresses are the point"
    for age, est, t, diff, tolerance in checked:
        assert abs(diff) <= tolerance, f"age {age}: est {est:.4f} vs truth {t:.4f}"


@pytest.mark.slow
def test_notebook_helpers_on_sim(sim):
    """The notebook's tables on real-sized data: recency has an 'unknown' bucket, the decay fit gives a
    finite half-life with an interval, the sunset table has one row per threshold."""
    from dlvstats.metrics import engagement as e

    period = ("2026-05-01", "2026-11-01")
    rec = e.engagement_by_recency(sim.db_path, *period)
    assert "unknown (machine opens only)" in set(rec.recency)
    assert rec.sends.sum() == e.engagement_by_age(sim.db_path, *period).sends.sum()
    fit = e.fit_decay(e.engagement_by_age(sim.db_path, *period), n_boot=50)
    assert 0 < fit["half_life_low"] <= fit["half_life"] <= fit["half_life_high"]
    sunset = e.sunset_recommendation(sim.db_path, *period)
    assert list(sunset.threshold_months) == list(e.DEFAULT_THRESHOLDS)
    assert (sunset.sends_removed.diff().dropna() <= 0).all()


def test_age_status_rules():
    """Each rule of read_estimator.age_status on hand-made rows (tolerance min(0.03, max(0.01, 0.2 r)))."""
    from dlvstats.metrics.read_estimator import age_status

    rows = pd.DataFrame({
        "est_read_rate": [0.30, 0.30, 0.30, 0.30, 0.30, 0.04, float("nan")],
        "est_read_rate_low": [0.28, 0.28, 0.28, 0.28, 0.25, 0.025, float("nan")],
        "est_read_rate_high": [0.32, 0.32, 0.32, 0.32, 0.35, 0.055, float("nan")],
        "measurable_delivered": [9000, 9000, 9000, 9000, 9000, 9000, 0],
        "delivered": [10_000, 50, 10_000, 10_000, 10_000, 10_000, 10_000],
        "small_cell": [False, True, False, False, False, False, False],
        "age_is_lower_bound_share": [0.0, 0.0, 0.9, 0.0, 0.0, 0.0, 0.0],
        "borrowed_opener_share": [0.02, 0.0, 0.0, 0.3, 0.0, 0.0, float("nan")],
    })
    status, reason = age_status(rows)
    assert status == ["ok", "insufficient_data", "insufficient_data", "imprecise", "imprecise", "imprecise",
                      "unmeasurable"]
    assert "2% of its human openers" in reason[0]
    assert "collected_at" in reason[2]
    assert "+-0.050" in reason[4] and "+-0.030" in reason[4]
    assert "+-0.010" in reason[5]  # 0.2 x 0.04 = 0.008, floored at 0.01


def test_engagement_status_and_band_tiny(tiny_db):
    """The tiny ages are all small cells (insufficient_data); the band brackets the estimate; the gmail
    and microsoft openers have shares of their own (no borrowing)."""
    from dlvstats.metrics.engagement import engagement_by_age

    df = engagement_by_age(tiny_db, *PERIOD, account_id="A")
    assert (df["estimate_status"] == "insufficient_data").all()
    assert (df["est_read_rate_band_low"] < df["est_read_rate"]).all()
    assert (df["est_read_rate"] < df["est_read_rate_band_high"]).all()
    assert (df["borrowed_opener_share"] == 0).all()


def test_trailing_engagement_by_age_is_the_same_table_over_its_year(sim):
    """The monthly report's pooled by-age table: engagement_by_age over the 12 calendar months before
    date_to, labelled with its window."""
    from dlvstats.metrics.engagement import engagement_by_age, trailing_engagement_by_age

    pooled = trailing_engagement_by_age(sim.db_path, "2026-11-01")
    assert set(pooled["window_from"]) == {"2025-11-01"} and set(pooled["window_to"]) == {"2026-11-01"}
    direct = engagement_by_age(sim.db_path, "2025-11-01", "2026-11-01")
    pd.testing.assert_frame_equal(pooled.drop(columns=["window_from", "window_to"]), direct)
