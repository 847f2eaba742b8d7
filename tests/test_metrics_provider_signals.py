"""Provider signals beside dlvstats' figures, and the culprit ranking, over a real DuckDB file
(listing found by a real check against the loopback DNS zone; GPT and SNDS samples imported)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from tests.helpers import write_drop

from dlvstats import blocklists, db, signals
from dlvstats.ingest import ingest_paths
from dlvstats.metrics import get
from dlvstats.testzone import TestZoneServer, ip_key

DATA = Path(__file__).parent / "data" / "signals"
ZONE = "test.dnsbl.invalid"
IP = "192.0.2.10"
LISTED_AT = datetime(2026, 11, 4, 6, 0)


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("signals")
    header = ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status",
              "sending_ip", "sending_domain"]
    sends = []
    for i in range(40):  # acct_bad: 40 to Gmail, 40 to Outlook; 4 complaints
        sends.append([f"b{i}", "2026-11-03T09:00:00Z", "acct_bad", "l1", "c1", f"b{i}@gmail.com", "delivered", IP, "news.example.com"])
        sends.append([f"o{i}", "2026-11-03T09:30:00Z", "acct_bad", "l1", "c1", f"o{i}@outlook.com", "delivered", IP, "news.example.com"])
    for i in range(60):  # acct_clean: more volume, no complaint
        sends.append([f"g{i}", "2026-11-03T10:00:00Z", "acct_clean", "l2", "c2", f"g{i}@gmail.com", "delivered", IP, "mail.news.example.com"])
    complaints = [["2026-11-03T20:00:00Z", f"o{i}", "microsoft_jmrp"] for i in range(4)]
    drop = write_drop(tmp / "drop", {"sends": (header, sends), "complaints": (["ts", "message_id", "source"], complaints)})
    path = tmp / "db.duckdb"
    ingest_paths(path, [drop])
    con = db.connect(path)
    zones = [blocklists.Zone("test_ip_list", ZONE, "ip", "test", {"127.0.0.2": "SBL: test"}, {})]
    with TestZoneServer(ZONE, {ip_key(IP): "127.0.0.2"}) as server:
        blocklists.check(con, zones=zones, ips=[IP], resolver=server.address, interval_seconds=0, now=LISTED_AT)
    signals.import_file(con, DATA / "gpt_domainstats_query.json", "gpt")
    signals.import_file(con, DATA / "snds_ip_data.csv", "snds")
    con.close()
    return path


def test_culprit_ranking(database):
    frame = get("blocklist-culprits")(database, "2026-11-01", "2026-12-01")
    rows = [(r.account_id, r.rank, r.sends, r.complaints, r.delivered) for r in frame.itertuples()]
    assert rows == [("acct_bad", 1, 80, 4, 80), ("acct_clean", 2, 60, 0, 60)]
    bad = frame.iloc[0]
    assert bad.complaint_rate == pytest.approx(0.05) and bad.complaint_rate_low < 0.05 < bad.complaint_rate_high
    assert bad.share_of_target_sends == pytest.approx(80 / 140) and bool(bad.small_cell)
    own = get("blocklist-culprits")(database, "2026-11-01", "2026-12-01", account_id="acct_clean")
    assert list(own.account_id) == ["acct_clean"] and own["rank"].isna().all()


def test_gmail_spam_rate_beside_complaints(database):
    frame = get("gmail-spam-rate")(database, "2026-11-01", "2026-12-01")
    rows = {(r.domain, str(r.day)[:10]): r for r in frame.itertuples()}
    assert set(rows) == {("news.example.com", "2026-11-02"), ("news.example.com", "2026-11-03")}
    day = rows[("news.example.com", "2026-11-03")]
    assert day.gpt_spam_rate == pytest.approx(0.0041)
    assert (day.sends, day.gmail_delivered, day.complaints, day.delivered) == (140, 100, 4, 140)
    before = rows[("news.example.com", "2026-11-02")]
    assert before.gpt_spam_rate == pytest.approx(0.0008) and before.sends == 0  # no send that day: no rate
    assert before.complaint_rate != before.complaint_rate  # NaN, not 0


def test_snds_timeline_beside_ip(database):
    frame = get("snds-ip-timeline")(database, "2026-11-01", "2026-12-01")
    rows = {(r.ip, str(r.day)[:10]): r for r in frame.itertuples()}
    day = rows[(IP, "2026-11-03")]
    assert (day.snds_filter, day.snds_trap_hits, day.snds_complaint_rate_text) == ("YELLOW", 12, "0.4%")
    assert (day.sends, day.microsoft_delivered, day.complaints) == (140, 40, 4)
    assert day.listed_on is None  # listed on 11-04, not yet
    quiet = rows[(IP, "2026-11-02")]
    assert quiet.snds_complaint_rate != quiet.snds_complaint_rate and quiet.snds_complaint_rate_text == "< 0.1%"
    assert rows[("192.0.2.20", "2026-11-03")].snds_filter == "RED"
