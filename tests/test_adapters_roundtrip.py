"""Round trip: a canonical drop written as SES events and as SendGrid webhook batches
(`dlvstats.ingest.adapters.export.write_as`, behind `dlvstats simulate --as ses|sendgrid`) and
ingested with the adapters gives the same tables and the same metric tables as the canonical drop.

What the ESP formats cannot carry is compared loosely, as documented in export.py: SES has no
event id nor machine flag, SendGrid no complaint source; a `delivered` row without
`delivered_at` gets the delivery event's time; codes an ESP shows in its diagnostic text are
read from it even where the canonical row left them empty.
"""

from __future__ import annotations

import pandas as pd
import pytest
from tests.helpers import write_drop
from tests.test_adapters_helpers import rows

from dlvstats.ingest import ingest_paths
from dlvstats.ingest.adapters.export import write_as, write_drops_as

SENDS = ("SELECT message_id, sent_at, account_id, list_id, campaign_id, recipient, provider, status, "
         "CASE WHEN status = 'delivered' THEN coalesce(delivered_at, sent_at) END, bounce_class, "
         "smtp_code, enhanced_status, sending_ip, sending_domain FROM sends")


def _table(db, sql):
    return sorted(rows(db, sql), key=repr)


def assert_same_tables(canonical_db, esp_db, fmt):
    a = {r[0]: r for r in _table(canonical_db, SENDS)}
    b = {r[0]: r for r in _table(esp_db, SENDS)}
    assert set(a) == set(b)
    for mid, ra in a.items():
        rb = b[mid]
        assert ra[:10] == rb[:10], (ra, rb)
        for i in (10, 11):  # codes: equal where the canonical row has them
            assert ra[i] is None or ra[i] == rb[i], (ra, rb)
        assert ra[12:] == rb[12:], (ra, rb)
    if fmt == "sendgrid":  # SendGrid carries the event id and the machine-open flag
        opens = "SELECT message_id, ts, user_agent, ip, event_id, is_machine, actor_rule FROM opens"
        clicks = "SELECT message_id, ts, url, user_agent, ip, event_id, actor_rule FROM clicks"
        assert _table(canonical_db, opens) == _table(esp_db, opens)
    else:  # SES: the same opens; the same human/machine label unless only a vendor flag said machine
        opens = ("SELECT message_id, ts, user_agent, ip, "
                 "CASE WHEN coalesce(is_machine, false) THEN NULL ELSE actor END FROM opens")
        flagged = {r[:2] for r in _table(canonical_db, opens) if r[4] is None}
        assert [r if r[:2] not in flagged else r[:4] + (None,) for r in _table(esp_db, opens)] == _table(canonical_db, opens)
        clicks = "SELECT message_id, ts, url, user_agent, ip, actor, is_unsubscribe_link FROM clicks"
    assert _table(canonical_db, clicks) == _table(esp_db, clicks)
    complaints = "SELECT message_id, ts, coalesce(account_id, '?') FROM complaints"
    if fmt == "ses":
        complaints = "SELECT message_id, ts, coalesce(account_id, '?'), source FROM complaints"
    assert _table(canonical_db, complaints) == _table(esp_db, complaints)
    for kind in ("subscriptions", "campaigns", "orders", "blocklists"):
        sql = f"SELECT * EXCLUDE (drop_id) FROM {kind}"
        assert _table(canonical_db, sql) == _table(esp_db, sql), kind


SAMPLE = {
    "sends": (
        ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status", "delivered_at",
         "bounce_class", "smtp_code", "enhanced_status", "bounce_reason", "sending_ip", "sending_domain"],
        [
            ["m1", "2026-10-01T10:00:00.123456Z", "a1", "l1", "c1", "Alice@Gmail.com", "delivered",
             "2026-10-01T10:00:04Z", "", "", "", "", "192.0.2.1", "news.example"],
            ["m2", "2026-10-01 10:00:00", "a1", "l1", "c1", "bob@hotmail.fr", "bounced", "", "hard", "550", "5.1.1",
             "550 5.1.1 user unknown", "192.0.2.1", "news.example"],
            ["m3", "2026-10-01T12:00:00+02:00", "a1", "l1", "c1", "carl@corp.example", "deferred", "", "", "451",
             "4.7.1", "try later", "192.0.2.1", "news.example"],
            ["m4", "2026-10-01T10:00:00Z", "a2", "l9", "c2", "dan@yahoo.com", "sent", "", "", "", "", "", "", ""],
            ["m5", "2026-10-01T10:00:00Z", "a1", "l1", "c1", "eve@orange.fr", "", "", "", "", "", "", "192.0.2.2",
             "news.example"],
            ["m6", "2026-10-01T10:00:00Z", "a1", "l1", "c1", "fay@free.fr", "bounced", "", "soft", "421", "",
             "blocked by policy", "192.0.2.2", "news.example"],
        ],
    ),
    "opens": (
        ["message_id", "ts", "user_agent", "ip", "event_id", "is_machine"],
        [["m1", "2026-10-01T11:00:00Z", "Mozilla/5.0", "17.0.0.9", "o1", ""],
         ["m1", "2026-10-01T12:00:00.5Z", "Thunderbird", "198.51.100.7", "o2", "false"],
         ["m5", "2026-10-01T10:00:01Z", "Mozilla/5.0 (iPhone)", "17.0.0.9", "o3", "true"],
         ["zz", "2026-10-01T12:00:00Z", "X", "192.0.2.200", "", ""]],
    ),
    "clicks": (
        ["message_id", "ts", "url", "user_agent", "ip", "event_id"],
        [["m1", "2026-10-01T12:01:00Z", "https://shop.example/a", "Firefox", "198.51.100.7", "k1"],
         ["m5", "2026-10-01T10:00:02Z", "https://shop.example/unsubscribe", "scanner", "52.1.1.1", "k2"]],
    ),
    "complaints": (
        ["ts", "message_id", "recipient", "account_id", "source"],
        [["2026-10-02T08:00:00Z", "m1", "alice@gmail.com", "a1", "yahoo_cfl"],
         ["2026-10-02T09:00:00Z", "", "bob@hotmail.fr", "a1", "microsoft_jmrp"],
         ["2026-10-02T09:30:00Z", "m5", "", "a1", "signal_spam"]],
    ),
    "subscriptions": (
        ["ts", "account_id", "list_id", "recipient", "action", "source", "campaign_id", "collected_at"],
        [["2026-09-01T00:00:00Z", "a1", "l1", "alice@gmail.com", "subscribe", "import", "", "2014-05-01T00:00:00Z"],
         ["2026-10-03T00:00:00Z", "a1", "l1", "alice@gmail.com", "unsubscribe", "link", "c1", ""],
         ["2026-10-03T00:00:00Z", "a1", "l1", "eve@orange.fr", "unsubscribe", "moved", "c1", ""]],
    ),
    "campaigns": (
        ["campaign_id", "account_id", "list_id", "sent_at", "kind", "name", "subject"],
        [["c1", "a1", "l1", "2026-10-01T10:00:00Z", "gift", "Été", "C'est cadeau"]],
    ),
    "orders": (
        ["ts", "account_id", "recipient", "order_id", "amount", "campaign_id"],
        [["2026-10-05T10:00:00Z", "a1", "alice@gmail.com", "o-1", "49.90", "c1"]],
    ),
}


@pytest.mark.parametrize("fmt", ["ses", "sendgrid"])
def test_handmade_drop_round_trip(tmp_path, fmt):
    drop = write_drop(tmp_path / "canonical", SAMPLE)
    ingest_paths(tmp_path / "canonical.duckdb", [drop])
    result = write_as(fmt, drop, tmp_path / fmt, batch_size=7)
    assert result["events"] == 19
    assert result["canonical"] == {"complaints": 2, "subscriptions": 2, "campaigns": 1, "orders": 1}
    if fmt == "sendgrid":
        assert len(result["files"]) == 3  # 19 events in webhook batches of 7
    summary = ingest_paths(tmp_path / f"{fmt}.duckdb", [tmp_path / fmt], input_format=fmt)
    assert summary.counts["sends"].loaded == 6
    assert_same_tables(tmp_path / "canonical.duckdb", tmp_path / f"{fmt}.duckdb", fmt)


MAIN_METRICS = ("engagement-by-age", "hidden-images", "gift-campaigns", "sender-health")


def test_simulated_drops_give_the_same_metric_tables(tmp_path):
    from dlvstats import metrics
    from dlvstats.simulate import simulate

    simulate(tmp_path / "sim", seed=11, contacts=200, months=2, end_month="2026-10", fmt="csv.gz")
    drops = sorted((tmp_path / "sim" / "drops").iterdir())
    canonical_db = tmp_path / "canonical.duckdb"
    for drop in drops:  # one drop per month, as the monthly job loads them
        ingest_paths(canonical_db, [drop])
    dbs = {}
    for fmt in ("ses", "sendgrid"):
        write_drops_as(fmt, tmp_path / "sim" / "drops", tmp_path / f"drops-{fmt}")
        dbs[fmt] = tmp_path / f"{fmt}.duckdb"
        for drop in sorted((tmp_path / f"drops-{fmt}").iterdir()):
            ingest_paths(dbs[fmt], [drop], input_format=fmt)
        assert_same_tables(canonical_db, dbs[fmt], fmt)
    for name in MAIN_METRICS:
        metric = metrics.get(name)
        expected = metric(canonical_db, "2026-09-01", "2026-11-01")
        assert len(expected) > 0, name
        for fmt, db in dbs.items():
            got = metric(db, "2026-09-01", "2026-11-01")
            pd.testing.assert_frame_equal(expected.reset_index(drop=True), got.reset_index(drop=True), obj=f"{name} ({fmt})")
