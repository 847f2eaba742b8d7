"""Postfix maillog adapter: status=sent|bounced|deferred|expired lines joined through queue ids to
message-id, sender and logged headers; queue ids reused after `removed`; classic syslog time
stamps (year from the file or an option, local time) and RFC 3339 ones."""

from __future__ import annotations

import os
import shutil
from datetime import datetime

from tests.test_adapters_helpers import by_key, copy_fixtures, counts, fixture_dir, public_files, rows, stage

from dlvstats.ingest import ingest_paths
from dlvstats.ingest.adapters import sniff


def test_maillog(tmp_path):
    db = tmp_path / "pf.duckdb"
    summary = ingest_paths(db, [copy_fixtures("postfix", tmp_path / "in")], input_format="postfix", timezone_name="Europe/Paris",
                           adapter_options={"year": 2026})
    sends = by_key(db, "SELECT message_id, status, sent_at, delivered_at, bounce_class, smtp_code, enhanced_status, "
                       "account_id, campaign_id, sending_domain FROM sends")
    alice = sends["20261001100000.4BCD1E12345@mail.acme.example:alice@gmail.com"]
    # naive syslog times are local (--timezone Europe/Paris: UTC+2 in October)
    assert alice[1:4] == ("delivered", datetime(2026, 10, 1, 8, 0), datetime(2026, 10, 1, 8, 0, 2))
    assert alice[7:] == ("acme", "autumn-2026", "mail.acme.example")  # from header_checks INFO lines
    bob = sends["20261001100000.4BCD1E12345@mail.acme.example:bob@corp.example"]  # recipient lower-cased
    assert bob[1:2] + bob[4:7] == ("bounced", "hard", 550, "5.1.1")
    carol = sends["20261001100100.7A1B2C3D4E@mail.acme.example:carol@yahoo.fr"]
    assert carol[1] == "delivered" and carol[3] == datetime(2026, 10, 1, 8, 31, 5)  # deferred, then sent
    dan = sends["postfix:mx1:9C8D7E6F5A:dan@example.net"]  # no message-id line: derived key
    assert dan[1:2] + dan[4:7] == ("bounced", "soft", None, "4.4.1")  # expired, returned to sender
    # the queue id 4BCD1E12345 reused after its `removed` line is another message
    erin = sends["postfix:mx1:4BCD1E12345:erin@orange.fr"]
    assert erin[1:3] == ("delivered", datetime(2026, 10, 1, 8, 4)) and erin[7] == "unknown"
    # RFC 3339 stamps keep their offset; the own id header X-Message-Id wins
    assert sends["acme-own-0001"][1:4] == ("delivered", datetime(2026, 10, 2, 10, 0, 0, 123456),
                                           datetime(2026, 10, 2, 10, 0, 1, 500000))
    assert "only `status=` lines are events" in summary.notes[0]


def test_year_from_file_time(tmp_path):
    log = tmp_path / "maillog.1"
    shutil.copy(fixture_dir("postfix") / "maillog", log)
    january = datetime(2027, 1, 5, 6, 0).timestamp()
    os.utime(log, (january, january))  # rotated in January: October lines are from the year before
    staged, _ = stage("postfix", log)
    assert {r["sent_at"][:4] for r in staged["sends"]} == {"2026"}
    october = datetime(2026, 10, 10, 6, 0).timestamp()
    os.utime(log, (october, october))
    staged, _ = stage("postfix", log)
    assert {r["sent_at"][:10] for r in staged["sends"]} == {"2026-10-01"}


def test_public_syslog_lines(tmp_path):
    """The full syslog lines of postfix-parser's test suite (tests/data/esp/postfix/SOURCES.md): a
    spamd line (not Postfix), cleanup message-id, qmgr with the null sender, smtp status=sent, a qmgr
    sender without angle brackets, postsuper removed, a submission smtpd client line."""
    (path,) = public_files("postfix")
    assert sniff(path) == "postfix"
    db = tmp_path / "pub.duckdb"
    summary = ingest_paths(db, [path], input_format="auto", adapter_options={"year": 2015})
    assert counts(summary) == {"sends": (1, 1, 0, 0, 0)}
    assert rows(db, "SELECT message_id, status, sent_at, delivered_at, recipient FROM sends") == [
        ("E1ZB06G-0006n5-Vp@anc-dev-web1.slc.example.net:56597@continuity.delivery", "delivered",
         datetime(2015, 7, 5, 6, 52, 11), datetime(2015, 7, 5, 6, 52, 11), "56597@continuity.delivery")]
    assert "7 log line(s) read, 6 from Postfix" in "\n".join(summary.notes)
