"""Each classification rule on a handful of hand-built events: it fires, and a near miss does not.

Events are labelled with ``classify_preview`` (temp tables only) on a real DuckDB file holding the
dlvstats schema. Addresses: 3.64.1.1 is Amazon (snapshot), 148.163.130.1 Proofpoint, 98.136.1.1
Yahoo's proxy, 17.5.5.5 Apple; 90.x / 37.16x.x are French residential / mobile addresses in no list;
203.0.x is a gateway pool in no list (its network is its /16).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from dlvstats import classify, db

T0 = datetime(2026, 10, 5, 9, 0, 0)
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"


@pytest.fixture
def con(tmp_path):
    c = db.connect(tmp_path / "rules.duckdb")
    db.migrate(c)
    yield c
    c.close()


def send(con, message_id, recipient="r1@example.fr", delivered=T0, campaign="c1"):
    con.execute("INSERT INTO sends (message_id, sent_at, account_id, list_id, campaign_id, recipient, "
                "status, delivered_at) VALUES (?, ?, 'a', 'l', ?, ?, 'delivered', ?)",
                [message_id, delivered, campaign, recipient, delivered])


def click(con, event_id, message_id, seconds, ip, url="https://ex.fr/offre", ua=CHROME):
    con.execute("INSERT INTO clicks (event_key, message_id, ts, url, user_agent, ip, event_id, is_machine) "
                "VALUES (uuid(), ?, ?, ?, ?, ?, ?, false)",
                [message_id, T0 + timedelta(seconds=seconds), url, ua, ip, event_id])


def open_(con, event_id, message_id, seconds, ip, ua=CHROME, delivered=T0):
    con.execute("INSERT INTO opens (event_key, message_id, ts, user_agent, ip, event_id, is_machine) "
                "VALUES (uuid(), ?, ?, ?, ?, ?, false)",
                [message_id, delivered + timedelta(seconds=seconds), ua, ip, event_id])


def labels(con, rules=classify.DEFAULT_RULES) -> dict:
    classify.classify_preview(con, rules)
    rows = con.execute(
        "SELECT event_id, a.actor_rule FROM __click_actor AS a JOIN clicks USING (event_key) UNION ALL "
        "SELECT event_id, a.actor_rule FROM __open_actor AS a JOIN opens USING (event_key)").fetchall()
    return dict(rows)


def test_click_before_read_and_phone_reader_stays_human(con):
    send(con, "m1"), send(con, "m2", recipient="r2@example.fr")
    click(con, "fast", "m1", 1, "90.12.3.4")
    click(con, "phone", "m2", 45, "37.161.2.3", ua=IPHONE)  # one link, the minute it arrives, mobile
    open_(con, "phone_open", "m2", 40, "37.161.2.3", ua=IPHONE)
    got = labels(con)
    assert got["fast"] == "click_before_read"
    assert got["phone"] == "human"
    assert got["phone_open"] == "human"


def test_scanner_network_near_delivery_only(con):
    send(con, "m1"), send(con, "m2", recipient="r2@example.fr"), send(con, "m3", recipient="r3@example.fr")
    click(con, "cloud_soon", "m1", 600, "3.64.1.1")
    click(con, "cloud_late", "m2", 3 * 3600, "3.64.1.1")
    click(con, "home_soon", "m3", 600, "90.12.3.4")
    got = labels(con)
    assert got["cloud_soon"] == "scanner_network"
    assert got["cloud_late"] == "human"
    assert got["home_soon"] == "human"
    assert labels(con, replace(classify.DEFAULT_RULES, machine_network_kinds=()))["cloud_soon"] == "human"


def test_same_network_late_click_is_the_scanners(con):
    send(con, "m1")
    for i, url in enumerate(("https://ex.fr/a", "https://ex.fr/b", "https://ex.fr/unsub")):
        click(con, f"scan{i}", "m1", 30 + i, f"203.0.113.{5 + i}", url=url)
    click(con, "late_pool", "m1", 420, "203.0.200.9")  # same /16, another address of the pool
    click(con, "late_home", "m1", 430, "90.12.3.4")
    got = labels(con)
    assert {got[f"scan{i}"] for i in range(3)} == {"scanner_timing"}
    assert got["late_pool"] == "scanner_same_network"
    assert got["late_home"] == "human"
    assert labels(con, replace(classify.DEFAULT_RULES, same_network=False))["late_pool"] == "human"


def test_scanner_prefetch_by_network_not_address(con):
    send(con, "m1")
    click(con, "s1", "m1", 20, "203.0.113.5", url="https://ex.fr/a")
    click(con, "s2", "m1", 21, "203.0.113.6", url="https://ex.fr/b")
    open_(con, "pool_fetch", "m1", 22, "203.0.7.7")  # the gateway's pool, not the click's address
    open_(con, "person", "m1", 25, "90.12.3.4")
    got = labels(con)
    assert got["pool_fetch"] == "scanner_prefetch"
    assert got["person"] == "human"


def test_gateway_fetch(con):
    send(con, "m1"), send(con, "m2", recipient="r2@example.fr")
    open_(con, "gw", "m1", 300, "148.163.130.1")
    open_(con, "corp", "m2", 300, "193.51.2.3")
    got = labels(con)
    assert got["gw"] == "gateway_fetch"
    assert got["corp"] == "human"


def test_prefetching_recipient_whatever_the_user_agent(con):
    for i in range(3):
        day = T0 + timedelta(days=7 * i)
        send(con, f"p{i}", recipient="pre@yahoo.fr", delivered=day)
        open_(con, f"p{i}_fetch", f"p{i}", 90, "98.136.1.1", delivered=day)  # full browser UA
        send(con, f"n{i}", recipient="nope@yahoo.fr", delivered=day)
        if i < 2:  # two of three fetched early: not "every message"
            open_(con, f"n{i}_fetch", f"n{i}", 90, "98.136.1.1", delivered=day)
    open_(con, "p0_later", "p0", 5 * 3600, "98.136.1.1")
    got = labels(con)
    assert {got[f"p{i}_fetch"] for i in range(3)} == {"prefetch_recipient"}
    assert got["p0_later"] == "human"
    assert got["n0_fetch"] == got["n1_fetch"] == "human"


def test_prefetch_recipient_marks_message_without_signal(con):
    for i in range(3):
        day = T0 + timedelta(days=7 * i)
        send(con, f"p{i}", recipient="pre@yahoo.fr", delivered=day)
        open_(con, f"p{i}_fetch", f"p{i}", 90, "98.136.1.1", delivered=day)
    classify.classify(con)
    row = con.execute("SELECT has_mpp_open FROM message_facts WHERE message_id = 'p1'").fetchone()
    assert row == (True,)


def test_mpp_address_only_when_asked(con):
    send(con, "m1")
    open_(con, "apple", "m1", 3600, "17.5.5.5", ua=IPHONE)
    assert labels(con)["apple"] == "human"
    assert labels(con, replace(classify.DEFAULT_RULES, mpp_by_ip=True))["apple"] == "mpp_address"
