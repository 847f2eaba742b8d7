"""hidden-images (and the classification-sensitivity table) on a tiny hand-built drop, then against
the simulator's truth.

The tiny drop (``build_tiny_drop``; engagement tests reuse it). Account ``A``, list ``L``. The period
is January 2026; campaign ``C1`` is sent on 2026-01-10 09:00:00Z and delivered 5 s later (09:00:05).
Opens behind Gmail's proxy carry the GoogleImageProxy agent (human); Apple MPP prefetches carry
exactly ``Mozilla/5.0`` from 17.x (machine); content clicks go to ``https://shop.example/p``.

gmail (g1..g12 @gmail.com; 12 sends, g11 hard-bounces -> 11 delivered):
- g1, g2: open at 10:00, click at 10:05 (iPhone Safari)          -> opener + clicker
- g3, g4: open at 10:00                                          -> opener
- g5, g6: click at 11:00 (Windows Chrome), no open               -> clicker without open
- g7: clicks the content link and the unsubscribe link 3 and 4 s after delivery -> scanner (machine)
- g8, g9, g10: nothing (g10 complains on 2026-01-11)
- g11: hard bounce
- g12: a human click on the unsubscribe link only (12:00) and unsubscribes (source link, C1)
microsoft (m1..m5 @hotmail.fr; 5 delivered):
- m1: Outlook open at 10:00, click at 10:10 (Edge)               -> opener + clicker
- m2: Outlook open at 10:00, and one click 60 s after delivery    -> human by default (a single link:
  gateways follow every link at once); a scanner under "scanner by timing alone"
- m3..m5: nothing
apple (a1..a4 @icloud.com; 4 delivered): an MPP prefetch each at 09:10; a1 also clicks at 12:00.
Outside the period: p1 to g1 (2025-09-01, human open 2025-09-02) and p2 to a1 (2025-11-01, MPP open).

Hand-worked hidden-images table (each recipient has one message in the period, so every interval is
the plain Wilson interval; the precision rule is relaxed to +-1, as 4 clickers cannot meet +-0.03):
- gmail: delivered 11, machine_open_share 0/4 = 0, measurable_human_openers 4 (g1-g4), measurable_human_clickers 4
  (g1, g2, g5, g6), measurable_clickers_without_open 2, image_blocked_share 2/4 = 0.5 (Wilson 0.150-0.850),
  measured_open_rate 4/11. est_read_rate is the stratified estimator's (provider x device cells,
  worked in test_metrics_engagement's docstring): openers g1, g2 on mobile (weight 27/25), g3, g4 of
  unknown device (gmail's share 1/3, weight 3/2): readers 2.16 + 3 = 5.16, est_read_rate 5.16/11,
  est_hidden_readers 1.16, hidden_reader_share_of_nonopens 1.16/7, image_blocked_share_used (effective)
  1.16/5.16.
- microsoft: delivered 5, measurable_human_openers 2, measurable_human_clickers 2 (m1, m2), measurable_clickers_without_open 0,
  image_blocked_share 0, measured_open_rate 2/5; its one desktop cell takes microsoft's shrunk share 2/9
  -> est_read_rate (2/5)/(7/9) = 18/35, hidden readers 4/7, hidden share (18/7 - 2)/(5 - 2) = 4/21.
- apple: delivered 4, machine_open_share 4/4 = 1 > 0.5 -> is_measurable false, no estimate.
Sensitivity (20 delivered): default human_open_rate 6/20 (g1-g4, m1, m2), human_click_rate 7/20
(g1, g2, g5, g6, m1, m2, a1), machine_open_share 4/10 (a1-a4 of 10 opened), bot_click_share 2/10
(g7's two clicks among 10); "scanner by timing alone": human_click_rate 6/20, bot 3/10 (m2 too).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from helpers import write_drop

SEND_COLUMNS = ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status",
                "delivered_at", "bounce_class", "smtp_code", "enhanced_status"]
OPEN_COLUMNS = ["message_id", "ts", "user_agent", "ip", "event_id"]
CLICK_COLUMNS = ["message_id", "ts", "url", "user_agent", "ip", "event_id"]
SUB_COLUMNS = ["ts", "account_id", "list_id", "recipient", "action", "source", "campaign_id", "collected_at"]

SENT = "2026-01-10T09:00:00Z"
DELIVERED = "2026-01-10T09:00:05Z"
GPROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
OUTLOOK = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.5 Mobile/15E148 Safari/604.1")
WIN_CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/124.0.0.0 Safari/537.36")
EDGE = WIN_CHROME + " Edg/124.0.2478.80"
CONTENT = "https://shop.example/p"
UNSUB = "https://shop.example/unsubscribe"


def _wilson(k: float, n: float, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def build_tiny_drop(directory: Path) -> Path:
    def send(mid, who, status="delivered", sent=SENT, delivered=DELIVERED, campaign="C1"):
        hard = status == "bounced"
        return [mid, sent, "A", "L", campaign, who, status, None if hard else delivered,
                "hard" if hard else None, 550 if hard else None, "5.1.1" if hard else None]

    sends = [send(f"g{i}", f"g{i}@gmail.com", "bounced" if i == 11 else "delivered") for i in range(1, 13)]
    sends += [send(f"m{i}", f"m{i}@hotmail.fr") for i in range(1, 6)]
    sends += [send(f"a{i}", f"a{i}@icloud.com") for i in range(1, 5)]
    sends += [send("p1", "g1@gmail.com", sent="2025-09-01T09:00:00Z", delivered="2025-09-01T09:00:05Z", campaign="C0"),
              send("p2", "a1@icloud.com", sent="2025-11-01T09:00:00Z", delivered="2025-11-01T09:00:05Z", campaign="C0")]
    opens = [[f"g{i}", "2026-01-10T10:00:00Z", GPROXY, f"66.249.80.{i}", f"og{i}"] for i in (1, 2, 3, 4)]
    opens += [[f"m{i}", "2026-01-10T10:00:00Z", OUTLOOK, f"90.0.0.{i}", f"om{i}"] for i in (1, 2)]
    opens += [[f"a{i}", "2026-01-10T09:10:00Z", "Mozilla/5.0", f"17.0.0.{i}", f"oa{i}"] for i in (1, 2, 3, 4)]
    opens += [["p1", "2025-09-02T08:00:00Z", GPROXY, "66.249.80.1", "op1"],
              ["p2", "2025-11-01T23:00:00Z", "Mozilla/5.0", "17.0.0.1", "op2"]]
    clicks = [[f"g{i}", "2026-01-10T10:05:00Z", CONTENT, IPHONE, "2.0.0.1", f"cg{i}"] for i in (1, 2)]
    clicks += [[f"g{i}", "2026-01-10T11:00:00Z", CONTENT, WIN_CHROME, "2.0.0.5", f"cg{i}"] for i in (5, 6)]
    clicks += [["g7", "2026-01-10T09:00:08Z", CONTENT, WIN_CHROME, "148.163.128.1", "cg7a"],
               ["g7", "2026-01-10T09:00:09Z", UNSUB, WIN_CHROME, "148.163.128.1", "cg7b"],
               ["g12", "2026-01-10T12:00:00Z", UNSUB, IPHONE, "2.0.0.12", "cg12"],
               ["m1", "2026-01-10T10:10:00Z", CONTENT, EDGE, "90.0.0.1", "cm1"],
               ["m2", "2026-01-10T09:01:05Z", CONTENT, EDGE, "90.0.0.2", "cm2"],
               ["a1", "2026-01-10T12:00:00Z", CONTENT, IPHONE, "37.160.0.1", "ca1"]]
    subs = [[ "2025-12-01T00:00:00Z", "A", "L", f"g{i}@gmail.com", "subscribe", "import", None,
             "2024-01-01T00:00:00Z"] for i in (1, 2, 5, 6, 8, 9)]
    subs += [["2022-12-01T00:00:00Z", "A", "L", f"g{i}@gmail.com", "subscribe", "import", None, None]
             for i in (3, 4, 7, 10, 11, 12)]
    subs += [["2025-10-01T00:00:00Z", "A", "L", f"m{i}@hotmail.fr", "subscribe", "form", None, None] for i in range(1, 6)]
    subs += [["2025-06-01T00:00:00Z", "A", "L", f"a{i}@icloud.com", "subscribe", "form", None, None] for i in range(1, 5)]
    subs += [["2026-01-10T12:00:30Z", "A", "L", "g12@gmail.com", "unsubscribe", "link", "C1", None]]
    return write_drop(directory, {
        "sends": (SEND_COLUMNS, sends),
        "opens": (OPEN_COLUMNS, opens),
        "clicks": (CLICK_COLUMNS, clicks),
        "subscriptions": (SUB_COLUMNS, subs),
        "complaints": (["ts", "message_id", "recipient", "account_id", "source"],
                       [["2026-01-11T08:00:00Z", "g10", None, "A", "abuse_desk"]]),
        "orders": (["ts", "account_id", "recipient", "order_id", "amount", "campaign_id"],
                   [["2025-12-20T10:00:00Z", "A", "g2@gmail.com", "o0", "10.00", None],
                    ["2026-01-12T10:00:00Z", "A", "g5@gmail.com", "o1", "40.00", None]]),
    })


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory) -> Path:
    from dlvstats.ingest import ingest_paths

    root = tmp_path_factory.mktemp("tiny_hidden")
    drop = build_tiny_drop(root / "drop")
    db_path = root / "tiny.duckdb"
    ingest_paths(db_path, [drop])
    return db_path


PERIOD = ("2026-01-01", "2026-02-01")


def test_hidden_images_tiny(tiny_db):
    """The hand-worked table of the module docstring, column by column."""
    from dlvstats.metrics.hidden_images import hidden_images

    df = hidden_images(tiny_db, *PERIOD, account_id="A", max_blocked_share_halfwidth=1).set_index("provider")
    assert list(df.index) == ["gmail", "microsoft", "apple"]  # by delivered, descending
    g = df.loc["gmail"]
    assert (g.delivered, g.measurable_human_openers, g.measurable_human_clickers, g.measurable_clickers_without_open) == (11, 4, 4, 2)
    assert g.machine_open_share == 0
    assert g.image_blocked_share == pytest.approx(0.5)
    low, high = _wilson(2, 4)
    assert (g.image_blocked_share_low, g.image_blocked_share_high) == (pytest.approx(low), pytest.approx(high))
    assert low == pytest.approx(0.150, abs=1e-3)
    assert g.measured_open_rate == pytest.approx(4 / 11)
    assert g.est_read_rate == pytest.approx(5.16 / 11)
    assert g.est_read_rate_low <= 5.16 / 11 <= g.est_read_rate_high
    assert g.hidden_reader_share_of_nonopens == pytest.approx(1.16 / 7)
    assert g.est_hidden_readers == pytest.approx(1.16)
    assert g.image_blocked_share_used == pytest.approx(1.16 / 5.16)
    assert g.is_measurable and g.small_cell  # 11 delivered < 1000
    m = df.loc["microsoft"]
    assert (m.delivered, m.measurable_human_openers, m.measurable_human_clickers, m.measurable_clickers_without_open) == (5, 2, 2, 0)
    assert m.image_blocked_share == 0 and m.est_read_rate == pytest.approx(18 / 35)
    assert m.hidden_reader_share_of_nonopens == pytest.approx(4 / 21)
    a = df.loc["apple"]
    assert a.delivered == 4 and a.machine_open_share == 1
    assert not a.is_measurable and "unmeasurable" in a.note
    assert pd.isna(a.est_read_rate) and pd.isna(a.image_blocked_share)
    required = ["provider", "delivered", "machine_open_share", "measurable_human_openers", "measurable_human_clickers",
                "measurable_clickers_without_open", "image_blocked_share", "measured_open_rate", "est_read_rate",
                "hidden_reader_share_of_nonopens"]
    assert set(required) <= set(df.reset_index().columns)


def test_hidden_images_precision_rule_tiny(tiny_db):
    """At the default precision (+-0.03), 4 clickers cannot measure gmail's blocked share: the figures
    stay (flagged, not hidden) but the provider is not measurable."""
    from dlvstats.metrics.hidden_images import hidden_images

    g = hidden_images(tiny_db, *PERIOD, account_id="A").set_index("provider").loc["gmail"]
    assert not g.is_measurable and g.note.startswith("imprecise")
    assert g.image_blocked_share == pytest.approx(0.5) and g.est_read_rate == pytest.approx(5.16 / 11)


def test_hidden_images_period_and_account_filters(tiny_db):
    """p1/p2 (2025) are outside January; an empty period gives an empty table."""
    from dlvstats.metrics.hidden_images import hidden_images

    assert hidden_images(tiny_db, "2025-01-01", "2026-01-01").set_index("provider").delivered.sum() == 2
    assert hidden_images(tiny_db, *PERIOD, account_id="nobody").empty
    assert hidden_images(tiny_db, *PERIOD).delivered.sum() == 20


def test_device_clients_checks_tiny(tiny_db):
    """By device: iOS phone 2 clickers (g1, g2) none without open; Windows desktop 4 (g5, g6, m1, m2),
    2 without open. Openers' clients: 4 behind Gmail's proxy, 2 Outlook. Checks: the unsubscribe-only
    reader g12 has no open (1 of 1); content clickers 6, 2 without open."""
    from dlvstats.metrics.hidden_images import (
        estimator_checks,
        hidden_images,
        hidden_images_by_device,
        in_plain_words,
        opener_clients,
    )

    dev = hidden_images_by_device(tiny_db, *PERIOD).set_index(["device_os", "form_factor"])
    assert dev.loc[("iOS", "phone")].measurable_human_clickers == 2 and dev.loc[("iOS", "phone")].measurable_clickers_without_open == 0
    win = dev.loc[("Windows", "desktop")]
    assert (win.measurable_human_clickers, win.measurable_clickers_without_open) == (4, 2)
    assert win.image_blocked_share == pytest.approx(2 / 4)
    cl = opener_clients(tiny_db, *PERIOD).set_index("client")
    assert cl.loc["Gmail image proxy (client hidden)"].measurable_human_openers == 4
    assert cl.loc["Outlook"].measurable_human_openers == 2
    assert cl.loc["Outlook"].share_of_openers == pytest.approx(2 / 6)
    checks = estimator_checks(tiny_db, *PERIOD)
    row = checks[(checks.evidence == "unsubscribe click only") & (checks.provider == "all")].iloc[0]
    assert (row.readers, row.readers_without_open) == (1, 1)
    est = checks[(checks.evidence == "content click (the estimator)") & (checks.provider == "all")].iloc[0]
    assert (est.readers, est.readers_without_open) == (6, 2)
    sentence = in_plain_words(hidden_images(tiny_db, *PERIOD, max_blocked_share_halfwidth=1))
    assert "apple" in sentence and "non-opens" in sentence
    # the headline is the table's own sum: gmail 1.16 + microsoft 4/7, of 7 + 3 non-opens
    assert "about 2 (17.3%)" in sentence


def test_sensitivity_tiny(tiny_db):
    """Default and 'timing alone' rows as worked out in the module docstring; runs read-only."""
    from dlvstats.classify import ALTERNATIVE_RULES
    from dlvstats.metrics.sensitivity import classification_sensitivity

    df = classification_sensitivity(tiny_db, *PERIOD, account_id="A").set_index("rules")
    assert list(df.index) == [r.name for r in ALTERNATIVE_RULES]
    d = df.loc["default"]
    assert d.delivered == 20
    assert d.human_open_rate == pytest.approx(6 / 20)
    assert d.human_click_rate == pytest.approx(7 / 20)
    assert d.machine_open_share == pytest.approx(4 / 10)
    assert d.bot_click_share == pytest.approx(2 / 10)
    timing = df.loc["scanner by timing alone"]
    assert timing.human_click_rate == pytest.approx(6 / 20)
    assert timing.bot_click_share == pytest.approx(3 / 10)
    assert timing.human_click_rate_change == pytest.approx(-1 / 20)
    assert df.loc["scanner window 30 s"].human_click_rate == pytest.approx(7 / 20)
    for col in ("human_open_rate_low", "human_open_rate_high", "bot_click_share_low", "bot_click_share_high"):
        assert df[col].notna().all()


# ------------------------------------------------------------------------------ against the truth


def _truth_period(truth: dict) -> tuple[str, str]:
    return truth["period"]["start"][:10], truth["period"]["end"][:10]


@pytest.mark.slow
def test_hidden_images_against_truth(sim):
    """image_blocked_share and est_read_rate within 0.03 of the simulator's truth for every provider
    not flagged unmeasurable (truth: the share of readers, among delivered messages without a machine
    open, whose pixel never loaded; and the read rate among those messages). Apple must be flagged."""
    from dlvstats.metrics.hidden_images import hidden_images

    df = hidden_images(sim.db_path, *_truth_period(sim.truth)).set_index("provider")
    truth = sim.truth["providers"]
    assert not df.loc["apple", "is_measurable"]
    measured = df[df.is_measurable]
    assert len(measured) >= 4, "the demo data should let most large providers be measured"
    report = []
    for provider, row in measured.iterrows():
        t = truth[provider]
        err_b = row.image_blocked_share - t["image_blocked_share"]
        err_read = row.est_read_rate - t["measurable_read_rate"]
        report.append(f"{provider}: blocked {row.image_blocked_share:.4f} vs {t['image_blocked_share']:.4f} "
                      f"({err_b:+.4f}); read {row.est_read_rate:.4f} vs {t['measurable_read_rate']:.4f} ({err_read:+.4f})")
    print("\n".join(report))
    for provider, row in measured.iterrows():
        t = truth[provider]
        assert abs(row.image_blocked_share - t["image_blocked_share"]) <= 0.03, provider
        assert abs(row.est_read_rate - t["measurable_read_rate"]) <= 0.03, provider


@pytest.mark.slow
def test_sensitivity_on_sim(sim):
    """Every alternative rule set gives a row; the default row agrees with the stored labels."""
    from dlvstats.classify import ALTERNATIVE_RULES
    from dlvstats.metrics.hidden_images import hidden_images
    from dlvstats.metrics.sensitivity import classification_sensitivity

    period = ("2026-09-01", "2026-10-01")
    df = classification_sensitivity(sim.db_path, *period).set_index("rules")
    assert list(df.index) == [r.name for r in ALTERNATIVE_RULES]
    hi = hidden_images(sim.db_path, *period)
    stored_measured = hi.measurable_human_openers.sum() / hi.measurable_delivered.sum()
    assert df.loc["default", "measured_open_rate"] == pytest.approx(stored_measured, rel=1e-9)
    assert (df.bot_click_share > 0).all() and (df.machine_open_share > 0).all()


def test_shrink_shares_hand_worked():
    """Two providers 0.1 and 0.5 of 1,000 clickers each, variance 0.01 each: fixed-effect weights 100,
    mean 0.3, Q = 8, tau^2 = (8 - 1) / (200 - 100) = 0.07, B = 0.01 / 0.08 = 1/8: shares 0.125 and
    0.475, variance 7/8 x 0.01 + 1/64 x 1/(2/0.08) = 0.009375. Equal shares: tau^2 = 0, full pooling.
    A provider without clickers takes no share."""
    from dlvstats.metrics.read_estimator import shrink_shares

    shrunk, var, pull, mean = shrink_shares([100, 500, 0], [1000, 1000, 0], [0.01, 0.01, 0.0], [True, True, True])
    assert shrunk[:2] == pytest.approx([0.125, 0.475])
    assert var[:2] == pytest.approx([0.009375, 0.009375])
    assert pull[:2] == pytest.approx([0.125, 0.125]) and mean == pytest.approx(0.3)
    assert math.isnan(shrunk[2])
    same, _, pull_same, _ = shrink_shares([200, 100], [1000, 500], [0.001, 0.002], [True, True])
    assert same == pytest.approx([0.2, 0.2]) and pull_same == pytest.approx([1, 1])


def test_read_rate_band_hand_worked():
    """Share among clickers 0.4, open rate 0.3: blocked readers clicking 1.5x -> b = 0.4/(0.4+0.9) = 4/13,
    rate 0.3 x 13/9; clicking 0.6x -> b = 0.4/(0.4+0.36) = 10/19, rate 0.3 x 19/9 (clipped to 1 above)."""
    from dlvstats.metrics.read_estimator import read_rate_band

    low, high = read_rate_band([0.3, 0.6], [0.4, 0.4])
    assert low == pytest.approx([0.3 * 13 / 9, 0.6 * 13 / 9])
    assert high == pytest.approx([0.3 * 19 / 9, 1.0])


def test_status_and_band_columns(tiny_db):
    """Every provider row carries a status and a sentence; apple is unmeasurable (MPP); microsoft (2
    clickers) is insufficient_data and says how much of the overall share it took; nothing is ok."""
    from dlvstats.metrics.hidden_images import hidden_images
    from dlvstats.metrics.read_estimator import STATUSES

    df = hidden_images(tiny_db, *PERIOD, account_id="A").set_index("provider")
    assert df["estimate_status"].isin(STATUSES).all() and df["status_reason"].str.len().gt(20).all()
    assert df.loc["apple", "estimate_status"] == "unmeasurable"
    assert df.loc["microsoft", "estimate_status"] == "insufficient_data"
    assert "overall share" in df.loc["microsoft", "status_reason"]
    assert df.loc["microsoft", "image_blocked_share_used"] == pytest.approx(2 / 9)
    assert df.loc["gmail", "image_blocked_share_used"] == pytest.approx(1.16 / 5.16)
    g = df.loc["gmail"]
    assert g.est_read_rate_band_low < g.est_read_rate < g.est_read_rate_band_high
    assert (df["estimate_status"] != "ok").all()


def test_assumption_violated_on_clean_evidence_only():
    """orange: 200 unsubscribe-only readers, 60% without an open (Wilson 53-67%) against 40% of its
    content clickers: clean evidence -> assumption_violated. gmail: 10 such readers, 80% -> differs but
    too few: stays ok, with the check shown. sfr: no such reader -> says no check was possible."""
    from dlvstats.metrics.read_estimator import with_assumption_checks

    done = pd.DataFrame({"provider": ["orange", "gmail", "sfr"], "image_blocked_share": [0.4, 0.4, 0.3],
                         "estimate_status": ["ok", "ok", "imprecise"], "status_reason": ["r", "r", "r"]})
    checks = pd.DataFrame({"provider": ["orange", "gmail"], "evidence": ["unsubscribe click only"] * 2,
                           "readers": [200, 10], "share_without_open__num": [120, 8],
                           "share_without_open__den": [200, 10]})
    out = with_assumption_checks(done, checks, 30).set_index("provider")
    assert list(out["estimate_status"]) == ["assumption_violated", "ok", "imprecise"]
    assert "60% without an open" in out.loc["orange", "status_reason"]
    assert out.loc["gmail", "assumption_check"].endswith(": differs")
    assert out.loc["sfr", "assumption_check"].startswith("no check possible")


@pytest.mark.slow
def test_ok_is_a_promise_on_sim(sim):
    """Every provider whose estimate_status is 'ok' has its blocked share (the share used) within 0.04 and
    its est_read_rate within 0.03 of the simulator's truth, the truth inside its est_read_rate interval;
    at least the four big providers are ok; the plain-words headline is the table's own sum."""
    from dlvstats.metrics.hidden_images import hidden_images, in_plain_words

    df = hidden_images(sim.db_path, *_truth_period(sim.truth)).set_index("provider")
    truth = sim.truth["providers"]
    ok = df[df.estimate_status == "ok"]
    assert {"gmail", "microsoft", "orange"} <= set(ok.index)
    for provider, row in ok.iterrows():
        t = truth[provider]
        assert abs(row.image_blocked_share_used - t["image_blocked_share"]) <= 0.04, provider
        assert abs(row.est_read_rate - t["measurable_read_rate"]) <= 0.03, provider
        assert row.est_read_rate_low <= t["measurable_read_rate"] <= row.est_read_rate_high, provider
        assert row.est_read_rate_band_low <= row.est_read_rate <= row.est_read_rate_band_high
    assert df.loc["apple", "estimate_status"] == "unmeasurable"
    hidden = df.loc[df.image_blocked_share_used.notna(), "est_hidden_readers"].sum()
    assert f"about {hidden:,.0f} (" in in_plain_words(df.reset_index())


def test_trailing_window_is_the_same_table_over_its_months(sim):
    """The monthly report's pooled table: hidden_images over the 3 calendar months before date_to,
    labelled with its window; in Europe/Paris the months are Paris months (DST included); more
    providers get a share of their own than in the month alone."""
    from dlvstats.metrics.hidden_images import hidden_images, trailing_hidden_images

    pooled = trailing_hidden_images(sim.db_path, "2026-11-01")
    assert set(pooled["window_from"]) == {"2026-08-01"} and set(pooled["window_to"]) == {"2026-11-01"}
    direct = hidden_images(sim.db_path, "2026-08-01", "2026-11-01")
    pd.testing.assert_frame_equal(pooled.drop(columns=["window_from", "window_to"]), direct)
    month = hidden_images(sim.db_path, "2026-10-01", "2026-11-01")
    assert pooled["measurable_human_clickers"].sum() > 2 * month["measurable_human_clickers"].sum()
    assert (pooled["estimate_status"] == "ok").sum() >= (month["estimate_status"] == "ok").sum()
    paris = trailing_hidden_images(sim.db_path, "2026-10-31T23:00:00+00:00", timezone="Europe/Paris")
    assert set(paris["window_from"]) == {"2026-08-01"} and set(paris["window_to"]) == {"2026-11-01"}
    paris_direct = hidden_images(sim.db_path, "2026-07-31T22:00:00+00:00", "2026-10-31T23:00:00+00:00")
    pd.testing.assert_frame_equal(paris.drop(columns=["window_from", "window_to"]), paris_direct)
    with pytest.raises(ValueError, match="at least 1 month"):
        trailing_hidden_images(sim.db_path, "2026-11-01", window_months=0)


def test_plain_words_say_why_each_provider_is_not_ok():
    """Each provider the sentence names is named for its own status: too few clickers, known only
    roughly, or an assumption the data contradict; ok ones are not named."""
    from dlvstats.metrics.hidden_images import in_plain_words

    table = pd.DataFrame({
        "provider": ["gmail", "orange", "gmx", "other", "apple"],
        "estimate_status": ["ok", "imprecise", "insufficient_data", "assumption_violated", "unmeasurable"],
        "note": [None, None, None, None, "machine open share 0.93: Apple MPP"],
        "image_blocked_share_used": [0.08, 0.13, 0.11, 0.22, None],
        "est_hidden_readers": [300.0, 200.0, 6.0, 650.0, None],
        "measurable_delivered": [40000, 20000, 800, 18000, 500],
        "measurable_human_openers": [4000, 2500, 100, 3900, 20],
    })
    text = in_plain_words(table)
    assert "about 1,156 (" in text
    assert "gmx have too few clicking people" in text
    assert "orange: known only roughly" in text and "other: the data contradict" in text
    assert "gmail" not in text and "No estimate for apple" in text
