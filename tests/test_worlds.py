"""Each world mechanism: its logs agree with its truth, and it does what it says.

Every world is simulated once, small (2,000 contacts, 2 months), and read back with DuckDB straight
from the drop files; the generic checks hold in every world (every machine event of the truth is in
the logs; a message has a human open in the logs exactly when the truth says its pixel loaded), the
specific ones say what each mechanism changes.
"""

from __future__ import annotations

import ipaddress
import json

import duckdb
import pytest

from dlvstats.simulate import simulate
from dlvstats.simulate.worlds import MECHANISMS, list_worlds, parse_world
from dlvstats.simulate.worlds.machines import _CDN_BLOCKS, GATEWAYS

WORLDS = ("scanner_pools:1", "proxy_prefetch:0.6", "mpp_variants:0.5", "device_blocking", "blocked_click_ratio:2",
          "plain_text:0.3", "old_lists", "thin_providers")


def _load(out):
    con = duckdb.connect()
    for kind in ("sends", "opens", "clicks", "subscriptions"):
        con.execute(f"CREATE VIEW {kind} AS SELECT * FROM read_csv('{out}/drops/*/{kind}.csv.gz', union_by_name=true)")
    con.execute(f"CREATE VIEW machine AS SELECT * FROM read_csv('{out}/truth_machine_events.csv.gz')")
    con.execute(f"CREATE VIEW tm AS SELECT * FROM read_parquet('{out}/truth_messages.parquet')")
    return con


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    cache = {}

    def get(spec):
        if spec not in cache:
            out = tmp_path_factory.mktemp(spec.replace(":", "_").replace(",", "+") or "default")
            truth = simulate(out / "sim", seed=7, contacts=2000, months=2, world=parse_world(spec) if spec else None)
            cache[spec] = (truth, _load(out / "sim"))
        return cache[spec]
    return get


def _in_blocks(ip: str, blocks) -> bool:
    return any(ipaddress.ip_address(ip) in ipaddress.ip_network(b) for b in blocks)


@pytest.mark.parametrize("spec", WORLDS)
def test_logs_agree_with_truth(runs, spec):
    truth, con = runs(spec)
    # every machine event of the truth is an event of the logs
    missing = con.execute("""SELECT count(*) FROM machine m WHERE NOT EXISTS (
        SELECT 1 FROM opens o WHERE o.event_id = m.event_id) AND NOT EXISTS (
        SELECT 1 FROM clicks c WHERE c.event_id = m.event_id)""").fetchone()[0]
    assert missing == 0
    counted = con.execute("SELECT machine_type, count(*) FROM machine WHERE kind = 'opens' GROUP BY 1").fetchall()
    assert dict(counted) == truth["machine_events"]["opens"]
    # a message has a non-machine open in the logs exactly when the truth says its pixel loaded
    mismatch = con.execute("""
        WITH human AS (SELECT DISTINCT message_id FROM opens o
                       WHERE NOT EXISTS (SELECT 1 FROM machine m WHERE m.event_id = o.event_id))
        SELECT count(*) FILTER (WHERE tm.pixel_loaded AND h.message_id IS NULL),
               count(*) FILTER (WHERE NOT tm.pixel_loaded AND h.message_id IS NOT NULL)
        FROM tm LEFT JOIN human h USING (message_id)""").fetchone()
    assert mismatch == (0, 0)
    # the world's truth adds up to the default truth's counts
    w = truth["world"]
    assert sum(r["delivered"] for r in w["by_provider"].values()) == truth["headline"]["delivered"]
    assert sum(r["delivered"] for r in w["by_device"].values()) == truth["headline"]["delivered"]
    for name, row in w["by_provider"].items():
        assert row["measurable_read_rate"] == truth["providers"][name]["measurable_read_rate"]
        assert row["image_blocked_share"] == truth["providers"][name]["image_blocked_share"]


def test_scanner_pools_use_many_addresses_of_published_networks(runs):
    truth, con = runs("scanner_pools:1")
    rows = con.execute("""
        SELECT c.message_id, list(DISTINCT c.ip), count(*), any_value(c.user_agent)
        FROM clicks c JOIN machine m USING (event_id) WHERE m.machine_type = 'gateway_click'
        GROUP BY 1""").fetchall()
    assert len(rows) > 100
    blocks = [b for g in GATEWAYS for b in g[1]]
    multi = [r for r in rows if r[2] > 1]
    assert multi and sum(len(r[1]) > 1 for r in multi) / len(multi) > 0.9  # each click its own address
    assert all(_in_blocks(ip, blocks) for r in rows[:200] for ip in r[1])
    assert all(r[3].startswith("Mozilla/5.0 (") and "Headless" not in r[3] for r in rows)
    # behaviours: some follow one link only, some minutes after delivery
    one_link = con.execute("""
        SELECT count(*) FROM (SELECT c.message_id FROM clicks c JOIN machine m USING (event_id)
        WHERE m.machine_type = 'gateway_click' GROUP BY 1 HAVING count(*) = 1)""").fetchone()[0]
    assert one_link > 10
    late = con.execute("""
        SELECT count(*) FROM clicks c JOIN machine m USING (event_id) JOIN sends s USING (message_id)
        WHERE m.machine_type = 'gateway_click' AND s.status = 'delivered'
          AND c.ts::TIMESTAMP > s.delivered_at::TIMESTAMP + INTERVAL 3 MINUTE""").fetchone()[0]
    assert late > 10
    # image fetch and clicks of one message come from different addresses
    same = con.execute("""
        SELECT count(*) FILTER (WHERE o.ip = c.ip), count(*) FROM opens o JOIN machine mo ON mo.event_id = o.event_id
        JOIN clicks c ON c.message_id = o.message_id JOIN machine mc ON mc.event_id = c.event_id
        WHERE mo.machine_type = 'gateway_image_fetch' AND mc.machine_type = 'gateway_click'""").fetchone()
    assert same[1] > 100 and same[0] / same[1] < 0.05
    assert truth["machine_events"]["opens"]["gateway_image_fetch"] > 0


def test_proxy_prefetch_fetches_every_message_and_hides_human_opens(runs):
    truth, con = runs("proxy_prefetch:0.6")
    n_prefetch, with_human = con.execute("""
        WITH pf AS (SELECT DISTINCT o.message_id FROM opens o JOIN machine m USING (event_id)
                    WHERE m.machine_type = 'proxy_prefetch')
        SELECT count(*), count(*) FILTER (WHERE tm.pixel_loaded) FROM pf JOIN tm USING (message_id)""").fetchone()
    assert n_prefetch > 500 and with_human == 0
    # fetched read or not: many prefetched messages were never read
    unread = con.execute("""
        SELECT count(*) FROM (SELECT DISTINCT o.message_id FROM opens o JOIN machine m USING (event_id)
        WHERE m.machine_type = 'proxy_prefetch') JOIN tm USING (message_id) WHERE NOT tm.read""").fetchone()[0]
    assert unread > 0.5 * n_prefetch
    assert truth["machine_events"]["opens"]["proxy_prefetch"] == n_prefetch  # one fetch per message


def test_mpp_variants_webkit_cdn_and_age(runs):
    _, con = runs("mpp_variants:0.5")
    webkit, cdn_ips, total = con.execute("""
        SELECT count(*) FILTER (WHERE o.user_agent LIKE '%AppleWebKit%'),
               list(o.ip) FILTER (WHERE NOT (o.ip LIKE '17.%')), count(*)
        FROM opens o JOIN machine m USING (event_id) WHERE m.machine_type = 'apple_mpp'""").fetchone()
    assert 0.2 < webkit / total < 0.8
    cdn = sum(_in_blocks(ip, _CDN_BLOCKS) for ip in cdn_ips)
    assert cdn > 0.05 * total
    shares = con.execute("""SELECT avg(mpp_user::INT) FILTER (WHERE age_year < 2), avg(mpp_user::INT)
        FILTER (WHERE age_year >= 6) FROM tm WHERE provider = 'apple'""").fetchone()
    assert shares[0] > shares[1] + 0.15  # MPP falls with the age of the address


def test_device_blocking_desktop_blocks_mobile_loads(runs):
    truth, _ = runs("device_blocking")
    base, _ = runs("")
    pd = truth["world"]["by_provider_device"]
    # among readers with no machine open (MPP excluded): desktop blocks, mobile loads
    assert pd["orange/desktop"]["image_blocked_share"] > pd["orange/mobile"]["image_blocked_share"] + 0.2
    assert "by_provider_device" not in base.get("world", {})  # the default world has no world section


def test_blocked_click_ratio_and_plain_text(runs):
    for spec, more in (("blocked_click_ratio:2", True), ("plain_text:0.3", None)):
        _, con = runs(spec)
        blocked, loaded = con.execute("""SELECT avg(human_click::INT) FILTER (WHERE read AND NOT pixel_loaded
            AND NOT mpp_user AND images_off), avg(human_click::INT) FILTER (WHERE read AND pixel_loaded)
            FROM tm WHERE delivered""").fetchone()
        if more:
            assert blocked > 1.4 * loaded
    _, con = runs("plain_text:0.3")
    plain_clicks, plain_pixels = con.execute("""SELECT count(*) FILTER (WHERE human_click),
        count(*) FILTER (WHERE pixel_loaded) FROM tm WHERE plain_text AND read""").fetchone()
    assert plain_clicks > 20 and plain_pixels == 0


def test_old_lists_with_and_without_collected_at(runs):
    truth, con = runs("old_lists")
    with_date, without = con.execute("""SELECT
        count(*) FILTER (WHERE account_id = 'acct_librairie' AND action = 'subscribe' AND source = 'import'
                         AND collected_at IS NOT NULL AND collected_at::TIMESTAMP < ts::TIMESTAMP - INTERVAL 3 YEAR),
        count(*) FILTER (WHERE account_id = 'acct_voyages' AND action = 'subscribe' AND source = 'import'
                         AND collected_at IS NULL)
        FROM subscriptions""").fetchall()[0]
    assert with_date > 50 and without > 50
    assert sum(v["delivered"] for a, v in truth["world"]["by_age_year"].items() if int(a) >= 5) > 0


def test_thin_providers_have_few_clickers(runs):
    _, con = runs("thin_providers")
    thin, other = con.execute("""SELECT avg(human_click::INT) FILTER (WHERE provider IN ('sfr', 'laposte', 'bouygues')),
        avg(human_click::INT) FILTER (WHERE provider IN ('orange', 'free')) FROM tm WHERE read""").fetchone()
    assert thin < 0.4 * other


def test_parse_and_list():
    assert len(parse_world("realistic").mechanisms) == 8
    w = parse_world("scanner_pools:0.25,mpp_variants")
    assert [m.strength for m in w.mechanisms] == [0.25, MECHANISMS["mpp_variants"].default_strength]
    for bad in ("nosuch", "scanner_pools:abc", "scanner_pools:-1", ","):
        with pytest.raises(ValueError):
            parse_world(bad)
    text = list_worlds()
    for name in list(MECHANISMS) + ["realistic"]:
        assert name in text
    assert text.count("documented:") == len(MECHANISMS)


def test_default_world_unchanged_by_the_hooks(tmp_path):
    """No --world: the truth has no world section and the files are those of the plain simulator."""
    a = simulate(tmp_path / "a", seed=3, contacts=500, months=1)
    assert "world" not in a
    data = json.loads((tmp_path / "a" / "truth.json").read_text())
    assert set(data["machine_events"]["opens"]) <= {"apple_mpp", "scanner_image_fetch"}
