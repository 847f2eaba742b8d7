"""Sender-health metrics on a tiny hand-built drop, then against the simulator's truth.

The drop (all of January 2026; week of Monday 2026-01-05 unless said):

account ``acc1`` (list L1, IP 10.0.0.1, domain mail.acc1.example), addresses collected in 2015 and
imported on 2025-12-20:
- ``c1`` 2026-01-05 10:00 to r1..r10:
  r1-r4 @yahoo.com delivered (r1 complains 01-05 11:00, Yahoo CFL), r5, r6 @gmail.com delivered
  (r5 complains 01-06 08:00 through Signal Spam), r7 @orange.fr hard 550 5.1.1 "user unknown",
  r8 @hotmail.com hard 550 5.7.1 "blocked using Trend Micro RBL+", r9 @free.fr soft 452 4.2.2,
  r10 @nowhere.example hard 550 "Host or domain name not found".
- r2 unsubscribes by link on 01-05 12:00; r3 unsubscribes (source user) on 01-07 09:00.
- ``c3`` 2026-01-06 11:00 to r1 (after its complaint), r2 (23 h after its unsubscribe) and r8 (whose
  "hard bounce" was a blocklisting, not a dead address) delivered, and r7 (25 h after its hard
  bounce) hard-bounces again 550 5.1.1.
- ``c4`` 2026-01-09 10:00 to r2 (94 h after its unsubscribe), delivered.
account ``acc2`` (list L2, form sign-ups of 2025-06-01): ``c2`` 2026-01-12 09:00 to x1@gmail.com
(IP 10.0.0.2) and x2@gmail.com (IP 10.0.0.1, the shared one), both delivered; x1 clicks at 15:00.
account ``acc3`` (dedicated IP 10.0.0.3): ``c5`` 2026-01-13 to z1@gmx.de, hard 550 5.1.1.
blocklists: 10.0.0.1 listed on trendmicro_ers 2026-01-06 00:00, delisted 2026-01-08 00:00; the domain
acc2.example (parent of acc2's sending domain mail.acc2.example) listed on spamhaus_dbl 2026-01-12 12:00,
never delisted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import write_drop

SEND_COLUMNS = ["message_id", "sent_at", "delivered_at", "account_id", "list_id", "campaign_id", "recipient",
                "status", "bounce_class", "smtp_code", "enhanced_status", "bounce_reason", "sending_ip",
                "sending_domain"]
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _s(mid, at, acc, camp, rcpt, status="delivered", bc=None, code=None, enh=None, reason=None,
       ip="10.0.0.1", lst=None):
    return [mid, at, at if status == "delivered" else None, acc, lst or {"acc1": "L1"}.get(acc, "L2"), camp,
            rcpt, status, bc, code, enh, reason, ip, f"mail.{acc}.example"]


C1, C3, C4 = "2026-01-05T10:00:00Z", "2026-01-06T11:00:00Z", "2026-01-09T10:00:00Z"


def build_drop(directory: Path) -> Path:
    sends = [_s(f"m{i}", C1, "acc1", "c1", f"r{i}@yahoo.com") for i in range(1, 5)]
    sends += [_s("m5", C1, "acc1", "c1", "r5@gmail.com"), _s("m6", C1, "acc1", "c1", "r6@gmail.com")]
    sends += [
        _s("m7", C1, "acc1", "c1", "r7@orange.fr", "bounced", "hard", 550, "5.1.1",
           "550 5.1.1 <r7@orange.fr>: Recipient address rejected: user unknown"),
        _s("m8", C1, "acc1", "c1", "r8@hotmail.com", "bounced", "hard", 550, "5.7.1",
           "550 5.7.1 Service unavailable; client [10.0.0.1] blocked using Trend Micro RBL+"),
        _s("m9", C1, "acc1", "c1", "r9@free.fr", "bounced", "soft", 452, "4.2.2", "Mailbox full"),
        _s("m10", C1, "acc1", "c1", "r10@nowhere.example", "bounced", "hard", 550, None,
           "Host or domain name not found"),
        _s("m31", C3, "acc1", "c3", "r1@yahoo.com"),
        _s("m32", C3, "acc1", "c3", "r2@yahoo.com"),
        _s("m37", C3, "acc1", "c3", "r7@orange.fr", "bounced", "hard", 550, "5.1.1", "user unknown"),
        _s("m38", C3, "acc1", "c3", "r8@hotmail.com"),
        _s("m42", C4, "acc1", "c4", "r2@yahoo.com"),
        _s("x1", "2026-01-12T09:00:00Z", "acc2", "c2", "x1@gmail.com", ip="10.0.0.2"),
        _s("x2", "2026-01-12T09:00:00Z", "acc2", "c2", "x2@gmail.com"),
        _s("z1", "2026-01-13T09:00:00Z", "acc3", "c5", "z1@gmx.de", "bounced", "hard", 550, "5.1.1",
           "no such user", ip="10.0.0.3", lst="L3"),
    ]
    subs = [["2025-12-20T00:00:00Z", "acc1", "L1", f"r{i}@{d}", "subscribe", "import", None, "2015-03-01T00:00:00Z"]
            for i, d in zip(range(1, 11), ["yahoo.com"] * 4 + ["gmail.com"] * 2 +
                                          ["orange.fr", "hotmail.com", "free.fr", "nowhere.example"])]
    subs += [
        ["2026-01-05T12:00:00Z", "acc1", "L1", "r2@yahoo.com", "unsubscribe", "link", "c1", None],
        ["2026-01-07T09:00:00Z", "acc1", "L1", "r3@yahoo.com", "unsubscribe", "user", None, None],
        ["2025-06-01T00:00:00Z", "acc2", "L2", "x1@gmail.com", "subscribe", "form", None, None],
        ["2025-06-01T00:00:00Z", "acc2", "L2", "x2@gmail.com", "subscribe", "form", None, None],
    ]
    return write_drop(directory, {
        "sends": (SEND_COLUMNS, sends),
        "clicks": (["message_id", "ts", "url", "user_agent", "ip"],
                   [["x1", "2026-01-12T15:00:00Z", "https://acc2.example/offer", UA, "198.51.100.9"]]),
        "complaints": (["ts", "message_id", "source"], [["2026-01-05T11:00:00Z", "m1", "yahoo_cfl"],
                                                        ["2026-01-06T08:00:00Z", "m5", "signal_spam"]]),
        "subscriptions": (["ts", "account_id", "list_id", "recipient", "action", "source", "campaign_id",
                           "collected_at"], subs),
        "blocklists": (["ts", "target", "blocklist", "action"],
                       [["2026-01-06T00:00:00Z", "10.0.0.1", "trendmicro_ers", "listed"],
                        ["2026-01-08T00:00:00Z", "10.0.0.1", "trendmicro_ers", "delisted"],
                        ["2026-01-12T12:00:00Z", "acc2.example", "spamhaus_dbl", "listed"]]),
        "campaigns": (["campaign_id", "account_id", "list_id", "sent_at", "kind"],
                      [["c1", "acc1", "L1", C1, "regular"], ["c3", "acc1", "L1", C3, "regular"],
                       ["c4", "acc1", "L1", C4, "regular"], ["c2", "acc2", "L2", "2026-01-12T09:00:00Z", "regular"],
                       ["c5", "acc3", "L3", "2026-01-13T09:00:00Z", "regular"]]),
    })


@pytest.fixture(scope="module")
def health_db(tmp_path_factory) -> Path:
    from dlvstats.ingest import ingest_paths

    root = tmp_path_factory.mktemp("health")
    db_path = root / "health.duckdb"
    ingest_paths(db_path, [build_drop(root / "drop")])
    return db_path


JANUARY = ("2026-01-01", "2026-02-01")


def assert_no_address(frame) -> None:
    assert "recipient" not in frame.columns
    for column in frame.columns:
        if frame[column].dtype == object or str(frame[column].dtype).startswith("str"):
            assert not frame[column].astype(str).str.contains("@").any(), column


def test_sender_health_week_by_account(health_db):
    """acc1, week of 2026-01-05: sends c1 10 + c3 4 + c4 1 = 15; delivered 6 + 3 + 1 = 10;
    complaints 2 (m1, m5) -> complaint_rate 2/10. Delivered to per-message FBL providers (yahoo,
    microsoft, Signal-Spam ISPs): r1-r4 on c1, r1, r2, r8 on c3, r2 on c4 = 8; FBL complaints 1 (r1;
    r5 is Gmail) -> complaint_rate_fbl 1/8 (over 0.1% and 0.3%). gmail_delivered 2. Bounces 5: hard 4
    (m7, m8, m10, m37), soft 1 -> hard_bounce_rate 4/15. Categories: invalid_mailbox 2 (m7, m37),
    bad_domain 1 (m10), mailbox_full 1 (m9), policy_block 1 (m8, Trend Micro despite 550) ->
    invalid_address_rate 3/15 (hard bounces in invalid/bad domain), block_rate 1/15.
    Listing of 10.0.0.1 on 01-06, inside the week: blocklist_listings 1.
    acc2, week of 2026-01-12: sends 2, delivered 2, no complaint; one listing: its sending domain's
    parent acc2.example on 01-12 (the IP's was delisted on 01-08)."""
    from dlvstats.metrics.sender_health import sender_health

    frame = sender_health(health_db, *JANUARY, by="account", grain="week")
    acc1 = frame[(frame["dimension_value"] == "acc1")].iloc[0]
    assert str(acc1["period_start"])[:10] == "2026-01-05" and str(acc1["period_end"])[:10] == "2026-01-12"
    expected = {"sends": 15, "delivered": 10, "complaints": 2, "delivered_fbl": 8, "complaints_fbl": 1,
                "gmail_delivered": 2, "bounces": 5, "hard_bounces": 4, "soft_bounces": 1,
                "bounces_invalid_mailbox": 2, "bounces_bad_domain": 1, "bounces_mailbox_full": 1,
                "bounces_policy_block": 1, "bounces_content": 0, "bounces_other": 0, "blocklist_listings": 1}
    for column, value in expected.items():
        assert acc1[column] == value, column
    assert acc1["complaint_rate"] == pytest.approx(2 / 10)
    assert acc1["complaint_rate_fbl"] == pytest.approx(1 / 8)
    assert acc1["hard_bounce_rate"] == pytest.approx(4 / 15)
    assert acc1["invalid_address_rate"] == pytest.approx(3 / 15)
    assert acc1["block_rate"] == pytest.approx(1 / 15)
    assert acc1["over_target"] and acc1["over_critical"] and acc1["small_cell"]
    assert acc1["complaint_rate_low"] < 2 / 10 < acc1["complaint_rate_high"]
    acc2 = frame[(frame["dimension_value"] == "acc2")].iloc[0]
    assert str(acc2["period_start"])[:10] == "2026-01-12"
    assert (acc2["sends"], acc2["delivered"], acc2["complaints"], acc2["blocklist_listings"]) == (2, 2, 0, 1)
    assert not acc2["over_target"]
    assert_no_address(frame)


def test_sender_health_providers_and_gmail_label(health_db):
    """Pooled over January by provider: yahoo delivered 7, 1 complaint -> 1/7 on both denominators;
    gmail delivered 4 (r5, r6, x1, x2), 1 complaint (Signal Spam) -> complaint_rate 1/4 but no
    complaint_rate_fbl (Gmail reports none per message), labelled as Postmaster Tools only."""
    from dlvstats.metrics.sender_health import sender_health

    frame = sender_health(health_db, *JANUARY, by=["provider"], grain="period").set_index("dimension_value")
    assert frame.loc["yahoo", "delivered"] == 7
    assert frame.loc["yahoo", "complaint_rate"] == pytest.approx(1 / 7)
    assert frame.loc["yahoo", "complaint_rate_fbl"] == pytest.approx(1 / 7)
    assert frame.loc["gmail", "delivered"] == 4
    assert frame.loc["gmail", "complaint_rate"] == pytest.approx(1 / 4)
    assert frame.loc["gmail", "delivered_fbl"] == 0
    assert pd_isna(frame.loc["gmail", "complaint_rate_fbl"])
    assert "Postmaster Tools" in frame.loc["gmail", "complaint_feedback"]
    assert set(frame["dimension"]) == {"provider"}


def pd_isna(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def test_sender_health_days_ips_and_boundaries(health_db):
    """By sending IP and day: 10.0.0.1 on 01-05 (c1, before the listing): listed_targets 0; on 01-06
    (c3, listed that day): blocklist_listings 1; on 01-09 (c4, delisted 01-08): 0.
    A period starting 2026-01-06 11:00 keeps c3 (4 sends at 11:00) and drops c1."""
    from dlvstats.metrics.sender_health import sender_health

    frame = sender_health(health_db, *JANUARY, by="sending_ip", grain="day")
    ip = frame[frame["dimension_value"] == "10.0.0.1"].set_index(frame[frame["dimension_value"] == "10.0.0.1"]
                                                                  ["period_start"].astype(str).str[:10])
    assert ip.loc["2026-01-05", "listed_targets"] == 0 and ip.loc["2026-01-05", "sends"] == 10
    assert ip.loc["2026-01-06", "blocklist_listings"] == 1 and ip.loc["2026-01-06", "sends"] == 4
    assert ip.loc["2026-01-09", "listed_targets"] == 0
    later = sender_health(health_db, "2026-01-06T11:00:00", "2026-01-07", by="all", grain="period")
    assert list(later["sends"]) == [4]
    with pytest.raises(ValueError):
        sender_health(health_db, *JANUARY, by="recipient")
    with pytest.raises(ValueError):
        sender_health(health_db, *JANUARY, grain="hour")


def test_bounce_categories_by_hand(health_db):
    """All bounces of January (6): invalid_mailbox 3 (m7, m37, z1), bad_domain 1, mailbox_full 1,
    policy_block 1 (m8: a 550 that is a blocklisting, not a dead address); sends 18."""
    from dlvstats.metrics.sender_health import bounce_categories

    frame = bounce_categories(health_db, *JANUARY).set_index("category")
    assert frame["bounces"].to_dict() == {"invalid_mailbox": 3, "bad_domain": 1, "mailbox_full": 1,
                                          "policy_block": 1}
    assert frame.loc["policy_block", "top_enhanced_status"] == "5.7.1"
    assert frame.loc["invalid_mailbox", "bounce_rate"] == pytest.approx(3 / 18)
    assert frame.loc["invalid_mailbox", "share_of_bounces"] == pytest.approx(3 / 6)
    assert set(frame["sends"]) == {18}
    assert_no_address(frame.reset_index())


REPLIES = [
    # (smtp_code, enhanced_status, bounce_reason, expected category): real-world wordings
    (550, "5.1.1", "550 5.1.1 <someone@example.fr>: Recipient address rejected: User unknown", "invalid_mailbox"),
    (550, "5.1.10", "RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", "invalid_mailbox"),
    (554, None, "554 delivery error: dd This user doesn't have a yahoo.com account", "invalid_mailbox"),
    (550, "5.1.1", "550 5.1.1 Service unavailable; Client host [192.0.2.1] blocked using Spamhaus", "policy_block"),
    (550, "5.7.1", "550 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using Trend Micro RBL+",
     "policy_block"),
    (550, "5.7.1", "550-5.7.1 Our system has detected that this message is likely unsolicited mail", "policy_block"),
    (550, "5.7.515", "550 5.7.515 Access denied, sending domain does not meet the required authentication level",
     "policy_block"),
    (554, "5.7.1", "554 5.7.1 Message rejected: content policy violation (URL reputation)", "content"),
    (552, "5.2.2", "552 5.2.2 Boite du destinataire pleine. Recipient overquota", "mailbox_full"),
    (452, None, "Mailbox full", "mailbox_full"),
    (None, "5.1.2", "Host or domain name not found. Name service error: no MX or A record", "bad_domain"),
    (550, None, "Host or domain name not found", "bad_domain"),
    (None, "4.4.7", "Message expired: delivery attempts abandoned after 72 hours", "other"),
    (None, None, None, "other"),
]


def test_bounce_categories_of_real_replies():
    """Each reply is categorised as a deliverability engineer would: blocklist wording wins over a
    5.1.1 code; a content block with a 5.7.1 code is content; no code and no text is 'other'."""
    import duckdb

    from dlvstats import db
    from dlvstats.metrics.common import Period
    from dlvstats.metrics.sender_health import BOUNCE_RULES_CSV

    con = duckdb.connect()
    db.migrate(con)
    for i, (code, status, reason, _) in enumerate(REPLIES):
        con.execute("INSERT INTO sends (message_id, sent_at, account_id, list_id, campaign_id, recipient, status, "
                    "bounce_class, smtp_code, enhanced_status, bounce_reason) VALUES "
                    "($id, TIMESTAMP '2026-01-05 10:00:00', 'a', 'l', 'c', 'x@example.fr', 'bounced', 'hard', "
                    "$code, $status, $reason)", {"id": f"m{i}", "code": code, "status": status, "reason": reason})
    db.run(con, "relations/bounce_category", rules_path=str(BOUNCE_RULES_CSV), account_id=None,
           **Period.parse("2026-01-01", "2026-02-01").params())
    got = dict(con.execute("SELECT message_id, category FROM __bounce_category").fetchall())
    for i, (_, _, reason, expected) in enumerate(REPLIES):
        assert got[f"m{i}"] == expected, reason


def test_bounce_rules_are_data(health_db, tmp_path):
    """A user rule file that calls every 5.7.1 'content' re-categorises m8 without re-ingesting."""
    from dlvstats.metrics.sender_health import BOUNCE_RULES_CSV, bounce_categories

    rules = tmp_path / "rules.csv"
    text = BOUNCE_RULES_CSV.read_text()
    rules.write_text(text.replace("\n10,reason,", "\n5,enhanced_status,\"^5\\.7\\.1$\",content,test\n10,reason,", 1))
    frame = bounce_categories(health_db, *JANUARY, bounce_rules=rules).set_index("category")
    assert frame.loc["content", "bounces"] == 1
    assert "policy_block" not in frame.index


def test_blocklist_events(health_db):
    """Two listings. 10.0.0.1 on trendmicro_ers, 48 h; in the 30 days before it only acc1 sent from the
    IP (c1: 10 sends, 2 complaints of 6 delivered). acc2.example on spamhaus_dbl, still listed at the
    end of January: 01-12 12:00 to 02-01 00:00 = 468 h; matched to acc2's mail.acc2.example, which sent
    c2 (2 messages) 3 hours before. In acc2's own view (acc2 used both in January) both show, without
    the count of accounts; acc3 used neither: no row."""
    from dlvstats.metrics.sender_health import blocklist_events

    frame = blocklist_events(health_db, *JANUARY)
    assert list(frame["target"]) == ["10.0.0.1", "acc2.example"]
    row = frame.iloc[0]
    assert (row["target"], row["target_kind"], row["blocklist"]) == ("10.0.0.1", "ip", "trendmicro_ers")
    assert row["listed_hours"] == 48
    assert (row["accounts_using"], row["sends_30d_before"]) == (1, 10)
    assert row["complaint_rate_30d_before"] == pytest.approx(2 / 6)
    domain = frame.iloc[1]
    assert (domain["target_kind"], domain["listed_hours"], domain["accounts_using"]) == ("domain", 468, 1)
    assert domain["sends_30d_before"] == 2 and pd_isna(domain["delisted_at"])
    own = blocklist_events(health_db, *JANUARY, account_id="acc2")
    assert len(own) == 2 and own["accounts_using"].isna().all()
    assert blocklist_events(health_db, *JANUARY, account_id="acc3").empty


def test_compliance_by_hand(health_db):
    """acc1 in January: sends 15. After an unsubscribe: c3->r2 (23 h) and c4->r2 (94 h) = 2, over two
    days 1 (c4). After a complaint: c3->r1 = 1. After a hard bounce (+24 h grace): c3->r7 (25 h) = 1;
    c3->r8 does not count: r8's hard bounce was a blocklisting (5.7.1), not a dead address.
    Unsubscribes by people: r2 (link) and r3 (user) = 2; followed by a send: r2 only; over two days:
    r2 (94 h) -> over_2d_rate 1/2; honour hours median = max = 94."""
    from dlvstats.metrics.sender_health import compliance

    frame = compliance(health_db, *JANUARY).set_index("account_id")
    acc1 = frame.loc["acc1"]
    expected = {"sends": 15, "sent_after_unsubscribe": 2, "sent_after_unsubscribe_over_2d": 1,
                "sent_after_complaint": 1, "sent_after_hard_bounce": 1, "unsubscribe_events": 2,
                "unsubscribes_followed_by_send": 1, "unsubscribes_over_2d": 1}
    for column, value in expected.items():
        assert acc1[column] == value, column
    assert acc1["sent_after_unsubscribe_rate"] == pytest.approx(2 / 15)
    assert acc1["over_2d_rate"] == pytest.approx(0.5)
    assert acc1["honour_hours_median"] == pytest.approx(94) and acc1["honour_hours_max"] == pytest.approx(94)
    assert frame.loc["acc2", "sent_after_unsubscribe"] == 0
    # a 4-day rule lets c4 pass
    relaxed = compliance(health_db, *JANUARY, honour_hours=96).set_index("account_id")
    assert relaxed.loc["acc1", "unsubscribes_over_2d"] == 0


def test_account_risk_by_hand(health_db):
    """Shared IP: 10.0.0.1 (acc1 and acc2). acc1: complaint_rate_fbl 1/8 (capped at 3 lines),
    invalid_address_rate 3/15 (capped 3; hard_bounce_rate 4/15 also counts m8's block), old addresses
    10/10 collected in 2015 (1/0.5 = 2), never engaged 7/7 delivered recipients (2) -> risk_score
    (3 + 3 + 2 + 2) / 4 = 2.5; old_import_share 1.
    acc2: no complaint, no bounce, addresses of 2025-06 (young), never engaged 1/2 (x1 clicked) ->
    (0 + 0 + 0 + 1) / 4 = 0.25. acc3 (dedicated IP only): hard bounce 1/1 -> 3/4 = 0.75, yet ranked
    after the shared-IP accounts."""
    from dlvstats.metrics.sender_health import account_risk

    frame = account_risk(health_db, *JANUARY).set_index("account_id")
    assert list(frame.index) == ["acc1", "acc2", "acc3"]
    assert list(frame["risk_rank"]) == [1, 2, 3]
    assert frame.loc["acc1", "risk_score"] == pytest.approx(2.5)
    assert frame.loc["acc2", "risk_score"] == pytest.approx(0.25)
    assert frame.loc["acc3", "risk_score"] == pytest.approx(0.75)
    assert frame.loc["acc1", "old_address_share"] == 1 and frame.loc["acc1", "old_import_share"] == 1
    assert frame.loc["acc1", "never_engaged_share"] == 1
    assert frame.loc["acc2", "never_engaged_share"] == pytest.approx(0.5)
    assert (frame.loc["acc1", "shared_ip_sends"], frame.loc["acc2", "shared_ip_sends"],
            frame.loc["acc3", "shared_ip_sends"]) == (15, 1, 0)
    assert frame.loc["acc1", "invalid_address_rate"] == pytest.approx(3 / 15)
    assert frame.loc["acc1", "hard_bounce_rate"] == pytest.approx(4 / 15)
    own = account_risk(health_db, *JANUARY, account_id="acc2")
    assert list(own["account_id"]) == ["acc2"] and own["risk_rank"].isna().all()


def test_registered(health_db):
    from dlvstats import metrics

    for name in ["sender-health", "bounce-categories", "compliance", "account-risk", "blocklist-events"]:
        frame = metrics.get(name)(health_db, *JANUARY)
        assert not frame.empty, name


# --- against the simulator's truth -------------------------------------------------------------

def _truth_account(value):
    if isinstance(value, dict):
        return value.get("account_id") or value.get("account")
    return value


def test_stale_client_tops_the_risk_ranking(sim):
    """The simulator's stale-list client (truth ``stale_account``) is ranked first."""
    from dlvstats.metrics.sender_health import account_risk

    stale = _truth_account(sim.truth.get("stale_account"))
    assert stale, "the simulator's truth.json names no stale account"
    frame = account_risk(sim.db_path, "2000-01-01", "2100-01-01")
    assert frame.iloc[0]["account_id"] == stale, frame[["account_id", "risk_score"]].to_string()


def test_blocklist_listing_appears(sim):
    """The simulated listing of the shared IP shows in blocklist_events and on the sender-health
    timeline of that IP."""
    from dlvstats.metrics.sender_health import blocklist_events, sender_health

    listing = sim.truth.get("blocklist_listing")
    assert listing, "the simulator's truth.json has no blocklist listing"
    listings = listing if isinstance(listing, list) else [listing]
    events = blocklist_events(sim.db_path, "2000-01-01", "2100-01-01")
    health = sender_health(sim.db_path, "2000-01-01", "2100-01-01", by="sending_ip", grain="week")
    for item in listings:
        target = item.get("target") or item.get("ip") or sim.truth.get("shared_ip")
        assert target in set(events["target"]), events.to_string()
        assert health.loc[health["dimension_value"] == target, "blocklist_listings"].sum() >= 1
