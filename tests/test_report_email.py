"""The report e-mail end to end: ``run_report`` renders the month and sends it to a real SMTP server on
loopback (aiosmtpd, a free port), in plain mode and with STARTTLS + AUTH (a throw-away CA, certificate
verification on). Checks the MIME structure, the subject, the attachments (the very files beside the
page), the absence of any recipient address of the data, and what happens when the server fails.

Servers, certificates and credentials come from test_mail.py.
"""

# ruff: noqa: F811 - the SMTP fixtures imported from test_mail are used as test arguments
from __future__ import annotations

import email
import email.policy
import logging
import subprocess
from pathlib import Path

import pytest

from dlvstats import report
from dlvstats.report import ReportOptions, run_report
from test_mail import (  # noqa: F401 - fixtures are used by name
    PASSWORD,
    USER,
    Authenticator,
    Recorder,
    certs,
    server_tls,
    smtp_server,
)
from test_report import (
    DLVSTATS,
    HOSTILE_ACCOUNT,
    assert_no_addresses,
    build_tiny_db,
    db_strings,
    probe_notebooks,
)

FROM = "Deliverability reports <reports@example.com>"
TO = ["manager@example.net", "client@example.org"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    base = tmp_path_factory.mktemp("mail-tiny")
    return build_tiny_db(base / "db"), probe_notebooks(base / "nb", overview=False)


@pytest.fixture
def smtp_env(monkeypatch):
    """Point DLVSTATS_SMTP_* at a test server (the variables the cron job would set)."""
    for name in ("DLVSTATS_SMTP_HOST", "DLVSTATS_SMTP_PORT", "DLVSTATS_SMTP_USER", "DLVSTATS_SMTP_PASSWORD",
                 "DLVSTATS_SMTP_SECURITY", "DLVSTATS_SMTP_CA_FILE", "DLVSTATS_SMTP_VERIFY", "DLVSTATS_MAIL_FROM"):
        monkeypatch.delenv(name, raising=False)

    def point(port: int, security: str = "none", **extra: str) -> dict:
        env = {"DLVSTATS_SMTP_HOST": "127.0.0.1", "DLVSTATS_SMTP_PORT": str(port),
               "DLVSTATS_SMTP_SECURITY": security, "DLVSTATS_MAIL_FROM": FROM, **extra}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return env

    return point


def check_message(raw: bytes, directory: Path, subject: str, db_path: Path, tmp_path: Path,
                  alerts: bool = True, attached: bool = False) -> email.message.EmailMessage:
    """``subject``: the subject without its alert count; the count is checked against the body's alerts."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    shown = [line for line in msg.get_body(("plain",)).get_content().splitlines()
             if line.startswith(("ALERT:", "WARNING:"))]
    if alerts:
        count = len(shown)
        assert count >= 1
        assert msg["Subject"] == f"{count} alert{'s' if count > 1 else ''} — {subject}"
    else:
        assert shown == [] and msg["Subject"] == subject
    assert len(raw) < 1_000_000 or attached
    assert msg["From"] == FROM and [a.strip() for a in msg["To"].split(",")] == TO
    assert msg["Date"] and msg["Message-ID"].strip().endswith("@example.com>")
    # multipart/mixed > [alternative, attachments...] when attached; the bare alternative otherwise
    assert msg.get_content_type() == ("multipart/mixed" if attached else "multipart/alternative")
    parts = list(msg.iter_parts()) if attached else [msg]
    assert parts[0].get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parts[0].iter_parts()] == ["text/plain", "text/html"]
    text_part, html_part = parts[0].iter_parts()
    body = html_part.get_content()
    assert "<script" not in body.lower() and "<style" not in body.lower() and "<table" in body
    assert "Messages sent" in body and "vs previous month" in body
    assert ("ALERT" in body) == alerts
    assert "Messages sent" in text_part.get_content()
    # With --attach-report the full report is attached, byte for byte, with the CSV tables beside it;
    # without it nothing is, and the message says where the page is.
    attachments = {p.get_filename(): p for p in parts[1:]}
    if not attached:
        assert attachments == {}
        assert "on the reporting server" in text_part.get_content()
        assert "are attached" not in text_part.get_content()
    expected = {"index.html"} | {p.name for p in directory.glob("*.csv")} if attached else set()
    assert set(attachments) == expected
    if attached:
        assert attachments["index.html"].get_content_type() == "text/html"
        assert attachments["index.html"].get_payload(decode=True) == (directory / "index.html").read_bytes()
    for name in expected - {"index.html"}:
        assert attachments[name].get_content_type() == "text/csv"
        assert attachments[name].get_payload(decode=True) == (directory / name).read_bytes()
    # No address of the data anywhere in the message; only the configured sender and recipients.
    sent = tmp_path / "sent"
    sent.mkdir(exist_ok=True)
    (sent / "message.eml").write_bytes(raw)
    recipients = db_strings(db_path, "SELECT DISTINCT recipient FROM sends")
    message_id = msg["Message-ID"].strip().strip("<>")  # an id shaped like an address, not one
    assert_no_addresses(sent, recipients, allowed={"reports@example.com", *TO, message_id})
    return msg


def test_report_sent_over_plain_smtp(tmp_path, tiny, smtp_server, smtp_env):
    db_path, nbdir = tiny
    handler = Recorder()
    server = smtp_server(handler)
    smtp_env(server.port, "none")
    result = run_report(ReportOptions(db_path=db_path, out_dir=tmp_path / "out", month="2026-10",
                                      notebooks_dir=nbdir, email=TO))
    assert result.emailed and len(handler.envelopes) == 1
    envelope = handler.envelopes[0]
    assert envelope.mail_from == "reports@example.com" and envelope.rcpt_tos == TO
    msg = check_message(envelope.content, result.directory, "Deliverability report — October 2026",
                        db_path, tmp_path)
    html_body = msg.get_body(("html",)).get_content()
    # The hostile account name reaches the alerts, escaped in HTML, plain in the text part.
    assert HOSTILE_ACCOUNT not in html_body and "&lt;img src=x onerror=alert(1)&gt;" in html_body
    assert HOSTILE_ACCOUNT in msg.get_body(("plain",)).get_content()


def test_account_pack_sent_with_starttls_and_auth(tmp_path, tiny, smtp_server, server_tls, certs, smtp_env, caplog):
    caplog.set_level(logging.DEBUG)
    db_path, nbdir = tiny
    handler, auth = Recorder(), Authenticator()
    server = smtp_server(handler, tls_context=server_tls, require_starttls=True, authenticator=auth,
                         auth_required=True, auth_require_tls=True)
    smtp_env(server.port, "starttls", DLVSTATS_SMTP_USER=USER, DLVSTATS_SMTP_PASSWORD=PASSWORD,
             DLVSTATS_SMTP_CA_FILE=str(certs[0]))
    result = run_report(ReportOptions(db_path=db_path, out_dir=tmp_path / "out", month="2026-10",
                                      notebooks_dir=nbdir, email=TO, account_id="acme", attach_report=True))
    assert auth.calls == 1 and len(handler.envelopes) == 1
    msg = check_message(handler.envelopes[0].content, result.directory,
                        "Deliverability report — acme — October 2026", db_path, tmp_path, alerts=False,
                        attached=True)
    whole = msg.as_string()
    for other in ("globex", "onerror"):
        assert other not in whole
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))
    assert PASSWORD not in logged


def test_a_transient_smtp_failure_is_retried(tmp_path, tiny, smtp_server, smtp_env, monkeypatch):
    db_path, nbdir = tiny
    monkeypatch.setattr(report.mailing, "MAIL_BACKOFF_SECONDS", 0.05)
    handler = Recorder(fail_first=2)  # 451 twice, then accepted
    server = smtp_server(handler)
    smtp_env(server.port, "none")
    result = run_report(ReportOptions(db_path=db_path, out_dir=tmp_path / "out", month="2026-10",
                                      notebooks_dir=nbdir, email=TO))
    assert result.emailed and handler.data_calls == 3 and len(handler.envelopes) == 1


class Rejecting:
    async def handle_DATA(self, server, session, envelope):
        return "554 5.7.1 Message rejected by policy"


def test_smtp_failure_exits_8_and_the_report_stays(tmp_path, tiny, smtp_server, smtp_env):
    """Through the console script, as cron runs it: a clear message, exit code 8, report kept."""
    db_path, nbdir = tiny
    server = smtp_server(Rejecting())
    env = smtp_env(server.port, "none")
    import os

    done = subprocess.run([DLVSTATS, "-q", "report", "--month", "2026-10", "--db", str(db_path), "--out",
                           str(tmp_path / "out"), "--notebooks", str(nbdir), "--email", ",".join(TO)],
                          capture_output=True, text=True, timeout=300, env={**os.environ, **env}, check=False)
    assert done.returncode == report.EXIT_MAIL_FAILED, done.stderr
    assert f"127.0.0.1:{server.port}" in done.stderr and "554" in done.stderr
    assert "report is rendered and stays" in done.stderr
    assert (tmp_path / "out" / "2026-10" / "index.html").exists()


def test_dry_run_writes_the_eml_and_sends_nothing(tmp_path, tiny, smtp_server, smtp_env):
    db_path, nbdir = tiny
    handler = Recorder()
    server = smtp_server(handler)
    smtp_env(server.port, "none")
    result = run_report(ReportOptions(db_path=db_path, out_dir=tmp_path / "out", month="2026-10",
                                      notebooks_dir=nbdir, email=TO, dry_run=True))
    assert handler.envelopes == [] and not result.emailed
    assert result.eml == result.directory / "email.eml"
    check_message(result.eml.read_bytes(), result.directory, "Deliverability report — October 2026",
                  db_path, tmp_path)


def test_sender_option_and_report_link(tmp_path, tiny, smtp_server, smtp_env, monkeypatch):
    """--mail-from overrides DLVSTATS_MAIL_FROM; --report-url puts the link in both parts, attaches nothing."""
    db_path, nbdir = tiny
    handler = Recorder()
    server = smtp_server(handler)
    smtp_env(server.port, "none")
    monkeypatch.delenv("DLVSTATS_MAIL_FROM")
    url = "https://reports.example.com/2026-10/"
    result = run_report(ReportOptions(db_path=db_path, out_dir=tmp_path / "out", month="2026-10",
                                      notebooks_dir=nbdir, email=TO, mail_from="Ops <ops@example.com>",
                                      report_url=url))
    envelope = handler.envelopes[0]
    assert result.emailed and envelope.mail_from == "ops@example.com"
    msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert msg["From"] == "Ops <ops@example.com>"
    assert list(msg.iter_attachments()) == []
    assert url in msg.get_body(("plain",)).get_content() and url in msg.get_body(("html",)).get_content()


@pytest.mark.parametrize("change, message", [
    ({"mail_from": "not an address"}, "--mail-from"),
    ({"report_url": "javascript:alert(1)"}, "--report-url"),
    ({"report_url": "https://x.example/", "attach_report": True}, "choose one"),
])
def test_bad_mail_options_are_usage_errors(tmp_path, tiny, change, message):
    db_path, nbdir = tiny
    with pytest.raises(report.ReportUsageError, match=message):
        run_report(ReportOptions(db_path=db_path, out_dir=tmp_path / "out", month="2026-10", notebooks_dir=nbdir,
                                 email=TO, dry_run=True, **change))
    assert not (tmp_path / "out" / "2026-10").exists()
