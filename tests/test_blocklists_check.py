"""`dlvstats blocklists check` against a real DNS server on loopback (dnslib), over a real DuckDB file."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest
from tests.helpers import write_drop

from dlvstats import blocklists, cli, db
from dlvstats.ingest import ingest_paths
from dlvstats.testzone import TestZoneServer, ip_key

ZONE = "test.dnsbl.invalid"
LISTED_IP, CLEAN_IP, REFUSED_IP = "192.0.2.10", "192.0.2.20", "192.0.2.30"
T0 = datetime(2026, 12, 1, 6, 0)


def _zones(tmp_path):
    path = tmp_path / "zones.toml"
    path.write_text(f"""
[[zone]]
name = "test_ip_list"
zone = "{ZONE}"
kind = "ip"
terms = "test zone on loopback"
codes = {{ "127.0.0.2" = "SBL: test listing", "127.0.0.4-127.0.0.7" = "XBL: exploited" }}
unknown = {{ "127.255.255.254" = "query via a public/open resolver refused" }}

[[zone]]
name = "test_domain_list"
zone = "dbl.{ZONE}"
kind = "domain"
codes = {{ "127.0.1.2" = "DBL: spam domain" }}
""", encoding="utf-8")
    return blocklists.load_zones(path)


@pytest.fixture
def database(tmp_path):
    sends = [[f"m{i}", "2026-11-30T10:00:00Z", "acct_a", "l1", "c1", f"r{i}@example.org", ip, "news.example.com"]
             for i, ip in enumerate([LISTED_IP, CLEAN_IP, REFUSED_IP])]
    drop = write_drop(tmp_path / "drop", {"sends": (
        ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "sending_ip", "sending_domain"], sends)})
    path = tmp_path / "db.duckdb"
    ingest_paths(path, [drop])
    return path


@pytest.fixture
def zone_server():
    entries = {ip_key(LISTED_IP): "127.0.0.2", ip_key(REFUSED_IP): "127.255.255.254"}
    with TestZoneServer(ZONE, entries, ttl=60) as server:
        yield server


def _check(path, zones, server, now, **kw):
    con = db.connect(path)
    try:
        return blocklists.check(con, zones=zones, resolver=server.address, interval_seconds=0, now=now, **kw)
    finally:
        con.close()


def test_listed_recorded_clean_not_refused_unknown_and_delisting_closes(tmp_path, database, zone_server):
    zones = _zones(tmp_path)
    result = _check(database, zones, zone_server, T0)
    assert result.resolver == zone_server.address and result.resolver.startswith("127.0.0.1:")
    status = {(r.target, r.blocklist): r.status for r in result.answers.itertuples()}
    assert status == {(LISTED_IP, "test_ip_list"): "listed", (CLEAN_IP, "test_ip_list"): "not_listed",
                      (REFUSED_IP, "test_ip_list"): "unknown", ("news.example.com", "test_domain_list"): "not_listed"}
    refused = result.answers[result.answers.target == REFUSED_IP].iloc[0]
    assert "refused" in refused.meaning and refused.return_code == "127.255.255.254"
    # every query went to the loopback server, one per target and zone
    assert sorted(zone_server.queries) == sorted(
        [f"{ip_key(ip)}.{ZONE}" for ip in (LISTED_IP, CLEAN_IP, REFUSED_IP)] + [f"news.example.com.dbl.{ZONE}"])
    con = duckdb.connect(str(database), read_only=True)
    rows = con.execute("SELECT target, blocklist, action, zone, return_code, meaning, ts FROM blocklists").fetchall()
    assert rows == [(LISTED_IP, "test_ip_list", "listed", ZONE, "127.0.0.2", "SBL: test listing", T0)]
    assert con.execute("SELECT count(*), count(DISTINCT resolver) FROM blocklist_lookups").fetchone() == (4, 1)
    con.close()

    # the address is de-listed; after the TTL (60 s) the next check closes the period
    del zone_server.entries[ip_key(LISTED_IP)]
    later = T0 + timedelta(hours=1)
    result = _check(database, zones, zone_server, later)
    assert list(result.events.action) == ["delisted"]
    con = db.connect(database, read_only=True)
    db.run(con, "relations/blocklist_periods")
    periods = con.execute("SELECT target, blocklist, listed_at, delisted_at FROM __blocklist_periods").fetchall()
    assert periods == [(LISTED_IP, "test_ip_list", T0, later)]
    # the refused IP was never recorded either way
    assert con.execute("SELECT count(*) FROM blocklists WHERE target = $t", {"t": REFUSED_IP}).fetchone() == (0,)
    con.close()


def test_answers_are_cached_for_their_ttl(tmp_path, database, zone_server):
    zones = _zones(tmp_path)
    _check(database, zones, zone_server, T0)
    sent = len(zone_server.queries)
    again = _check(database, zones, zone_server, T0 + timedelta(seconds=20))  # within the 60 s / 30 s TTLs
    assert again.queries == 0 and len(zone_server.queries) == sent and again.answers.cached.all()
    assert list(again.events.action) == []  # nothing new to record
    after = _check(database, zones, zone_server, T0 + timedelta(seconds=61))
    assert after.queries == 4 and len(zone_server.queries) == sent + 4


def test_relisting_after_delisting_opens_a_new_period(tmp_path, database, zone_server):
    zones = _zones(tmp_path)
    key = ip_key(LISTED_IP)
    _check(database, zones, zone_server, T0, ips=[LISTED_IP])
    del zone_server.entries[key]
    _check(database, zones, zone_server, T0 + timedelta(days=1), ips=[LISTED_IP])
    zone_server.entries[key] = "127.0.0.5"
    third = _check(database, zones, zone_server, T0 + timedelta(days=2), ips=[LISTED_IP])
    assert list(third.events.action) == ["listed"] and third.events.meaning[0] == "XBL: exploited"
    con = duckdb.connect(str(database), read_only=True)
    assert [r[0] for r in con.execute("SELECT action FROM blocklists ORDER BY ts").fetchall()] == ["listed", "delisted", "listed"]
    con.close()


def test_spacing_between_queries(tmp_path, database, zone_server):
    pauses = []
    con = db.connect(database)
    blocklists.check(con, zones=_zones(tmp_path), resolver=zone_server.address, interval_seconds=0.5,
                     now=T0, sleep=pauses.append)
    con.close()
    assert pauses == [0.5, 0.5, 0.5]  # between the four queries, not before the first


def test_unanswered_query_is_unknown(tmp_path, database):
    # a server that refuses every name (outside its zone): dnspython gets REFUSED -> no nameservers
    with TestZoneServer("other.invalid") as server:
        result = _check(database, _zones(tmp_path), server, T0, ips=[LISTED_IP])
    assert list(result.answers.status) == ["unknown"] and "no answer" in result.answers.meaning[0]
    assert result.events.empty


def test_zones_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "z.toml"
    bad.write_text('[[zone]]\nname = "x"\nzone = "x.example"\nkind = "asn"\n', encoding="utf-8")
    with pytest.raises(blocklists.ZonesError, match=r"z.toml: \[\[zone\]\] number 1 \(x\): kind must be"):
        blocklists.load_zones(bad)
    shipped = blocklists.load_zones()
    assert {z.name for z in shipped} >= {"spamhaus_zen", "spamhaus_dbl", "barracuda", "spamcop"}
    assert all(z.terms for z in shipped)
    zen = next(z for z in shipped if z.name == "spamhaus_zen")
    assert zen.classify("127.255.255.254")[0] == "unknown" and zen.classify("127.0.0.10")[0] == "listed"


def test_cli_check_prints_listing_and_refusal(tmp_path, database, zone_server, capsys):
    zones_file = tmp_path / "zones.toml"
    _zones(tmp_path)
    rc = cli.main(["blocklists", "check", "--db", str(database), "--zones", str(zones_file),
                   "--resolver", zone_server.address, "--interval", "0"])
    out = capsys.readouterr().out
    assert rc == 1  # something is listed
    assert f"NEWLY LISTED  {LISTED_IP}" in out and "unknown" in out and "refused" in out
    assert zone_server.address in out


def test_cli_usage_errors_exit_2(tmp_path, database, capsys):
    assert cli.main(["blocklists", "check", "--db", str(database), "--resolver", "dns.example:53"]) == 2
    assert "--resolver" in capsys.readouterr().err
    assert cli.main(["blocklists", "check", "--db", str(database), "--zones", str(tmp_path / "none.toml")]) == 2
    assert cli.main(["blocklists", "check", "--db", str(database), "--ip", "news.example.com"]) == 2
    assert "use --domain" in capsys.readouterr().err


def test_status_now_is_the_latest_check_dated_and_reaches_the_report(tmp_path, database, zone_server):
    """A check made after the month (a report rendered early next month) shows in that month's report,
    dated, as the state at the check; unknown answers are said to be neither listed nor clean."""
    from dlvstats.metrics.provider_signals import blocklist_status
    from dlvstats.report import MetricRun, _blocklist_now

    zones = _zones(tmp_path)
    _check(database, zones, zone_server, T0)
    status = blocklist_status(database, "2026-11-01", "2026-12-01").set_index(["target", "blocklist"])
    assert status.loc[(LISTED_IP, "test_ip_list"), "status"] == "listed"
    assert status.loc[(LISTED_IP, "test_ip_list"), "listed_since"] == T0
    assert status.loc[(REFUSED_IP, "test_ip_list"), "status"] == "unknown"
    assert set(status["checked_at"]) == {T0}
    # an account that sent nothing in the period sees none of the targets (its pack names no one else's)
    assert len(blocklist_status(database, "2026-10-01", "2026-11-01", "acct_a")) == 0
    assert len(blocklist_status(database, "2026-11-01", "2026-12-01", "acct_a")) == 4

    alerts = _blocklist_now(MetricRun(database, None), "2026-11", set())
    texts = [a.text for a in alerts]
    assert [a.level for a in alerts] == ["critical", "info"]
    assert texts[0].startswith(f"Blocklist now: ip {LISTED_IP} is listed on test_ip_list (SBL: test listing) "
                               "at the DNS check of 2026-12-01 06:00 UTC")
    assert "1 answer(s) of 1 list(s) were unknown" in texts[1]
    # a listing the month's own alerts already show is not repeated
    assert [a.level for a in _blocklist_now(MetricRun(database, None), "2026-11", {(LISTED_IP, "test_ip_list")})] == ["info"]
    # after de-listing, nothing is listed now
    del zone_server.entries[ip_key(LISTED_IP)]
    _check(database, zones, zone_server, T0 + timedelta(hours=1))
    assert [a.level for a in _blocklist_now(MetricRun(database, None), "2026-11", set())] == ["info"]
