"""Round trip: a canonical drop written as each ESP's payloads (SES, SendGrid, Brevo, Mailjet,
Mandrill, SparkPost) or as an Exim main log (`dlvstats.simulate.esp.write_as`, behind
`dlvstats simulate --as FMT`) and ingested with the adapter gives the same tables and the same
metric tables as the canonical drop.

What a format cannot carry (export.py's docstring) is applied to the canonical rows before they are
compared exactly with the format's rows: times cut to the format's precision, event ids and machine
flags dropped where the format has none, complaint sources renamed, Mailjet's and Mandrill's
unlogged "accepted only" messages, Exim's sends-and-bounces-only log; codes an ESP shows in its
diagnostic text are read from it even where the canonical row left them empty.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from tests.helpers import write_drop
from tests.test_adapters_helpers import rows

from dlvstats.ingest import ingest_paths
from dlvstats.ingest.adapters import sniff
from dlvstats.simulate.esp import write_as, write_drops_as

SENDS = ("SELECT message_id, sent_at, account_id, list_id, campaign_id, recipient, provider, status, "
         "CASE WHEN status = 'delivered' THEN coalesce(delivered_at, sent_at) END, bounce_class, "
         "smtp_code, enhanced_status, sending_ip, sending_domain, coalesce(delivered_at, sent_at) FROM sends")
OPENS = "SELECT message_id, ts, user_agent, ip, event_id, is_machine, actor_rule FROM opens"
CLICKS = "SELECT message_id, ts, url, user_agent, ip, event_id, actor_rule, is_unsubscribe_link FROM clicks"
COMPLAINTS = "SELECT message_id, ts, coalesce(account_id, '?'), source FROM complaints"

FORMATS = ("ses", "sendgrid", "brevo", "mailjet", "mandrill", "sparkpost", "exim")

# What each format cannot carry (export.py's docstring, docs/formats/<fmt>.md): the canonical
# rows are brought to it, then compared exactly with the format's rows.
PRECISION = {"ses": 1, "sendgrid": 1, "brevo": 1000}  # microseconds kept; the others log seconds
EVENT_IDS = {"sendgrid", "sparkpost"}  # formats that carry the opens' and clicks' event ids
MACHINE_FLAG = {"sendgrid": (True, False), "brevo": (True,)}  # is_machine values a format carries
COMPLAINT_SOURCE = {"ses", "exim"}  # SES names the loop; Exim's complaints stay canonical files
NO_ACCEPTED = {"mailjet", "mandrill", "exim"}  # no event for a message only accepted (status sent)
NO_SENDING_IP = {"mailjet", "mandrill"}


def _cut(fmt, t):
    if t is None:
        return None
    step = PRECISION.get(fmt, 1_000_000)
    return t.replace(microsecond=t.microsecond - t.microsecond % step)


def _expected_send(fmt, r):
    """A canonical sends row as the format can carry it (None: the format has no row for it)."""
    (mid, sent_at, acct, lst, camp, rcpt, prov, status, delivered, bclass, code, enh, ip, domain, settled) = r
    if status == "sent" and fmt in NO_ACCEPTED:
        return None
    sent_at, delivered, settled = _cut(fmt, sent_at), _cut(fmt, delivered), _cut(fmt, settled)
    if fmt == "mailjet":  # no send event: the earliest event is the receiving server's answer
        sent_at = settled  # (the codes travel in the bounce's `comment`, the reply Mailjet quotes)
    if fmt in NO_SENDING_IP or (fmt == "exim" and status != "delivered"):
        ip = None
    if fmt == "exim":  # no account, list or campaign; message id = Message-ID:recipient
        mid, acct, lst, camp = f"{mid}:{rcpt}", "unknown", "unknown", "unknown"
        domain = domain or "dlvstats.invalid"  # the host's qualify domain of the sender
    return (mid, sent_at, acct, lst, camp, rcpt, prov, status, delivered, bclass, code, enh, ip, domain)


def _expected_event(fmt, r, flag_at, id_at):
    r = list(r)
    r[1] = _cut(fmt, r[1])
    if fmt not in EVENT_IDS:
        r[id_at] = None
    if flag_at is not None and r[flag_at] not in MACHINE_FLAG.get(fmt, ()):
        if r[flag_at]:  # the vendor's machine flag is lost: the classifier decides alone
            r[flag_at + 1] = "(vendor flag lost)"
        r[flag_at] = None
    return tuple(r)


def _table(db, sql):
    return sorted(rows(db, sql), key=repr)


def assert_same_tables(canonical_db, esp_db, fmt):
    a = {r[0]: r for r in (_expected_send(fmt, r) for r in _table(canonical_db, SENDS)) if r is not None}
    b = {r[0]: r[:14] for r in _table(esp_db, SENDS)}
    assert a and set(a) == set(b)
    for mid, ra in a.items():
        rb = b[mid]
        assert ra[:9] == rb[:9], (ra, rb)
        if fmt == "exim":  # Exim's bounce class is read from the reply: hard for 5.1.x / 5.2.1
            assert rb[9] == ra[9] or (ra[9], rb[9]) == ("hard", "soft") and not (ra[11] or "").startswith("5.1."), (ra, rb)
        else:
            assert ra[9] == rb[9], (ra, rb)
        for i in (10, 11):  # codes: equal where the canonical row has them
            assert ra[i] is None or ra[i] == rb[i], (ra, rb)
        assert ra[12:] == rb[12:], (ra, rb)
    if fmt == "exim":  # the main log has no opens nor clicks
        assert rows(esp_db, "SELECT count(*) FROM opens") == [(0,)]
        assert rows(esp_db, "SELECT count(*) FROM clicks") == [(0,)]
    else:
        for sql, flag_at, id_at in ((OPENS, 5, 4), (CLICKS, None, 5)):
            expected = sorted((_expected_event(fmt, r, flag_at, id_at) for r in _table(canonical_db, sql)), key=repr)
            lost = {r[:2] for r in expected if flag_at is not None and r[flag_at + 1] == "(vendor flag lost)"}
            got = [r if r[:2] not in lost else r[:flag_at + 1] + ("(vendor flag lost)",) + r[flag_at + 2:]
                   for r in _table(esp_db, sql)]
            assert sorted(got, key=repr) == expected, sql
    keep = (lambda r: r) if fmt in COMPLAINT_SOURCE else (lambda r: r[:3])
    complaints = sorted((keep((r[0], _cut(fmt, r[1]), *r[2:])) for r in _table(canonical_db, COMPLAINTS)), key=repr)
    assert complaints == sorted((keep(r) for r in _table(esp_db, COMPLAINTS)), key=repr)
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


# Events each format writes for SAMPLE: 6 messages (m4 only accepted, m3 deferred, two bounced,
# two delivered), 4 opens, 2 clicks, 1 complaint the ESP relays (Yahoo's loop, m1), 1 link
# unsubscribe. SES and SendGrid: 6 send + 5 settling events; Brevo and SparkPost likewise;
# Mailjet and Mandrill: the 5 answers only (no accepted event); Exim: 6 arrivals + 5 deliveries, failures or deferrals + 4 Completed,
# and nothing else (the complaint and the unsubscribe stay canonical files).
SAMPLE_EVENTS = {"ses": 19, "sendgrid": 19, "brevo": 19, "sparkpost": 19, "mailjet": 13, "mandrill": 13, "exim": 15}


@pytest.mark.parametrize("fmt", FORMATS)
def test_handmade_drop_round_trip(tmp_path, fmt):
    drop = write_drop(tmp_path / "canonical", SAMPLE)
    ingest_paths(tmp_path / "canonical.duckdb", [drop])
    result = write_as(fmt, drop, tmp_path / fmt, batch_size=7)
    assert result["events"] == SAMPLE_EVENTS[fmt]
    relayed = 0 if fmt == "exim" else 1  # one complaint and one unsubscribe travel as events
    assert result["canonical"] == {"complaints": 3 - relayed, "subscriptions": 3 - relayed, "campaigns": 1, "orders": 1}
    if fmt in ("sendgrid", "mailjet", "mandrill", "sparkpost"):  # webhook batches of at most 7 events
        assert len(result["files"]) == -(-SAMPLE_EVENTS[fmt] // 7)
    else:
        assert len(result["files"]) == 1
    summary = ingest_paths(tmp_path / f"{fmt}.duckdb", [tmp_path / fmt], input_format=fmt)
    assert summary.counts["sends"].loaded == (5 if fmt in NO_ACCEPTED else 6)
    assert_same_tables(tmp_path / "canonical.duckdb", tmp_path / f"{fmt}.duckdb", fmt)


def test_written_payloads_are_recognised_by_auto_detection(tmp_path):
    drop = write_drop(tmp_path / "canonical", SAMPLE)
    for fmt in FORMATS:
        result = write_as(fmt, drop, tmp_path / fmt)
        for file in result["files"]:
            assert sniff(Path(file)) == fmt, (fmt, file)


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
    for fmt in FORMATS:
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
            if fmt == "exim":  # no opens, clicks, accounts nor campaigns: compared below
                continue
            got = metric(db, "2026-09-01", "2026-11-01")
            want = expected
            if fmt == "mailjet" and name == "sender-health":
                # Mailjet dates a send by the receiving server's answer: a message answered after a
                # week boundary (retried for hours) moves to the next week; whole periods agree
                want = metric(canonical_db, "2026-09-01", "2026-11-01", grain="period")
                got = metric(db, "2026-09-01", "2026-11-01", grain="period")
                assert len(want) > 0
                # ... and the bounce categories are read from the SMTP reply Mailjet quotes in
                # `comment`: the same as the canonical drop's
            if fmt in NO_SENDING_IP and name == "sender-health":  # blocklisted IPs not attached to sends
                assert (got["blocklist_listings"] == 0).all()
                want, got = want.drop(columns=["blocklist_listings", "listed_targets"]), got.drop(columns=["blocklist_listings", "listed_targets"])
            if fmt == "mailjet" and "data_end_at" in want:  # no send time: the last send is seen when answered
                assert (got["data_end_at"] >= want["data_end_at"]).all(), name
                assert (got["data_end_at"] - want["data_end_at"]).max() < pd.Timedelta(days=1), name
                want, got = want.drop(columns="data_end_at"), got.drop(columns="data_end_at")
            pd.testing.assert_frame_equal(want.reset_index(drop=True), got.reset_index(drop=True), obj=f"{name} ({fmt})")
    # Exim carries sends and their outcomes only: sender health per provider, without complaints
    # (Exim's message ids are <Message-ID>:<recipient>, so complaints filed elsewhere are not
    # attached) and without engagement; the bounce class is read from the reply (hard for 5.1.x,
    # 5.2.1 or an unknown user), so a hard 5.7.1 block becomes soft
    health = metrics.get("sender-health")
    columns = ["dimension", "dimension_value", "period_start", "period_end", "recipients", "sends", "delivered",
               "gmail_delivered", "bounces", "bounces_invalid_mailbox", "bounces_bad_domain", "bounces_mailbox_full",
               "bounces_policy_block", "bounces_content", "bounces_other", "invalid_address_rate", "block_rate"]
    expected = health(canonical_db, "2026-09-01", "2026-11-01", by="provider")
    assert expected["bounces"].sum() > 0 and expected["delivered"].sum() > 0
    got = health(dbs["exim"], "2026-09-01", "2026-11-01", by="provider")
    pd.testing.assert_frame_equal(expected[columns].reset_index(drop=True), got[columns].reset_index(drop=True),
                                  obj="sender-health (exim)")
    assert (got["hard_bounces"] + got["soft_bounces"] == got["bounces"]).all()
    assert (got["hard_bounces"].to_numpy() <= expected["hard_bounces"].to_numpy()).all()
    assert got["hard_bounces"].sum() >= expected["bounces_invalid_mailbox"].sum() > 0


def test_simulate_as_writes_every_format(tmp_path, capsys):
    from dlvstats import cli
    from dlvstats.simulate import esp

    assert cli.ESP_WRITERS == esp.FORMATS
    out = tmp_path / "sim"
    for fmt in ("mailjet", "exim"):  # one webhook-batch format, one log format
        target = tmp_path / fmt
        assert cli.main(["simulate", "--out", str(target), "--seed", "3", "--contacts", "120", "--months", "1",
                         "--end-month", "2026-10", "--as", fmt, "--quiet"]) == 0
        assert f"drops-{fmt}" in capsys.readouterr().out
        (month,) = sorted((target / f"drops-{fmt}").iterdir())
        summary = ingest_paths(tmp_path / f"{fmt}.duckdb", [month], input_format=fmt)
        canonical = ingest_paths(tmp_path / f"{fmt}-canonical.duckdb", [target / "drops" / month.name])
        assert 0 < summary.counts["sends"].loaded <= canonical.counts["sends"].loaded
    with pytest.raises(SystemExit):
        cli.main(["simulate", "--out", str(out), "--as", "mailtrap"])  # recognised, no writer
