"""The report e-mail: settings, rendering, MIME structure and delivery to real SMTP servers on loopback.

Servers are aiosmtpd instances on 127.0.0.1 (a free port chosen by the kernel) in plain, STARTTLS with
AUTH, and implicit-TLS modes, plus tiny raw-socket servers for refusals and timeouts. TLS uses a
throw-away CA and server certificate made in the test (with ``cryptography`` if installed, else the
``openssl`` CLI) and passed as ``ca_file``, so certificate verification stays on.
"""

from __future__ import annotations

import base64
import email
import email.policy
import html.parser
import logging
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import traceback
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from dlvstats import mail
from dlvstats.mail import MailConfigError, MailSendError, SmtpSettings

USER = "reports-bot"
PASSWORD = "hunter2-Zq9xK7-pw"  # distinctive, so any leak is found by a substring search
WRONG_PASSWORD = "wrong-Pq8Lm3-secret"
HOSTILE = "<img src=x onerror=alert(1)>"
BREAKOUT = "</script><script>alert(2)</script>"
FROM = "Deliverability reports <reports@example.com>"
TO = ["manager@example.net", "client@example.org"]


# --------------------------------------------------------------------------------------------------
# Certificates


def _certs_with_cryptography(d: Path) -> tuple[Path, Path, Path]:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dlvstats test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem, cert_pem, key_pem = d / "ca.pem", d / "server.pem", d / "server.key"
    ca_pem.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ca_pem, cert_pem, key_pem


def _certs_with_openssl(d: Path) -> tuple[Path, Path, Path]:
    (d / "ca.cnf").write_text(
        "[req]\ndistinguished_name = dn\nprompt = no\nx509_extensions = v3_ca\n"
        "[dn]\nCN = dlvstats test CA\n"
        "[v3_ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n"
        "subjectKeyIdentifier = hash\n"
    )
    (d / "leaf.cnf").write_text(
        "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = localhost\n"
        "[v3_leaf]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n"
        "extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost,IP:127.0.0.1\n"
        "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n"
    )
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True, timeout=30)

    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-config", "ca.cnf")
    run("req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr", "-config", "leaf.cnf")
    run(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-set_serial",
        "4242",
        "-days",
        "2",
        "-out",
        "server.pem",
        "-extfile",
        "leaf.cnf",
        "-extensions",
        "v3_leaf",
    )
    return d / "ca.pem", d / "server.pem", d / "server.key"


@pytest.fixture(scope="session")
def certs(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(CA bundle, server certificate, server key) for 127.0.0.1 and localhost."""
    d = tmp_path_factory.mktemp("tls")
    try:
        import cryptography  # noqa: F401
    except ImportError:
        assert shutil.which("openssl"), "the TLS tests need the cryptography package (the test extra) or openssl"
        return _certs_with_openssl(d)
    return _certs_with_cryptography(d)


@pytest.fixture(scope="session")
def server_tls(certs) -> ssl.SSLContext:
    _, cert, key = certs
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


# --------------------------------------------------------------------------------------------------
# Servers


class Recorder:
    """aiosmtpd handler keeping every accepted envelope; can answer 451 to the first DATA commands."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.data_calls = 0
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):
        self.data_calls += 1
        if self.data_calls <= self.fail_first:
            return "451 4.3.0 Temporary local problem, try again later"
        self.envelopes.append(envelope)
        return "250 2.0.0 OK queued"


class Authenticator:
    """Accepts USER/PASSWORD; on failure echoes the attempted password back, as a careless server might."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, server, session, envelope, mechanism, auth_data):
        self.calls += 1
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        if login == USER and password == PASSWORD:
            return AuthResult(success=True)
        return AuthResult(
            success=False,
            handled=False,
            message=f"535 5.7.8 Authentication credentials invalid for {login}:{password}",
        )


class _FreePortController(Controller):
    """Controller bound to port 0: learns the kernel's port before its readiness probe connects."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def smtp_server():
    """Factory: start an aiosmtpd server on 127.0.0.1 with the given options; stopped after the test."""
    started: list[Controller] = []

    def start(handler, **kwargs) -> Controller:
        controller = _FreePortController(handler, hostname="127.0.0.1", port=0, ready_timeout=5, **kwargs)
        controller.start()
        started.append(controller)
        return controller

    yield start
    for controller in started:
        controller.stop()


class RawServer:
    """A bare TCP listener on 127.0.0.1 that counts connections and runs ``behaviour(conn)`` on each."""

    def __init__(self, behaviour) -> None:
        self.behaviour = behaviour
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            self._held.append(conn)
            self.behaviour(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for conn in self._held:
            conn.close()
        self.sock.close()


def settings_for(port: int, security: str = "none", **overrides) -> SmtpSettings:
    values = {"host": "127.0.0.1", "port": port, "user": None, "password": None, "timeout": 5}
    values.update(overrides)
    return SmtpSettings(security=security, mail_from=FROM, **values)


# --------------------------------------------------------------------------------------------------
# A report message


def report_message(tmp_path: Path, subject: str = "Deliverability report \u2014 2026-03 \u2014 acme"):
    index = tmp_path / "index.html"
    # One very long line, like plotly's embedded JavaScript: must survive SMTP byte for byte.
    index.write_text(
        "<!DOCTYPE html><html><body><script>var x = '" + "a" * 5000 + "';</script>caf\u00e9</body></html>\n",
        encoding="utf-8",
    )
    csv_bytes = b'campaign_id,complaint_rate\r\nC1,0.0012\r\n"=HYPERLINK(""x"")",0.0\r\n'
    zip_bytes = b"PK\x05\x06" + b"\x00" * 18  # an empty zip archive
    rows = [
        {"label": "Delivered", "value": "1,234,567", "change": "+3.1%", "tone": "good"},
        {
            "label": "Complaint rate (FBL providers)",
            "value": "0.12%",
            "change": "+0.04 pp",
            "tone": "bad",
            "note": "over the 0.1% line",
        },
        ("Worst campaign", HOSTILE, "", BREAKOUT),
    ]
    alerts = [
        ("critical", f"Complaint rate 0.34% for account {HOSTILE} at yahoo (over 0.3%)"),
        {"level": "warning", "text": "Shared IP 192.0.2.10 listed on Spamhaus SBL on 2026-03-14"},
    ]
    notes = ["Campaigns sent after 2026-03-28 are immature: their complaints are still arriving.", BREAKOUT]
    body_html = mail.render_summary_html("Deliverability report", "2026-03", "acme", rows, alerts, notes)
    body_text = mail.render_summary_text("Deliverability report", "2026-03", "acme", rows, alerts, notes)
    msg = mail.compose(
        subject,
        body_html,
        body_text,
        [index, ("metrics.csv", csv_bytes, "text/csv"), ("report.zip", zip_bytes, "application/zip")],
        TO,
        FROM,
    )
    return msg, {"index.html": index.read_bytes(), "metrics.csv": csv_bytes, "report.zip": zip_bytes}


def check_report_mime(raw: bytes, expected_attachments: dict[str, bytes], subject: str) -> None:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == subject
    assert msg["Date"] and msg["Message-ID"]
    assert msg["Message-ID"].strip().endswith("@example.com>")
    assert msg.get_content_type() == "multipart/mixed"
    parts = list(msg.iter_parts())
    assert parts[0].get_content_type() == "multipart/alternative"
    alt = [p.get_content_type() for p in parts[0].iter_parts()]
    assert alt == ["text/plain", "text/html"]
    text_part, html_part = parts[0].iter_parts()
    html_body = html_part.get_content()
    assert "<script" not in html_body.lower()
    assert HOSTILE not in html_body and "&lt;img src=x onerror=alert(1)&gt;" in html_body
    assert "&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html_body
    assert HOSTILE in text_part.get_content()  # plain text shows it as the text it is
    attachments = {p.get_filename(): p for p in parts[1:]}
    assert set(attachments) == set(expected_attachments)
    for name, content in expected_attachments.items():
        assert attachments[name].get_content_disposition() == "attachment"
        assert attachments[name].get_payload(decode=True) == content
    assert attachments["index.html"].get_content_type() == "text/html"
    assert attachments["metrics.csv"].get_content_type() == "text/csv"
    assert attachments["report.zip"].get_content_type() == "application/zip"


def all_log_text(caplog) -> str:
    """Every record except the test server's own (aiosmtpd logs under ``mail.log``), formatted."""
    out = []
    for rec in caplog.records:
        if rec.name.startswith("mail.log"):
            continue
        out.append(rec.getMessage())
        if rec.exc_info:
            out.append("".join(traceback.format_exception(*rec.exc_info)))
    return "\n".join(out)


def secret_forms(password: str, user: str = USER) -> list[str]:
    forms = [password, base64.b64encode(password.encode()).decode()]
    forms.append(base64.b64encode(f"\0{user}\0{password}".encode()).decode())
    return forms


def assert_no_secret(text: str, password: str) -> None:
    for form in secret_forms(password):
        assert form not in text, f"secret leaked: {text!r}"


def error_texts(exc: BaseException) -> str:
    chain = []
    e: BaseException | None = exc
    while e is not None:
        chain += [str(e), repr(e), repr(e.args), repr(vars(e))]
        e = e.__cause__ or e.__context__
    chain.append("".join(traceback.format_exception(exc)))
    return "\n".join(chain)


# --------------------------------------------------------------------------------------------------
# Settings


BASE_ENV = {"DLVSTATS_SMTP_HOST": "smtp.example.com", "DLVSTATS_MAIL_FROM": "reports@example.com"}


def test_from_env_defaults_security_and_port():
    s = SmtpSettings.from_env(dict(BASE_ENV))
    assert (s.security, s.port, s.verify_tls, s.user, s.password, s.ca_file) == (
        "starttls",
        587,
        True,
        None,
        None,
        None,
    )
    assert SmtpSettings.from_env({**BASE_ENV, "DLVSTATS_SMTP_SECURITY": "ssl"}).port == 465
    assert SmtpSettings.from_env({**BASE_ENV, "DLVSTATS_SMTP_SECURITY": "None"}).port == 25
    # An empty value is "unset": starttls, never plain text by accident.
    assert SmtpSettings.from_env({**BASE_ENV, "DLVSTATS_SMTP_SECURITY": ""}).security == "starttls"
    s = SmtpSettings.from_env(
        {
            **BASE_ENV,
            "DLVSTATS_SMTP_PORT": "2525",
            "DLVSTATS_SMTP_USER": USER,
            "DLVSTATS_SMTP_PASSWORD": PASSWORD,
        }
    )
    assert (s.port, s.user, s.password) == (2525, USER, PASSWORD)


@pytest.mark.parametrize(
    "env, needle",
    [
        ({"DLVSTATS_MAIL_FROM": "reports@example.com"}, "DLVSTATS_SMTP_HOST"),
        ({"DLVSTATS_SMTP_HOST": "smtp.example.com"}, "DLVSTATS_MAIL_FROM"),
        ({**BASE_ENV, "DLVSTATS_MAIL_FROM": "not an address"}, "DLVSTATS_MAIL_FROM"),
        ({**BASE_ENV, "DLVSTATS_SMTP_SECURITY": "tls"}, "DLVSTATS_SMTP_SECURITY='tls'"),
        ({**BASE_ENV, "DLVSTATS_SMTP_PORT": "smtp"}, "DLVSTATS_SMTP_PORT"),
        ({**BASE_ENV, "DLVSTATS_SMTP_PORT": "70000"}, "DLVSTATS_SMTP_PORT"),
        ({**BASE_ENV, "DLVSTATS_SMTP_USER": USER}, "DLVSTATS_SMTP_PASSWORD"),
        ({**BASE_ENV, "DLVSTATS_SMTP_PASSWORD": PASSWORD}, "DLVSTATS_SMTP_USER"),
        ({**BASE_ENV, "DLVSTATS_SMTP_VERIFY": "maybe"}, "DLVSTATS_SMTP_VERIFY"),
        ({**BASE_ENV, "DLVSTATS_SMTP_CA_FILE": "/nonexistent/ca.pem"}, "DLVSTATS_SMTP_CA_FILE"),
        (
            {**BASE_ENV, "DLVSTATS_SMTP_USER": USER, "DLVSTATS_SMTP_PASSWORD": "p\u00e4ss-" + PASSWORD},
            "DLVSTATS_SMTP_PASSWORD",
        ),
    ],
)
def test_from_env_refuses_bad_config_naming_the_variable(env, needle):
    with pytest.raises(MailConfigError) as info:
        SmtpSettings.from_env(env)
    assert needle in str(info.value)
    assert_no_secret(error_texts(info.value), PASSWORD)


def test_verify_off_only_with_a_loud_warning(caplog):
    caplog.set_level(logging.WARNING)
    s = SmtpSettings.from_env({**BASE_ENV, "DLVSTATS_SMTP_VERIFY": "1"})
    assert s.verify_tls is True and not caplog.records
    s = SmtpSettings.from_env({**BASE_ENV, "DLVSTATS_SMTP_VERIFY": "0"})
    assert s.verify_tls is False
    assert any(
        r.levelno == logging.WARNING and "VERIFICATION IS OFF" in r.getMessage() for r in caplog.records
    )


def test_repr_never_shows_the_password():
    s = SmtpSettings.from_env({**BASE_ENV, "DLVSTATS_SMTP_USER": USER, "DLVSTATS_SMTP_PASSWORD": PASSWORD})
    for text in (repr(s), str(s), f"{s}", f"{s!r}"):
        assert PASSWORD not in text
        assert "password=<set>" in text and USER in text


# --------------------------------------------------------------------------------------------------
# Rendering and composing (no server)


class _TagCollector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_summary_html_is_mail_client_safe_and_escaped():
    body = mail.render_summary_html(
        f"Report {HOSTILE}",
        "2026-03",
        BREAKOUT,
        [(f"Campaign {HOSTILE}", "0.5%", "+0.1 pp", BREAKOUT), {"metric": "Sends", "value": "10"}],
        [HOSTILE, ("info", BREAKOUT)],
        [f"note {HOSTILE}"],
    )
    parser = _TagCollector()
    parser.feed(body)
    tags = [t for t, _ in parser.tags]
    # Only plain layout elements: no script, style, img, link, iframe, form, a, or event handlers.
    assert set(tags) <= {
        "html",
        "head",
        "meta",
        "title",
        "body",
        "table",
        "tr",
        "td",
        "th",
        "b",
        "br",
        "span",
    }
    assert "table" in tags
    for _, attrs in parser.tags:
        assert not any(name.startswith("on") for name in attrs), attrs
        assert "class" not in attrs  # inline CSS only
        if "width" in attrs and attrs["width"].isdigit():
            assert int(attrs["width"]) <= 640
    assert all(int(px) <= 640 for px in re.findall(r"width:\s*(\d+)px", body))
    assert "max-width:640px" in body
    assert "<style" not in body.lower() and "<script" not in body.lower()
    assert HOSTILE not in body and BREAKOUT not in body
    assert (
        body.count("&lt;img src=x onerror=alert(1)&gt;") == 5
    )  # title x2 (<title> and heading), row, alert, note
    assert "ALERT:" in body and "NOTE:" in body  # levels are spelled out, not only coloured
    text = mail.render_summary_text(
        "Report", "2026-03", None, [("Delivered", "1,000", "+1%")], ["Listed"], ["immature"]
    )
    assert (
        "All accounts" in text
        and "ALERT: Listed" in text
        and "Delivered  1,000  (+1% vs previous month)" in text
    )


def test_render_refuses_malformed_rows():
    with pytest.raises(ValueError, match="unknown keys"):
        mail.render_summary_html("t", "m", None, [{"label": "x", "value": "1", "colour": "red"}], [], [])
    with pytest.raises(ValueError, match="level"):
        mail.render_summary_text("t", "m", None, [], [("panic", "x")], [])


def test_compose_structure_and_header_injection(tmp_path):
    msg, attachments = report_message(tmp_path, subject="Report 2026-03\r\nBcc: attacker@evil.example")
    raw = msg.as_bytes()
    check_report_mime(raw, attachments, "Report 2026-03 Bcc: attacker@evil.example")
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Bcc"] is None
    assert parsed["To"] == ", ".join(TO)


def test_compose_recipients():
    msg = mail.compose("s", "<p>hi</p>", "hi", [], "a@example.net, b@example.org", FROM)
    assert msg["To"] == "a@example.net, b@example.org"
    with pytest.raises(ValueError, match="no recipient"):
        mail.compose("s", "<p>hi</p>", "hi", [], [" "], FROM)
    with pytest.raises(ValueError, match="not an e-mail address"):
        mail.compose("s", "<p>hi</p>", "hi", [], ["nobody"], FROM)


def test_compose_refuses_a_script_in_the_html_body():
    with pytest.raises(ValueError, match="script"):
        mail.compose("s", "<p>hi</p><SCRIPT>alert(1)</SCRIPT>", "hi", [], TO, FROM)


def test_write_eml_round_trips(tmp_path):
    msg, attachments = report_message(tmp_path)
    path = mail.write_eml(msg, tmp_path / "out" / "2026-03" / "report.eml")
    assert path.exists() and not list(path.parent.glob(".*.tmp"))
    check_report_mime(path.read_bytes(), attachments, msg["Subject"])


# --------------------------------------------------------------------------------------------------
# Delivery to real servers


def test_send_plain_mode(tmp_path, smtp_server, caplog):
    caplog.set_level(logging.DEBUG)
    handler = Recorder()
    server = smtp_server(handler)
    msg, attachments = report_message(tmp_path)
    mail.send(msg, settings_for(server.port, "none"), retries=0)
    assert len(handler.envelopes) == 1
    env = handler.envelopes[0]
    assert env.mail_from == "reports@example.com"
    assert env.rcpt_tos == TO
    check_report_mime(env.content, attachments, "Deliverability report \u2014 2026-03 \u2014 acme")


def test_send_starttls_with_auth(tmp_path, smtp_server, server_tls, certs, caplog):
    caplog.set_level(logging.DEBUG)
    handler, auth = Recorder(), Authenticator()
    server = smtp_server(
        handler,
        tls_context=server_tls,
        require_starttls=True,
        authenticator=auth,
        auth_required=True,  # MAIL before a successful AUTH gets 530: proves the login happened
        auth_require_tls=True,
    )
    msg, attachments = report_message(tmp_path)
    settings = settings_for(server.port, "starttls", user=USER, password=PASSWORD, ca_file=str(certs[0]))
    mail.send(msg, settings, retries=0)
    assert auth.calls == 1
    assert len(handler.envelopes) == 1
    check_report_mime(handler.envelopes[0].content, attachments, msg["Subject"])
    assert_no_secret(all_log_text(caplog), PASSWORD)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_send_ssl_mode(tmp_path, smtp_server, server_tls, certs):
    handler, auth = Recorder(), Authenticator()
    # aiosmtpd only counts STARTTLS as TLS for AUTH, so it must be told to offer AUTH on implicit TLS.
    server = smtp_server(
        handler, ssl_context=server_tls, authenticator=auth, auth_required=True, auth_require_tls=False
    )
    msg, attachments = report_message(tmp_path)
    mail.send(msg, settings_for(server.port, "ssl", user=USER, password=PASSWORD, ca_file=str(certs[0])))
    assert auth.calls == 1 and len(handler.envelopes) == 1
    check_report_mime(handler.envelopes[0].content, attachments, msg["Subject"])


def test_wrong_password_fails_once_clearly_and_never_leaks(tmp_path, smtp_server, server_tls, certs, caplog):
    caplog.set_level(logging.DEBUG)
    handler, auth = Recorder(), Authenticator()
    server = smtp_server(
        handler, tls_context=server_tls, require_starttls=True, authenticator=auth, auth_required=True
    )
    msg, _ = report_message(tmp_path)
    settings = settings_for(
        server.port, "starttls", user=USER, password=WRONG_PASSWORD, ca_file=str(certs[0])
    )
    sleeps: list[float] = []
    with pytest.raises(MailSendError) as info:
        mail.send(msg, settings, retries=3, backoff_seconds=1.0, sleep=sleeps.append)
    err = info.value
    assert auth.calls == 1 and sleeps == [] and err.attempts == 1  # a 535 is not retried
    assert err.smtp_code == 535 and not err.transient
    assert f"127.0.0.1:{server.port}" in str(err) and "535" in str(err)
    assert "DLVSTATS_SMTP_PASSWORD" in str(err)
    assert "***" in str(err)  # the server echoed the password; it was scrubbed
    assert err.__cause__ is None and err.__context__ is None
    assert_no_secret(error_texts(err), WRONG_PASSWORD)
    assert_no_secret(all_log_text(caplog), WRONG_PASSWORD)
    assert not handler.envelopes


def test_temporary_4xx_is_retried_then_delivered_once(tmp_path, smtp_server):
    handler = Recorder(fail_first=1)
    server = smtp_server(handler)
    msg, _ = report_message(tmp_path)
    sleeps: list[float] = []
    mail.send(msg, settings_for(server.port), retries=3, backoff_seconds=0.25, sleep=sleeps.append)
    assert handler.data_calls == 2 and len(handler.envelopes) == 1
    assert sleeps == [0.25]


def test_server_refusing_with_421_is_retried_with_backoff_then_fails(tmp_path):
    def greet_421(conn):
        conn.sendall(b"421 4.3.2 Service not available, closing transmission channel\r\n")
        conn.close()

    raw = RawServer(greet_421)
    try:
        msg, _ = report_message(tmp_path)
        sleeps: list[float] = []
        with pytest.raises(MailSendError) as info:
            mail.send(msg, settings_for(raw.port), retries=3, backoff_seconds=0.5, sleep=sleeps.append)
    finally:
        raw.close()
    err = info.value
    assert raw.connections == 4 and err.attempts == 4
    assert sleeps == [0.5, 1.0, 2.0]
    assert err.smtp_code == 421 and err.transient
    assert f"127.0.0.1:{raw.port}" in str(err) and "421 4.3.2 Service not available" in str(err)
    assert "after 4 attempts" in str(err)


def test_closed_port_fails_fast_after_all_attempts(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="dlvstats.mail")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens on `port` any more: every connection is refused.
    msg, _ = report_message(tmp_path)
    settings = settings_for(port, "starttls", user=USER, password=PASSWORD)
    t0 = time.monotonic()
    with pytest.raises(MailSendError) as info:
        mail.send(msg, settings, retries=2, backoff_seconds=0)
    assert time.monotonic() - t0 < 5
    err = info.value
    assert err.attempts == 3 and err.transient and err.smtp_code is None
    assert f"127.0.0.1:{port}" in str(err) and "refused" in str(err)
    assert sum("retrying" in r.getMessage() for r in caplog.records) == 2
    assert_no_secret(error_texts(err), PASSWORD)
    assert_no_secret(all_log_text(caplog), PASSWORD)


def test_silent_server_times_out_and_is_retried(tmp_path):
    raw = RawServer(lambda conn: None)  # accepts, never greets
    try:
        msg, _ = report_message(tmp_path)
        with pytest.raises(MailSendError) as info:
            mail.send(msg, settings_for(raw.port, timeout=0.3), retries=1, backoff_seconds=0)
    finally:
        raw.close()
    assert raw.connections == 2 and info.value.attempts == 2
    assert "timed out" in str(info.value)


def test_tls_verification_fails_without_the_ca_file(tmp_path, smtp_server, server_tls):
    handler, auth = Recorder(), Authenticator()
    server = smtp_server(handler, tls_context=server_tls, require_starttls=True, authenticator=auth)
    msg, _ = report_message(tmp_path)
    sleeps: list[float] = []
    with pytest.raises(MailSendError) as info:
        mail.send(
            msg,
            settings_for(server.port, "starttls", user=USER, password=PASSWORD),
            retries=3,
            sleep=sleeps.append,
        )
    err = info.value
    assert "certificate verif" in str(err).lower() and "DLVSTATS_SMTP_CA_FILE" in str(err)
    assert err.attempts == 1 and sleeps == [] and not err.transient
    assert auth.calls == 0 and not handler.envelopes  # the credentials never went out
    assert_no_secret(error_texts(err), PASSWORD)


def test_ssl_verification_fails_without_the_ca_file(tmp_path, smtp_server, server_tls):
    handler = Recorder()
    server = smtp_server(handler, ssl_context=server_tls)
    msg, _ = report_message(tmp_path)
    with pytest.raises(MailSendError, match="(?i)certificate verif"):
        mail.send(msg, settings_for(server.port, "ssl"), retries=2, sleep=lambda s: None)
    assert not handler.envelopes


def test_verification_off_connects_but_warns(tmp_path, smtp_server, server_tls, caplog):
    caplog.set_level(logging.WARNING, logger="dlvstats.mail")
    handler = Recorder()
    server = smtp_server(handler, tls_context=server_tls, require_starttls=True)
    msg, _ = report_message(tmp_path)
    mail.send(msg, settings_for(server.port, "starttls", verify_tls=False), retries=0)
    assert len(handler.envelopes) == 1
    assert any("VERIFICATION IS OFF" in r.getMessage() for r in caplog.records)


def test_plain_mode_against_a_starttls_only_server_is_refused(tmp_path, smtp_server, server_tls):
    # security=none must never be silently "upgraded" or downgraded: the server demands STARTTLS (530).
    handler = Recorder()
    server = smtp_server(handler, tls_context=server_tls, require_starttls=True)
    msg, _ = report_message(tmp_path)
    with pytest.raises(MailSendError) as info:
        mail.send(msg, settings_for(server.port, "none"), retries=2, sleep=lambda s: None)
    assert info.value.attempts == 1 and info.value.smtp_code == 530
    assert not handler.envelopes


def test_conclusions_follow_the_headlines_escaped_in_both_parts():
    from dlvstats import mail

    conclusions = [("Campaigns", "Highest click rate: <b>Soldes</b> & co (4.73%).")]
    html = mail.render_summary_html("Report", "October 2026", None, [("Delivered", "1,000")], [], [],
                                    conclusions=conclusions)
    text = mail.render_summary_text("Report", "October 2026", None, [("Delivered", "1,000")], [], [],
                                    conclusions=conclusions)
    assert "What each analysis says" in html and "&lt;b&gt;Soldes&lt;/b&gt; &amp; co" in html and "<b>Soldes" not in html
    assert html.index("Delivered") < html.index("What each analysis says")
    assert "- Campaigns: Highest click rate: <b>Soldes</b> & co (4.73%)." in text
    assert "What each analysis says" not in mail.render_summary_text("Report", "October 2026", None, [], [], [])
