"""`dlvstats watch`: a real loopback DNS zone, a real DuckDB file, a real aiosmtpd server on loopback."""

from __future__ import annotations

import email
from email import policy

import pytest
from aiosmtpd.controller import Controller
from tests.helpers import write_drop

from dlvstats import cli
from dlvstats.ingest import ingest_paths
from dlvstats.testzone import TestZoneServer, ip_key

ZONE = "test.dnsbl.invalid"
LISTED_IP, CLEAN_IP = "192.0.2.10", "192.0.2.20"


class _FreePortController(Controller):
    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = _FreePortController(inbox, hostname="127.0.0.1", port=0, ready_timeout=60)
    controller.start()
    yield inbox, controller.port
    controller.stop()


def _database(tmp_path):
    header = ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status", "sending_ip"]
    sends = [[f"b{i}", "2026-11-30T10:00:00Z", "acct_bad", "l1", "c1", f"b{i}@example.org", "delivered", LISTED_IP]
             for i in range(300)]
    sends += [[f"g{i}", "2026-11-30T11:00:00Z", "acct_good", "l2", "c2", f"g{i}@example.org", "delivered", CLEAN_IP]
              for i in range(300)]
    complaints = [["2026-11-30T18:00:00Z", f"b{i}", "signal_spam"] for i in range(3)]  # 1% of acct_bad
    drop = write_drop(tmp_path / "drop", {"sends": (header, sends),
                                          "complaints": (["ts", "message_id", "source"], complaints)})
    path = tmp_path / "db.duckdb"
    ingest_paths(path, [drop])
    zones = tmp_path / "zones.toml"
    zones.write_text(f'[[zone]]\nname = "test_ip_list"\nzone = "{ZONE}"\nkind = "ip"\n'
                     'codes = { "127.0.0.2" = "SBL: test listing" }\n', encoding="utf-8")
    return path, zones


def test_watch_mails_new_listing_and_complaint_line_then_stays_quiet(tmp_path, smtp, monkeypatch, capsys):
    inbox, port = smtp
    monkeypatch.setenv("DLVSTATS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DLVSTATS_SMTP_PORT", str(port))
    monkeypatch.setenv("DLVSTATS_SMTP_SECURITY", "none")
    monkeypatch.setenv("DLVSTATS_MAIL_FROM", "dlvstats@example.net")
    db_path, zones = _database(tmp_path)
    with TestZoneServer(ZONE, {ip_key(LISTED_IP): "127.0.0.2"}) as dns:
        args = ["watch", "--db", str(db_path), "--zones", str(zones), "--resolver", dns.address,
                "--email", "ops@example.net", "--interval", "0"]
        assert cli.main(args) == 0
        out = capsys.readouterr().out
        assert len(inbox.messages) == 1
        message = inbox.messages[0]
        body = message.get_body(("plain",)).get_content()
        assert "3 alert(s)" in message["Subject"]  # the listing, the account and its IP
        assert f"{LISTED_IP} newly listed on test_ip_list" in body
        assert "account acct_bad: complaint rate 1.00% (3 of 300) > 0.30%" in body
        assert f"sending_ip {LISTED_IP}: complaint rate 1.00% (3 of 300)" in body
        assert "acct_good" not in body and "@example.org" not in body  # no recipient address in the mail
        assert dns.address in out and all(q.endswith(ZONE) for q in dns.queries)
        # the next day: nothing new sent, the IP still listed (not new): no line crossed, no e-mail
        assert cli.main(args) == 0
        assert "No line crossed." in capsys.readouterr().out
        assert len(inbox.messages) == 1


def test_small_cells_are_not_judged(tmp_path, capsys):
    db_path, zones = _database(tmp_path)
    with TestZoneServer(ZONE, {}) as dns:
        assert cli.main(["watch", "--db", str(db_path), "--zones", str(zones), "--resolver", dns.address,
                         "--interval", "0", "--min-delivered", "1000"]) == 0
    out = capsys.readouterr().out
    assert "No line crossed." in out and "under 1000 delivered messages: not judged" in out


def test_watch_email_without_smtp_settings_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DLVSTATS_SMTP_HOST", raising=False)
    db_path, zones = _database(tmp_path)
    assert cli.main(["watch", "--db", str(db_path), "--zones", str(zones), "--email", "ops@example.net"]) == 2
    assert "DLVSTATS_SMTP_HOST" in capsys.readouterr().err
