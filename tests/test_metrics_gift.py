"""Gift-campaign metrics on a tiny hand-built drop, then against the simulator's truth.

The drop (account ``shop``, source list ``A``, destination list ``B``; every click comes hours after
delivery, so it is human; every open has a desktop user agent, so it is human):

- gift ``G1`` (2026-01-10 10:00, list A) to p1..p6; p6 hard-bounces (550 5.1.1).
  - p1: opens, clicks at 12:00, subscribes to B (source gift, G1) and is unsubscribed from A
    (source moved, G1) at 12:05; orders 50 on 2026-02-01 (22 days later: a 90-day buyer).
  - p2: opens, clicks at 13:00, re-registers at 13:05 (moved from A too); orders 20 on
    2026-06-01 (142 days later: not a 90-day buyer).
  - p3: clicks on 2026-01-11 09:00 without opening, does not re-register; orders 30 on
    2026-01-15 naming G1 (a control buyer; attributed to G1; 4 days after the click).
  - p4: clicks on 2026-01-11 10:00, does not re-register, never orders (control non-buyer).
  - p5: opens; complains on 2026-01-12 09:00; unsubscribes by link (G1) on 2026-01-12 10:00.
- regular ``R1`` (2026-01-20 10:00, list A) to p3, p4, p5 (after p5's unsubscribe!) and p6
  (hard-bounces again); p4 clicks it on 2026-01-20 15:00.
- regular ``R2`` (2026-01-21 10:00, list B) to p1, p2; p1 opens it.
- gift ``G2`` (2026-05-01 10:00, list A) to p3, p4; p3 clicks at 11:00 and re-registers at 12:00.
- re-engagement ``W1`` (2026-01-25 10:00, list A) to p4 only: p4 clicks it, no subscription.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from helpers import write_drop

SEND_COLUMNS = ["message_id", "sent_at", "delivered_at", "account_id", "list_id", "campaign_id", "recipient",
                "status", "bounce_class", "smtp_code", "enhanced_status", "bounce_reason", "sending_ip"]
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.0"


def _send(mid, at, lst, camp, who, status="delivered"):
    hard = status == "bounced"
    return [mid, at, at if not hard else None, "shop", lst, camp, f"{who}@example.fr", status,
            "hard" if hard else None, 550 if hard else None, "5.1.1" if hard else None,
            "user unknown" if hard else None, "192.0.2.10"]


G1, R1, R2, G2, W1 = ("2026-01-10T10:00:00Z", "2026-01-20T10:00:00Z", "2026-01-21T10:00:00Z",
                      "2026-05-01T10:00:00Z", "2026-01-25T10:00:00Z")


def build_drop(directory: Path) -> Path:
    sends = [_send(f"g1-p{i}", G1, "A", "G1", f"p{i}") for i in range(1, 6)]
    sends.append(_send("g1-p6", G1, "A", "G1", "p6", "bounced"))
    sends += [_send(f"r1-{p}", R1, "A", "R1", p) for p in ("p3", "p4", "p5")]
    sends.append(_send("r1-p6", R1, "A", "R1", "p6", "bounced"))
    sends += [_send(f"r2-{p}", R2, "B", "R2", p) for p in ("p1", "p2")]
    sends += [_send(f"g2-{p}", G2, "A", "G2", p) for p in ("p3", "p4")]
    sends.append(_send("w1-p4", W1, "A", "W1", "p4"))
    opens = [
        ["g1-p1", "2026-01-10T11:55:00Z", UA, "198.51.100.1"],
        ["g1-p2", "2026-01-10T12:55:00Z", UA, "198.51.100.2"],
        ["g1-p5", "2026-01-11T08:00:00Z", UA, "198.51.100.5"],
        ["r2-p1", "2026-01-21T18:00:00Z", UA, "198.51.100.1"],
    ]
    clicks = [
        ["g1-p1", "2026-01-10T12:00:00Z", "https://shop.example/gift", UA, "198.51.100.1"],
        ["g1-p2", "2026-01-10T13:00:00Z", "https://shop.example/gift", UA, "198.51.100.2"],
        ["g1-p3", "2026-01-11T09:00:00Z", "https://shop.example/gift", UA, "198.51.100.3"],
        ["g1-p4", "2026-01-11T10:00:00Z", "https://shop.example/gift", UA, "198.51.100.4"],
        ["r1-p4", "2026-01-20T15:00:00Z", "https://shop.example/sale", UA, "198.51.100.4"],
        ["g2-p3", "2026-05-01T11:00:00Z", "https://shop.example/gift", UA, "198.51.100.3"],
        ["w1-p4", "2026-01-25T15:00:00Z", "https://shop.example/back", UA, "198.51.100.4"],
    ]
    subs = [
        ["2025-01-01T00:00:00Z", "shop", "A", f"p{i}@example.fr", "subscribe", "form", None] for i in range(1, 7)
    ] + [
        ["2026-01-10T12:05:00Z", "shop", "B", "p1@example.fr", "subscribe", "gift", "G1"],
        ["2026-01-10T12:05:00Z", "shop", "A", "p1@example.fr", "unsubscribe", "moved", "G1"],
        ["2026-01-10T13:05:00Z", "shop", "B", "p2@example.fr", "subscribe", "gift", "G1"],
        ["2026-01-10T13:05:00Z", "shop", "A", "p2@example.fr", "unsubscribe", "moved", "G1"],
        ["2026-01-12T10:00:00Z", "shop", "A", "p5@example.fr", "unsubscribe", "link", "G1"],
        ["2026-05-01T12:00:00Z", "shop", "B", "p3@example.fr", "subscribe", "gift", "G2"],
        ["2026-05-01T12:00:00Z", "shop", "A", "p3@example.fr", "unsubscribe", "moved", "G2"],
    ]
    orders = [
        ["2026-02-01T10:00:00Z", "shop", "p1@example.fr", "o1", "50.00", None],
        ["2026-06-01T10:00:00Z", "shop", "p2@example.fr", "o2", "20.00", None],
        ["2026-01-15T10:00:00Z", "shop", "p3@example.fr", "o3", "30.00", "G1"],
    ]
    campaigns = [
        ["G1", "shop", "A", G1, "gift", "Your gift"],
        ["R1", "shop", "A", R1, "regular", "January sale"],
        ["R2", "shop", "B", R2, "regular", "Welcome to B"],
        ["G2", "shop", "A", G2, "gift", "Another gift"],
        ["W1", "shop", "A", W1, "reengagement", "We miss you"],
    ]
    return write_drop(directory, {
        "sends": (SEND_COLUMNS, sends),
        "opens": (["message_id", "ts", "user_agent", "ip"], opens),
        "clicks": (["message_id", "ts", "url", "user_agent", "ip"], clicks),
        "complaints": (["ts", "message_id", "source"], [["2026-01-12T09:00:00Z", "g1-p5", "abuse_desk"]]),
        "subscriptions": (["ts", "account_id", "list_id", "recipient", "action", "source", "campaign_id"], subs),
        "orders": (["ts", "account_id", "recipient", "order_id", "amount", "campaign_id"], orders),
        "campaigns": (["campaign_id", "account_id", "list_id", "sent_at", "kind", "name"], campaigns),
    })


@pytest.fixture(scope="module")
def gift_db(tmp_path_factory) -> Path:
    from dlvstats.ingest import ingest_paths

    root = tmp_path_factory.mktemp("gift")
    db_path = root / "gift.duckdb"
    ingest_paths(db_path, [build_drop(root / "drop")])
    return db_path


PERIOD = ("2026-01-01", "2026-07-01")


def assert_no_address(frame) -> None:
    """No recipient address in any output column (personal data)."""
    assert "recipient" not in frame.columns
    for column in frame.columns:
        if frame[column].dtype == object or str(frame[column].dtype).startswith("str"):
            assert not frame[column].astype(str).str.contains("@").any(), column


def test_gift_campaigns_by_hand(gift_db):
    """G1: sends 6, delivered 5 (p6 bounced); human openers p1, p2, p5 = 3; human clickers p1..p4 = 4;
    reregistered p1, p2 = 2, rereg_rate 2/5 = 0.4; removed_from_source 2 (two 'moved');
    complaints 1 (p5), complaint_rate 1/5; unsubscribes 1 (p5 by link; 'moved' does not count),
    unsubscribe_rate 1/5; hard_bounce_rate 1/6; buyers_90d 1 (p1 bought 22 days after; p2 after 142),
    buyer_rate_90d 1/2; control = clickers p3, p4 who did not re-register, control_buyers 1 (p3, 4 days
    after the click), control_buyer_rate_90d 1/2; engaged next 90 days: p1 (opened R2), p4 (clicked
    R1 and W1) = 2 of 5; attributed revenue 30 (o3 names G1), per delivered 30/5 = 6; last-click
    revenue within 7 days: o3 (4 days after p3's G1 click) = 30; o1 is 22 days after p1's click.
    Data end: 2026-06-01 (o2); the latest 90-day window ends 2026-01-11 10:00 + 90 d = 2026-04-11:
    mature. G2 (2026-05-01): delivered 2, p3 re-registers (1/2), ends 2026-07-30 > data end: immature.
    """
    from dlvstats.metrics.gift import gift_campaigns

    frame = gift_campaigns(gift_db, *PERIOD).set_index("campaign_id")
    assert list(frame.index) == ["G1", "G2"]
    g1 = frame.loc["G1"]
    expected = {"sends": 6, "delivered": 5, "human_opener_recipients": 3, "human_clicker_recipients": 4, "reregistered": 2,
                "removed_from_source": 2, "complaints": 1, "unsubscribes": 1, "buyers_90d": 1,
                "control_clickers": 2, "control_buyers_90d": 1, "engaged_next_90d": 2, "hard_bounces": 1,
                "attributed_orders": 1}
    for column, value in expected.items():
        assert g1[column] == value, column
    rates = {"rereg_rate": 0.4, "complaint_rate": 0.2, "unsubscribe_rate": 0.2, "hard_bounce_rate": 1 / 6,
             "buyer_rate_90d": 0.5, "control_buyer_rate_90d": 0.5, "engaged_next_rate_90d": 0.4,
             "human_open_rate": 0.6, "human_click_rate": 0.8, "revenue_per_delivered": 6.0,
             "click_revenue_per_delivered_7d": 6.0}
    for column, value in rates.items():
        assert g1[column] == pytest.approx(value), column
    assert float(g1["attributed_revenue"]) == 30 and float(g1["click_revenue_7d"]) == 30
    assert not g1["is_immature"]
    assert str(g1["data_end_at"])[:10] == "2026-06-01"
    # intervals bracket the rate, and every row of this drop is a small cell
    assert g1["rereg_rate_low"] < 0.4 < g1["rereg_rate_high"]
    assert g1["small_cell"] and g1["small_cell_buyers"]
    g2 = frame.loc["G2"]
    assert (g2["delivered"], g2["reregistered"], g2["rereg_rate"]) == (2, 1, 0.5)
    assert g2["is_immature"]
    assert_no_address(frame)


def test_public_columns_present(gift_db):
    from dlvstats.metrics.gift import gift_campaigns

    frame = gift_campaigns(gift_db, *PERIOD)
    public = ["campaign_id", "sent_at", "delivered", "human_opener_recipients", "human_clicker_recipients", "reregistered",
              "rereg_rate", "removed_from_source", "complaints", "complaint_rate", "unsubscribe_rate",
              "buyers_90d", "buyer_rate_90d", "control_buyer_rate_90d", "is_immature", "small_cell"]
    for column in public:
        assert column in frame.columns, column
    for rate in ["rereg_rate", "complaint_rate", "unsubscribe_rate", "buyer_rate_90d", "control_buyer_rate_90d"]:
        assert f"{rate}_low" in frame.columns and f"{rate}_high" in frame.columns


def test_period_is_half_open_on_sent_at(gift_db):
    """G1 went at 2026-01-10 10:00: [.., 2026-01-10 10:00) excludes it, [2026-01-10 10:00, ..) includes it."""
    from dlvstats.metrics.gift import gift_campaigns

    assert gift_campaigns(gift_db, "2026-01-01", "2026-01-10T10:00:00").empty
    assert list(gift_campaigns(gift_db, "2026-01-10T10:00:00", "2026-01-11")["campaign_id"]) == ["G1"]
    assert gift_campaigns(gift_db, *PERIOD, account_id="nobody").empty


def test_reengagement_view(gift_db):
    """W1 (re-engagement, 2026-01-25) to p4: delivered 1, p4 clicked, nobody re-registered; p4's
    next engagement is the G2 click on 2026-05-01, 96 days later, outside the 90 days (R1 came
    before W1): engaged_next_90d 0; control clicker p4 never orders: control_buyer_rate_90d 0/1;
    buyer_rate_90d has no re-registrant to divide by: NaN."""
    from dlvstats.metrics.gift import reengagement_campaigns

    frame = reengagement_campaigns(gift_db, *PERIOD)
    assert list(frame["campaign_id"]) == ["W1"]
    w1 = frame.iloc[0]
    assert (w1["delivered"], w1["human_clicker_recipients"], w1["reregistered"], w1["control_clickers"]) == (1, 1, 0, 1)
    assert w1["engaged_next_90d"] == 0
    assert w1["control_buyer_rate_90d"] == 0
    assert math.isnan(w1["buyer_rate_90d"])


def test_campaign_kinds_by_hand(gift_db):
    """gift (G1, G2): sends 8, delivered 7; human opens 3 (G1 p1, p2, p5) -> 3/7; human clicks
    G1 p1..p4 + G2 p3 = 5 -> 5/7; complaints 1/7; unsubscribes 1/7; hard bounces 1/8; re-registered
    p1, p2, p3 = 3; attributed revenue 30 -> 30/7 per delivered; last-click revenue 30 (o3 after p3's
    G1 click). regular (R1, R2): sends 6, delivered 5 (r1-p6 bounced); opens 1 (p1 on R2) -> 1/5;
    clicks 1 (p4 on R1) -> 1/5; hard bounces 1/6; revenue 0."""
    from dlvstats.metrics.gift import campaign_kinds

    frame = campaign_kinds(gift_db, *PERIOD).set_index("kind")
    gift, regular = frame.loc["gift"], frame.loc["regular"]
    assert (gift["campaigns"], gift["sends"], gift["delivered"], gift["reregistered"]) == (2, 8, 7, 3)
    assert gift["human_open_rate"] == pytest.approx(3 / 7)
    assert gift["human_click_rate"] == pytest.approx(5 / 7)
    assert gift["complaint_rate"] == pytest.approx(1 / 7)
    assert gift["unsubscribe_rate"] == pytest.approx(1 / 7)
    assert gift["hard_bounce_rate"] == pytest.approx(1 / 8)
    assert gift["revenue_per_delivered"] == pytest.approx(30 / 7)
    assert gift["click_revenue_per_delivered_7d"] == pytest.approx(30 / 7)
    assert gift["revenue_per_delivered_low"] < 30 / 7 < gift["revenue_per_delivered_high"]
    assert (regular["sends"], regular["delivered"]) == (6, 5)
    assert regular["human_open_rate"] == pytest.approx(0.2)
    assert regular["human_click_rate"] == pytest.approx(0.2)
    assert regular["hard_bounce_rate"] == pytest.approx(1 / 6)
    assert regular["revenue_per_delivered"] == 0


def test_migration_by_hand(gift_db):
    """Cohort = delivered recipients of list A's first gift G1 = p1..p5 (5).
    k=1 (G1): reached 5, re-registered 2 (p1, p2), cumulative 2 -> 0.4; p5 left A by link before G2:
    left_other 1; remaining on A 5 - 2 - 1 = 2 (p3, p4).
    k=2 (G2): reached 2 (p3, p4), re-registered 1 (p3), cumulative 3 -> 0.6; left_other 1 (p5);
    remaining 1 (p4)."""
    from dlvstats.metrics.gift import gift_migration

    frame = gift_migration(gift_db, *PERIOD).set_index("gift_number")
    assert list(frame.index) == [1, 2]
    assert list(frame["cohort_size"]) == [5, 5]
    assert list(frame["reached"]) == [5, 2]
    assert list(frame["reregistered"]) == [2, 1]
    assert list(frame["cum_reregistered"]) == [2, 3]
    assert list(frame["left_other"]) == [1, 1]
    assert list(frame["remaining_on_source"]) == [2, 1]
    assert list(frame["cum_rereg_share"]) == pytest.approx([0.4, 0.6])
    assert list(frame["remaining_share"]) == pytest.approx([0.4, 0.2])


def test_grey_list_by_hand(gift_db):
    """Window 1 = [G1, G2). Grey messages (sent while the person was on A and not moved): G1 to p1..p5
    and R1 to p3, p4 (and W1 to p4) = 8 delivered; human opens G1 p1, p2, p5 = 3 -> 3/8; human clicks
    G1 p1..p4, R1 p4, W1 p4 = 6 -> 6/8. Grey buyers: p3 (o3 on 01-15, still grey) of members p1..p5 =
    1/5. Migrated: R2 to p1, p2: delivered 2, one open -> 1/2; buyer p1 (o1 on 02-01, after moving)
    1/2. Left: R1 to p5 (after p5's unsubscribe): 1 message."""
    from dlvstats.metrics.gift import grey_list

    frame = grey_list(gift_db, *PERIOD)
    w1 = frame[frame["gift_number"] == 1].set_index("segment")
    grey, migrated, gone = w1.loc["grey"], w1.loc["migrated"], w1.loc["left"]
    assert (grey["members"], grey["delivered"], grey["buyers"]) == (5, 8, 1)
    assert grey["human_open_rate"] == pytest.approx(3 / 8)
    assert grey["human_click_rate"] == pytest.approx(6 / 8)
    assert grey["buyer_share"] == pytest.approx(1 / 5)
    assert (migrated["members"], migrated["delivered"], migrated["buyers"]) == (2, 2, 1)
    assert migrated["human_open_rate"] == pytest.approx(0.5)
    assert (gone["members"], gone["sends"]) == (1, 1)


# --- against the simulator's truth -------------------------------------------------------------

def _truth_gifts(truth: dict) -> dict:
    gifts = truth.get("gift_campaigns")
    assert gifts, "the simulator's truth.json names no gift campaign"
    if isinstance(gifts, list):
        gifts = {g["campaign_id"]: g for g in gifts}
    return gifts


def test_reregistered_exact_against_truth(sim):
    """`reregistered` equals the simulator's own count for every gift campaign."""
    from dlvstats.metrics.gift import gift_campaigns

    gifts = _truth_gifts(sim.truth)
    frame = gift_campaigns(sim.db_path, "2000-01-01", "2100-01-01").set_index("campaign_id")
    assert set(gifts) <= set(frame.index)
    for campaign_id, truth in gifts.items():
        assert frame.loc[campaign_id, "reregistered"] == truth["reregistered"], campaign_id
        if "delivered" in truth:
            assert frame.loc[campaign_id, "delivered"] == truth["delivered"], campaign_id
        if "buyers_90d" in truth and not frame.loc[campaign_id, "is_immature"]:
            assert frame.loc[campaign_id, "buyers_90d"] == truth["buyers_90d"], campaign_id


def test_gift_reregistrants_buy_less_than_control(sim):
    """The simulator makes gift re-registrants buy less than comparable recipients (0.4x)."""
    from dlvstats.metrics.gift import gift_campaigns

    _truth_gifts(sim.truth)
    frame = gift_campaigns(sim.db_path, "2000-01-01", "2100-01-01")
    frame = frame[~frame["is_immature"]]
    assert frame["reregistered"].sum() >= 100, "too few mature re-registrants to compare with the control"
    pooled = frame["buyers_90d"].sum() / frame["reregistered"].sum()
    control = frame["control_buyers_90d"].sum() / max(frame["control_clickers"].sum(), 1)
    assert pooled < control


def test_matured_pooled_trailing_window(gift_db):
    """Report month June 2026 (date_to 2026-07-01): G2 (sent 2026-05-01) is still inside its 90-day
    window, so the month alone cannot say whether gift-takers buy; over the trailing 12 months G1 has
    matured: 1 of 2 gift-takers bought (1/2) against 1 of 2 control clickers (see the by-hand test).
    With a 1-month window nothing has matured and the sentence says the question cannot be answered."""
    from dlvstats.metrics.gift import gift_in_plain_words, matured_pooled

    pooled = matured_pooled(gift_db, "2026-07-01")
    assert len(pooled) == 1
    row = pooled.iloc[0]
    assert (row.campaigns_pooled, row.reregistered, row.buyers_90d) == (1, 2, 1)
    assert row.buyer_rate_90d == pytest.approx(0.5) and row.control_buyer_rate_90d == pytest.approx(0.5)
    assert row.buyer_rate_90d_low < 0.5 < row.buyer_rate_90d_high
    assert (row.window_from, row.window_to) == ("2025-07-01", "2026-07-01")
    sentence = gift_in_plain_words(pooled)
    assert "50.0% of 2 gift-takers" in sentence and "too few gift-takers" in sentence
    empty = matured_pooled(gift_db, "2026-07-01", window_months=1)
    assert empty.empty and "cannot be answered" in gift_in_plain_words(empty, 1)
    assert_no_address(pooled)
