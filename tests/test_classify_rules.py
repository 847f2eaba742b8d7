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


def test_mpp_address_by_apple_or_cdn_network(con):
    """MPP prefetches with a full Apple Mail user agent: from Apple's network, or from a relay CDN
    (Akamai 172.224.x, Cloudflare 104.28.x) with Apple Mail's UA; a Chrome user on a CDN address and
    an iPhone reader at home stay human; mpp_by_ip = False goes back to the bare user agent."""
    for m in ("m1", "m2", "m3", "m4"):
        send(con, m, recipient=f"{m}@icloud.com")
    open_(con, "apple", "m1", 3600, "17.5.5.5", ua=IPHONE)
    open_(con, "cdn_mail", "m2", 5 * 3600, "172.226.3.4", ua=IPHONE)
    open_(con, "cdn_chrome", "m3", 600, "104.28.9.9", ua=CHROME)
    open_(con, "home_iphone", "m4", 600, "90.12.3.4", ua=IPHONE)
    got = labels(con)
    assert got["apple"] == got["cdn_mail"] == "mpp_address"
    assert got["cdn_chrome"] == got["home_iphone"] == "human"
    assert labels(con, replace(classify.DEFAULT_RULES, mpp_by_ip=False))["apple"] == "human"


def test_prefetching_recipient_by_proxy_user_agent(con):
    """A proxy address in no list (74.125.x) still prefetches: its Gmail proxy user agent says so."""
    proxy_ua = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
    for i in range(3):
        day = T0 + timedelta(days=7 * i)
        send(con, f"p{i}", recipient="pre@gmail.com", delivered=day)
        open_(con, f"p{i}_fetch", f"p{i}", 120, "74.125.210.1", ua=proxy_ua, delivered=day)
        send(con, f"n{i}", recipient="reader@gmail.com", delivered=day)
    open_(con, "n0_read", "n0", 120, "74.125.210.1", ua=proxy_ua)  # one read of three: a person
    got = labels(con)
    assert {got[f"p{i}_fetch"] for i in range(3)} == {"prefetch_recipient"}
    assert got["n0_read"] == "image_proxy"


def test_repeat_scan_one_late_link_from_an_unlisted_network(con):
    """A hosting network (51.68.x, in no list) clicks one link of each of four recipients' messages,
    minutes after delivery: a scanner working through the month. Near misses: the same pattern from
    a network with two recipients only, and an ISP network whose clicks are mostly late."""
    for i in range(4):
        send(con, f"h{i}", recipient=f"h{i}@corp.fr")
        click(con, f"hosting{i}", f"h{i}", 300 + 40 * i, f"51.68.{i}.{10 + i}")
    for i in range(2):
        send(con, f"f{i}", recipient=f"f{i}@corp.fr")
        click(con, f"few{i}", f"f{i}", 300, f"51.75.{i}.9")
    for i in range(6):
        send(con, f"o{i}", recipient=f"o{i}@orange.fr")
        click(con, f"isp{i}", f"o{i}", 240 if i < 3 else 6 * 3600, f"90.5.{i}.1")
    got = labels(con)
    assert {got[f"hosting{i}"] for i in range(4)} == {"repeat_scan"}
    assert {got["few0"], got["few1"]} == {"human"}
    assert {got[f"isp{i}"] for i in range(6)} == {"human"}
    assert labels(con, replace(classify.DEFAULT_RULES, rescan_min_recipients=10**9))["hosting0"] == "human"


def test_scanner_fetch_beside_a_late_rescan(con):
    """A time-of-click re-scan 20 minutes after delivery fetches the image from its own network as it
    clicks every link; the person's open from home a minute later is human."""
    send(con, "m1")
    for i, url in enumerate(("https://ex.fr/a", "https://ex.fr/b", "https://ex.fr/unsub")):
        click(con, f"rescan{i}", "m1", 1200 + i, f"203.0.113.{5 + i}", url=url)
    open_(con, "scan_fetch", "m1", 1198, "203.0.44.4")
    open_(con, "person", "m1", 1230, "90.12.3.4")
    got = labels(con)
    assert {got[f"rescan{i}"] for i in range(3)} == {"scanner_burst"}
    assert got["scan_fetch"] == "scanner_fetch"
    assert got["person"] == "human"


def test_two_quick_human_clicks_are_not_a_burst(con):
    """Two links within ten seconds, an hour after delivery, on a two-link campaign: a person."""
    send(con, "m1")
    click(con, "a", "m1", 3600, "90.12.3.4", url="https://ex.fr/a")
    click(con, "b", "m1", 3606, "90.12.3.4", url="https://ex.fr/b")
    got = labels(con)
    assert got["a"] == got["b"] == "human"
    assert labels(con, replace(classify.DEFAULT_RULES, burst_min_links=2))["a"] == "scanner_burst"


def test_phone_reader_the_minute_it_arrives_stays_human(con):
    """A person reading on a phone the minute the message arrives, from a mobile or
    residential network, opens and clicks one link, stays human under every rule, even with
    scanners busy on other recipients' messages of the same campaign from data-centre networks."""
    for i in range(4):
        send(con, f"s{i}", recipient=f"s{i}@corp.fr")
        for j, url in enumerate(("https://ex.fr/a", "https://ex.fr/b", "https://ex.fr/unsub")):
            click(con, f"scan{i}{j}", f"s{i}", 20 + j, "3.64.1.1", url=url)
    readers = (("mobile", "37.161.2.3"), ("orange", "90.12.3.4"), ("free", "82.64.7.8"))
    for name, ip in readers:
        send(con, name, recipient=f"{name}@example.fr")
        open_(con, f"{name}_open", name, 35, ip, ua=IPHONE)
        click(con, f"{name}_click", name, 50, ip, ua=IPHONE)
    got = labels(con)
    assert {got[f"scan{i}{j}"] for i in range(4) for j in range(3)} == {"scanner_timing"}
    for name, _ in readers:
        assert got[f"{name}_open"] == "human", name
        assert got[f"{name}_click"] == "human", name


def flagged_click(con, event_id, message_id, seconds, ip, machine, url="https://ex.fr/offre"):
    con.execute("INSERT INTO clicks (event_key, message_id, ts, url, user_agent, ip, event_id, is_machine) "
                "VALUES (uuid(), ?, ?, ?, ?, ?, ?, ?)",
                [message_id, T0 + timedelta(seconds=seconds), url, CHROME, ip, event_id, machine])


def test_apple_mpp_by_the_bare_user_agent(con):
    """Apple MPP's proxy fetches with the bare 'Mozilla/5.0', from anywhere; a real Mail user agent
    at home is a person, and so is a browser whose user agent merely starts the same way."""
    for m in ("m1", "m2", "m3"):
        send(con, m, recipient=f"{m}@icloud.com")
    open_(con, "bare", "m1", 5 * 3600, "90.12.3.4", ua="Mozilla/5.0")
    open_(con, "mail_app", "m2", 600, "90.12.3.4", ua=IPHONE)
    open_(con, "prefix", "m3", 600, "90.12.3.5", ua="Mozilla/5.0 (X11; Linux x86_64)")
    got = labels(con)
    assert got["bare"] == "apple_mpp"
    assert got["mail_app"] == got["prefix"] == "human"


def test_vendor_flag_is_trusted_only_when_asked(con):
    """The ESP's own bot flag (SendGrid's sg_machine_open, a click bot flag) labels the event; an
    unflagged twin stays human; trust_vendor_flag = False ignores the flag."""
    send(con, "m1"), send(con, "m2", recipient="r2@example.fr")
    flagged_click(con, "flagged", "m1", 3 * 3600, "90.12.3.4", True)
    flagged_click(con, "unflagged", "m2", 3 * 3600, "90.12.3.4", False)
    got = labels(con)
    assert got["flagged"] == "vendor_flag" and got["unflagged"] == "human"
    assert labels(con, replace(classify.DEFAULT_RULES, trust_vendor_flag=False))["flagged"] == "human"


def test_scanner_timing_every_link_in_seconds_near_delivery(con):
    """Several links of one message within seconds, soon after delivery, from an address in no list:
    a scanner following every link. Near misses: one link at the same moment (a quick reader), and
    the same burst of links hours later (a person opening each offer)."""
    rules = classify.DEFAULT_RULES
    soon = rules.min_read_seconds + 30
    assert soon < rules.scanner_seconds
    send(con, "m1"), send(con, "m2", recipient="r2@example.fr"), send(con, "m3", recipient="r3@example.fr")
    for k, url in enumerate(("https://ex.fr/a", "https://ex.fr/b", "https://ex.fr/c")):
        click(con, f"burst_{k}", "m1", soon + k, "90.12.3.4", url=url)
        click(con, f"late_{k}", "m3", 6 * 3600 + k * 40, "90.12.3.6", url=url)
    click(con, "single", "m2", soon, "90.12.3.5")
    got = labels(con)
    assert {got[f"burst_{k}"] for k in range(3)} == {"scanner_timing"}
    assert got["single"] == "human"
    assert {got[f"late_{k}"] for k in range(3)} == {"human"}


def test_previews_of_many_rule_sets_label_as_one_preview_each(con):
    """The sensitivity table labels one scope under every alternative rule set, building the scope and
    the events' networks once (classify_previews): each rule set's labels are those of its own
    classify_preview, and the rule sets do not all agree (so the comparison can fail)."""
    for k in range(1, 7):
        send(con, f"m{k}", recipient=f"r{k}@example.fr")
    flagged_click(con, "flagged", "m1", 3 * 3600, "90.12.3.4", True)
    click(con, "cloud_soon", "m2", 600, "3.64.1.1")
    open_(con, "proofpoint_open", "m2", 605, "148.163.130.1")
    for k, url in enumerate(("https://ex.fr/a", "https://ex.fr/b", "https://ex.fr/c")):
        click(con, f"burst_{k}", "m3", classify.DEFAULT_RULES.min_read_seconds + 30 + k, "90.12.3.4", url=url)
    open_(con, "mpp", "m4", 20, "17.5.5.5", ua="Mozilla/5.0")
    click(con, "phone", "m5", 45, "37.161.2.3", ua=IPHONE)
    open_(con, "late_gateway", "m6", 400, "3.64.1.1")
    one_by_one = {rules.name: labels(con, rules) for rules in classify.ALTERNATIVE_RULES}
    together = {}
    for rules in classify.classify_previews(con, classify.ALTERNATIVE_RULES):
        together[rules.name] = dict(con.execute(
            "SELECT event_id, a.actor_rule FROM __click_actor AS a JOIN clicks USING (event_key) UNION ALL "
            "SELECT event_id, a.actor_rule FROM __open_actor AS a JOIN opens USING (event_key)").fetchall())
    assert together == one_by_one
    assert len(together) == len(classify.ALTERNATIVE_RULES)
    assert len({tuple(sorted(v.items())) for v in together.values()}) > 1
