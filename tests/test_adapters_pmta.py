"""PowerMTA accounting CSV adapter: the header names the fields; record types r, t, tq, d, b, rb,
rs, f and an unknown one in one file; bounceCat/dsnStatus/dsnDiag to class, code and reason;
derived keys when there is no message id; offset and epoch timestamps."""

from __future__ import annotations

from datetime import datetime

import pytest
from tests.test_adapters_helpers import by_key, copy_fixtures, counts, public_files, rows

from dlvstats.ingest import IngestRefused, ingest_paths
from dlvstats.ingest.adapters import sniff


def test_pmta_accounting(tmp_path):
    db = tmp_path / "pmta.duckdb"
    summary = ingest_paths(db, [copy_fixtures("pmta", tmp_path / "in")], input_format="pmta")
    sends = by_key(db, "SELECT message_id, status, sent_at, delivered_at, bounce_class, smtp_code, enhanced_status, "
                       "bounce_reason, sending_ip, sending_domain, account_id, list_id, campaign_id FROM sends")
    a = sends["20261001080000.A1@mail.acme.example:alice@gmail.com"]
    # r (received), t (transient), d (delivered): delivered; timeQueued with an offset is the send time
    assert a[1:4] == ("delivered", datetime(2026, 10, 1, 8, 0), datetime(2026, 10, 1, 8, 5, 12))
    assert a[8:] == ("203.0.113.25", "mail.acme.example", "acme", "newsletter", "autumn-2026")
    b = sends["20261001080000.B2@mail.acme.example:bob@corp.example"]
    assert b[1] == "bounced" and b[4:7] == ("hard", 550, "5.1.1")  # bounceCat bad-mailbox
    c = sends["20261001080000.C3@mail.acme.example:carol@hotmail.com"]
    assert c[4:7] == ("soft", 550, "5.7.1")  # policy-related: a block, not a dead address
    assert sends["20261001080000.D4@mail.acme.example:dora@yahoo.com"][1] == "deferred"  # tq
    # no header_Message-Id: the derived key pmta:<jobId>:<rcpt>:<timeQueued>; epoch timestamps
    e = sends["pmta:autumn-2026:erin@orange.fr:1790841602"]
    assert e[1:4] == ("delivered", datetime(2026, 10, 1, 8, 0, 2), datetime(2026, 10, 1, 10, 0))
    assert sends["20261001080000.F6@mail.acme.example:frank@example.net"][4] == "hard"  # rb, inactive-mailbox
    assert sends["20261001080000.G7@mail.acme.example:gus@example.net"][1] == "delivered"  # rs, delivered
    assert rows(db, "SELECT message_id, source FROM complaints") == [
        ("20261001080000.A1@mail.acme.example:alice@gmail.com", "yahoo_cfl")]  # f, abuse
    notes = "\n".join(summary.notes)
    assert "1 f event(s) not loaded: feedback type not-spam" in notes and "unknown type 'x'" in notes
    assert counts(summary) == {"sends": (9, 7, 0, 2, 0), "complaints": (1, 1, 0, 0, 0)}


def test_broken_record_is_refused_with_its_line(tmp_path):
    path = tmp_path / "acct.csv"
    path.write_text(
        "type,timeLogged,rcpt,jobId,dsnDiag\n"
        "d,2026-10-01 10:00:00+0000,a@b.example,j1,smtp;250 ok\n"
        'b,2026-10-01 10:00:00+0000,c@d.example,j1,"smtp;550 unterminated\n'
    )
    with pytest.raises(IngestRefused) as refused:
        ingest_paths(tmp_path / "x.duckdb", [path], input_format="pmta")
    assert f"{path}, line 3" in str(refused.value)


def test_public_users_guide_example(tmp_path):
    """The accounting-file example of the PowerMTA User's Guide (tests/data/esp/pmta/SOURCES.md):
    epoch times, no message id, no timeQueued, no jobId; two `d` and two `b` records, two of them in
    the same second: four sends, none merged."""
    (path,) = public_files("pmta")
    assert sniff(path) == "pmta"
    db = tmp_path / "pub.duckdb"
    summary = ingest_paths(db, [path], input_format="auto")
    assert counts(summary) == {"sends": (4, 4, 0, 0, 0)}
    assert sorted(rows(db, "SELECT recipient, status, sent_at, bounce_class, sending_ip FROM sends")) == [
        ("user1@domain.com", "delivered", datetime(2007, 5, 10, 14, 38, 23), None, "10.0.0.1"),
        ("user2@domain.com", "delivered", datetime(2007, 5, 10, 14, 38, 25), None, "10.0.0.1"),
        ("user3@domain.com", "bounced", datetime(2007, 5, 10, 14, 38, 35), "soft", None),   # policy-related
        ("user4@domain.com", "bounced", datetime(2007, 5, 10, 14, 38, 35), "soft", None),
    ]
