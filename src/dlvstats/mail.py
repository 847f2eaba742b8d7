"""Compose and send the monthly report e-mail over SMTP.

What this module does:

* ``SmtpSettings.from_env()`` reads the ``DLVSTATS_SMTP_*`` / ``DLVSTATS_MAIL_FROM`` variables and
  refuses an incomplete or contradictory configuration with a ``MailConfigError`` naming the variable.
* ``render_summary_html()`` / ``render_summary_text()`` turn already-formatted strings (headline numbers,
  alerts, notes) into a mail-client-safe HTML body (no script, no ``<style>``, inline CSS only, table
  layout at most 640 px wide, every value passed through ``html.escape``) and its plain-text twin.
* ``compose()`` builds the ``EmailMessage``: multipart/mixed holding a multipart/alternative
  (text/plain, then text/html) and the attachments (the full report ``index.html``, CSV files, a zip),
  with ``Date`` and ``Message-ID`` set.
* ``send()`` delivers it with ``smtplib`` over plain SMTP, STARTTLS or implicit TLS, verifying the
  server certificate by default, logging in only when a user is configured, retrying transient failures
  (refused connection, timeout, 4xx replies) with exponential back-off and raising ``MailSendError`` with
  the host:port and the server's reply otherwise. ``write_eml()`` writes the message for ``--dry-run``.

What it must not do:

* know anything about the data: no duckdb, pandas, polars, nor any dlvstats module other than
  ``dlvstats.config`` (an import-linter contract enforces it). The caller hands it formatted strings
  and files; keeping recipient addresses from the data out of those is the caller's job;
* show the SMTP password anywhere: not in ``repr``, logs, exception texts or exception chains (server
  replies are scrubbed of it, too, in case a server echoes credentials back);
* turn certificate verification off silently: only ``DLVSTATS_SMTP_VERIFY=0`` does, with a warning on
  every use.
"""

from __future__ import annotations

import base64
import html
import logging
import mimetypes
import os
import smtplib
import socket
import ssl
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid, parseaddr
from pathlib import Path

from dlvstats.i18n import Locale

__all__ = [
    "MailConfigError",
    "MailError",
    "MailSendError",
    "SmtpSettings",
    "compose",
    "render_summary_html",
    "render_summary_text",
    "send",
    "write_eml",
]

LOG = logging.getLogger("dlvstats.mail")

SECURITY_MODES = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
#: Widest the HTML body gets; mail clients (Outlook especially) handle fixed widths best.
MAX_WIDTH_PX = 640

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class MailError(Exception):
    """Base class of the errors raised here."""


class MailConfigError(MailError, ValueError):
    """The SMTP configuration in the environment is missing or invalid."""


class MailSendError(MailError):
    """The message could not be handed to the SMTP server.

    Attributes: ``host``, ``port``, ``attempts`` made, ``smtp_code`` (the last SMTP reply code, or None
    for a network/TLS error), ``reply`` (the last server reply or error text, password scrubbed) and
    ``transient`` (whether the last failure looked temporary).
    """

    def __init__(
        self,
        message: str,
        *,
        host: str,
        port: int,
        attempts: int,
        smtp_code: int | None = None,
        reply: str = "",
        transient: bool = False,
    ) -> None:
        super().__init__(message)
        self.host = host
        self.port = port
        self.attempts = attempts
        self.smtp_code = smtp_code
        self.reply = reply
        self.transient = transient


# --------------------------------------------------------------------------------------------------
# Settings


@dataclass
class SmtpSettings:
    """Where and how to send. Build it with ``from_env()``; ``repr`` never shows the password."""

    host: str
    port: int
    user: str | None
    password: str | None
    security: str  # "none" | "starttls" | "ssl"
    mail_from: str
    timeout: float = 30
    verify_tls: bool = True
    ca_file: str | None = None

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise MailConfigError(
                f"SMTP security must be one of {', '.join(SECURITY_MODES)}, not {self.security!r} "
                "(DLVSTATS_SMTP_SECURITY)"
            )
        # smtplib encodes AUTH exchanges as ASCII; fail here, clearly, rather than mid-login with a
        # UnicodeEncodeError whose ``object`` attribute would hold the password.
        for name, value in (("DLVSTATS_SMTP_USER", self.user), ("DLVSTATS_SMTP_PASSWORD", self.password)):
            if value is not None and not value.isascii():
                raise MailConfigError(
                    f"{name} contains non-ASCII characters, which Python's smtplib cannot send in an SMTP "
                    "login; use an ASCII credential (an app password, for instance)"
                )

    def __repr__(self) -> str:
        return (
            f"SmtpSettings(host={self.host!r}, port={self.port!r}, user={self.user!r}, "
            f"password={'<set>' if self.password else None}, security={self.security!r}, "
            f"mail_from={self.mail_from!r}, timeout={self.timeout!r}, verify_tls={self.verify_tls!r}, "
            f"ca_file={self.ca_file!r})"
        )

    __str__ = __repr__

    @property
    def address(self) -> str:
        """``host:port`` as shown in messages."""
        return f"{self.host}:{self.port}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ, *, log: logging.Logger = LOG) -> SmtpSettings:
        """Read the settings from ``DLVSTATS_SMTP_*`` and ``DLVSTATS_MAIL_FROM``.

        ``DLVSTATS_SMTP_SECURITY`` defaults to ``starttls`` (plain SMTP only when set to ``none``);
        ``DLVSTATS_SMTP_PORT`` defaults to 587, 465 or 25 accordingly; ``DLVSTATS_SMTP_VERIFY=0`` turns
        certificate verification off (with a warning); ``DLVSTATS_SMTP_CA_FILE`` adds a CA bundle to trust.
        """

        def get(name: str) -> str | None:
            value = environ.get(name)
            if value is None:
                return None
            value = value.strip()
            return value or None

        host = get("DLVSTATS_SMTP_HOST")
        if host is None:
            raise MailConfigError(
                "no SMTP server configured: set DLVSTATS_SMTP_HOST (and DLVSTATS_MAIL_FROM) to send the "
                "report by e-mail, or use --dry-run to write the .eml instead"
            )

        raw_security = get("DLVSTATS_SMTP_SECURITY")
        security = "starttls" if raw_security is None else raw_security.lower()
        if security not in SECURITY_MODES:
            raise MailConfigError(
                f"DLVSTATS_SMTP_SECURITY={raw_security!r} is not understood: use 'starttls' (the default), "
                "'ssl' (implicit TLS, usually port 465) or 'none' (plain SMTP, e.g. a local relay)"
            )

        raw_port = get("DLVSTATS_SMTP_PORT")
        if raw_port is None:
            port = DEFAULT_PORTS[security]
        else:
            try:
                port = int(raw_port)
            except ValueError:
                port = -1
            if not 0 < port < 65536:
                raise MailConfigError(
                    f"DLVSTATS_SMTP_PORT={raw_port!r} is not a TCP port number (1-65535); leave it unset "
                    f"for the default of {DEFAULT_PORTS[security]} with security {security!r}"
                )

        mail_from = get("DLVSTATS_MAIL_FROM")
        if mail_from is None:
            raise MailConfigError(
                "no sender configured: set DLVSTATS_MAIL_FROM to the report's From address "
                "(e.g. 'Deliverability reports <reports@example.com>')"
            )
        if "@" not in parseaddr(mail_from)[1]:
            raise MailConfigError(
                f"DLVSTATS_MAIL_FROM={mail_from!r} is not an e-mail address "
                "(e.g. 'reports@example.com' or 'Reports <reports@example.com>')"
            )

        user = get("DLVSTATS_SMTP_USER")
        # The password is taken verbatim (spaces can be part of it), but an empty one counts as unset.
        password = environ.get("DLVSTATS_SMTP_PASSWORD") or None
        if user and password is None:
            raise MailConfigError(
                "DLVSTATS_SMTP_USER is set but DLVSTATS_SMTP_PASSWORD is not: set both to log in, "
                "or neither for a relay that needs no login"
            )
        if password is not None and not user:
            raise MailConfigError(
                "DLVSTATS_SMTP_PASSWORD is set but DLVSTATS_SMTP_USER is not: set the login name too"
            )

        raw_verify = get("DLVSTATS_SMTP_VERIFY")
        if raw_verify is None or raw_verify.lower() in _TRUE:
            verify = True
        elif raw_verify.lower() in _FALSE:
            verify = False
        else:
            raise MailConfigError(
                f"DLVSTATS_SMTP_VERIFY={raw_verify!r} is not understood: leave it unset (verification on) "
                "or set it to 0 to turn certificate verification off"
            )

        ca_file = get("DLVSTATS_SMTP_CA_FILE")
        if ca_file is not None and not Path(ca_file).is_file():
            raise MailConfigError(f"DLVSTATS_SMTP_CA_FILE={ca_file!r}: no such file")

        settings = cls(
            host=host,
            port=port,
            user=user,
            password=password,
            security=security,
            mail_from=mail_from,
            verify_tls=verify,
            ca_file=ca_file,
        )
        _warn_insecure(settings, log)
        return settings


def _warn_insecure(settings: SmtpSettings, log: logging.Logger) -> None:
    if settings.security != "none" and not settings.verify_tls:
        log.warning(
            "TLS CERTIFICATE VERIFICATION IS OFF (DLVSTATS_SMTP_VERIFY=0): the connection to %s is "
            "encrypted but anyone on the path can impersonate the server and read the report and the "
            "SMTP password. Prefer DLVSTATS_SMTP_CA_FILE to trust a private CA.",
            settings.address,
        )
    if settings.security == "none" and settings.user:
        log.warning(
            "DLVSTATS_SMTP_SECURITY=none with a login: the SMTP password would travel unencrypted to %s; "
            "use starttls or ssl unless this is a loopback relay",
            settings.address,
        )


# --------------------------------------------------------------------------------------------------
# Rendering the body

_FONT = "font-family:Arial,Helvetica,sans-serif;"
_ALERT_STYLES = {
    # level: (label, background, border, text colour). The label is printed, not only coloured.
    "critical": ("ALERT", "#fdecea", "#c62828", "#7f1d1d"),
    "warning": ("WARNING", "#fff8e1", "#f9a825", "#6d4c00"),
    "info": ("NOTE", "#e8f1fb", "#1565c0", "#0d3c75"),
}
_TONES = {"good": "#1b5e20", "bad": "#b71c1c", "neutral": "#444444"}


def _esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


@dataclass(frozen=True)
class _Row:
    label: str
    value: str
    change: str = ""
    note: str = ""
    tone: str = "neutral"
    interval: str = ""


def _headline_rows(rows: Sequence[Mapping[str, object] | Sequence[object]]) -> list[_Row]:
    """Accept dicts (``label``/``metric``, ``value``, ``change``, ``note``, ``tone``) or tuples
    ``(label, value[, change[, note]])`` of already-formatted values."""
    out: list[_Row] = []
    allowed = {"label", "metric", "value", "change", "note", "tone", "interval"}
    for i, row in enumerate(rows):
        if isinstance(row, Mapping):
            unknown = set(row) - allowed
            if unknown:
                raise ValueError(f"headline row {i}: unknown keys {sorted(unknown)}; use {sorted(allowed)}")
            label = row.get("label", row.get("metric"))
            if label is None or "value" not in row:
                raise ValueError(f"headline row {i}: needs a 'label' and a 'value'")
            tone = str(row.get("tone") or "neutral")
            if tone not in _TONES:
                raise ValueError(f"headline row {i}: tone must be one of {sorted(_TONES)}, not {tone!r}")
            out.append(
                _Row(
                    label=_s(label),
                    value=_s(row["value"]),
                    change=_s(row.get("change")),
                    note=_s(row.get("note")),
                    tone=tone,
                    interval=_s(row.get("interval")),
                )
            )
        elif isinstance(row, Sequence) and not isinstance(row, str | bytes) and 2 <= len(row) <= 4:
            cells = [_s(c) for c in row] + [""] * (4 - len(row))
            out.append(_Row(*cells))
        else:
            raise ValueError(
                f"headline row {i}: expected a dict or a (label, value[, change[, note]]) tuple, got {row!r}"
            )
    return out


def _alerts(alerts: Sequence[object]) -> list[tuple[str, str]]:
    """Accept strings (critical), ``(level, text)`` tuples or ``{"level": ..., "text": ...}`` dicts."""
    out: list[tuple[str, str]] = []
    for i, alert in enumerate(alerts):
        if isinstance(alert, str):
            level, text = "critical", alert
        elif isinstance(alert, Mapping):
            level, text = str(alert.get("level") or "critical"), _s(alert.get("text"))
        elif isinstance(alert, Sequence) and len(alert) == 2:
            level, text = str(alert[0]), _s(alert[1])
        else:
            raise ValueError(f"alert {i}: expected a string, a (level, text) tuple or a dict, got {alert!r}")
        if level not in _ALERT_STYLES:
            raise ValueError(f"alert {i}: level must be one of {sorted(_ALERT_STYLES)}, not {level!r}")
        out.append((level, text))
    return out


def _s(value: object) -> str:
    return "" if value is None else str(value)


def render_summary_html(
    title: str,
    month: str,
    account: str | None,
    headline_rows: Sequence[Mapping[str, object] | Sequence[object]],
    alerts: Sequence[object],
    notes: Sequence[str],
    *,
    footer: str | None = "The full report (index.html) and the metric tables (CSV) are attached.",
    locale: str = "en",
    conclusions: Sequence[tuple[str, str]] = (),
) -> str:
    """The e-mail's HTML body: a complete document made of tables with inline styles only.

    Every value is escaped, so attacker-controlled text (campaign or account names) shows as text.
    ``headline_rows``: dicts with ``label``, ``value`` and optional ``change``, ``note``, ``interval``, ``tone``
    (``good``/``bad``/``neutral``) or tuples ``(label, value[, change[, note]])``; ``alerts``: strings or
    ``(level, text)`` with level ``critical``/``warning``/``info``; ``notes``: strings; ``conclusions``:
    ``(analysis title, its conclusion in a sentence or two)``, after the headline numbers.
    """
    rows = _headline_rows(headline_rows)
    alert_items = _alerts(alerts)
    _ = Locale(locale).gettext
    heading = f"{title} \u2014 {month}" + (f" \u2014 {account}" if account else "")

    parts: list[str] = []
    add = parts.append
    add("<!DOCTYPE html>")
    add(f'<html lang="{_esc(Locale(locale).code)}">')
    add("<head>")
    add('<meta http-equiv="Content-Type" content="text/html; charset=utf-8">')
    add('<meta name="viewport" content="width=device-width, initial-scale=1">')
    add(f"<title>{_esc(heading)}</title>")
    add("</head>")
    add(f'<body style="margin:0;padding:0;background-color:#f2f4f7;{_FONT}">')
    add(
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        'bgcolor="#f2f4f7" style="background-color:#f2f4f7;">'
    )
    add('<tr><td align="center" style="padding:16px 8px;">')
    add(
        f'<table role="presentation" width="{MAX_WIDTH_PX}" cellpadding="0" cellspacing="0" border="0" '
        f'bgcolor="#ffffff" style="width:100%;max-width:{MAX_WIDTH_PX}px;background-color:#ffffff;'
        'border:1px solid #d0d5dd;">'
    )

    # Title block.
    add(
        f'<tr><td style="padding:20px 24px 8px 24px;{_FONT}font-size:20px;line-height:26px;'
        f'font-weight:bold;color:#1a1a1a;">{_esc(title)}</td></tr>'
    )
    subtitle = _("Month: {month}").format(month=month) + (
        " \u00b7 " + _("Account: {account}").format(account=account) if account else " \u00b7 " + _("All accounts"))
    add(
        f'<tr><td style="padding:0 24px 16px 24px;{_FONT}font-size:14px;line-height:20px;'
        f'color:#555555;">{_esc(subtitle)}</td></tr>'
    )

    # Alerts first: they are what a manager must not miss.
    if alert_items:
        add('<tr><td style="padding:0 24px 8px 24px;">')
        add('<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">')
        for level, text in alert_items:
            label, bg, border, colour = _ALERT_STYLES[level]
            add(
                f'<tr><td bgcolor="{bg}" style="background-color:{bg};border-left:4px solid {border};'
                f'padding:8px 12px;{_FONT}font-size:14px;line-height:20px;color:{colour};">'
                f"<b>{_esc(_(label))}:</b> {_esc(text)}</td></tr>"
            )
            add('<tr><td style="height:6px;line-height:6px;font-size:6px;">&nbsp;</td></tr>')
        add("</table>")
        add("</td></tr>")

    # Headline numbers.
    if rows:
        has_change = any(r.change for r in rows)
        cell = f"{_FONT}font-size:14px;line-height:20px;padding:6px 8px;border-bottom:1px solid #e4e7ec;"
        head = f"{_FONT}font-size:12px;line-height:16px;padding:6px 8px;color:#555555;text-align:left;"
        add('<tr><td style="padding:8px 24px 8px 24px;">')
        add('<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">')
        add(
            "<tr>"
            f'<th align="left" style="{head}border-bottom:2px solid #d0d5dd;">{_esc(_("Headline"))}</th>'
            f'<th align="right" style="{head}text-align:right;border-bottom:2px solid #d0d5dd;">{_esc(_("Value"))}</th>'
            + (
                f'<th align="right" style="{head}text-align:right;border-bottom:2px solid #d0d5dd;">'
                f"{_esc(_('vs previous month'))}</th>"
                if has_change
                else ""
            )
            + "</tr>"
        )
        for r in rows:
            label_html = _esc(r.label)
            if r.note:
                label_html += (
                    f'<br><span style="font-size:12px;line-height:16px;color:#666666;">{_esc(r.note)}</span>'
                )
            add(
                "<tr>"
                f'<td align="left" valign="top" style="{cell}color:#1a1a1a;">{label_html}</td>'
                f'<td align="right" valign="top" style="{cell}color:#1a1a1a;font-weight:bold;'
                f'white-space:nowrap;">{_esc(r.value)}'
                + (f'<br><span style="font-size:12px;line-height:16px;color:#666666;font-weight:normal;">'
                   f'{_esc(r.interval)}</span>' if r.interval else "")
                + "</td>"
                + (
                    f'<td align="right" valign="top" style="{cell}color:{_TONES[r.tone]};'
                    f'white-space:nowrap;">{_esc(r.change)}</td>'
                    if has_change
                    else ""
                )
                + "</tr>"
            )
        add("</table>")
        add("</td></tr>")

    # Each analysis's conclusion, in a sentence.
    if conclusions:
        add(f'<tr><td style="padding:12px 24px 4px 24px;{_FONT}font-size:16px;line-height:22px;font-weight:bold;'
            f'color:#1a1a1a;">{_esc(_("What each analysis says"))}</td></tr>')
        for name, sentence in conclusions:
            add(f'<tr><td style="padding:2px 24px 6px 24px;{_FONT}font-size:14px;line-height:20px;color:#1a1a1a;">'
                f"<b>{_esc(name)}:</b> {_esc(sentence)}</td></tr>")

    # Notes (data maturity, incomplete month, ...).
    if notes:
        add('<tr><td style="padding:8px 24px 8px 24px;">')
        add('<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">')
        for note in notes:
            add(
                f'<tr><td valign="top" style="{_FONT}font-size:13px;line-height:18px;color:#444444;'
                f'padding:2px 6px 2px 0;width:12px;">&bull;</td>'
                f'<td style="{_FONT}font-size:13px;line-height:18px;color:#444444;padding:2px 0;">'
                f"{_esc(note)}</td></tr>"
            )
        add("</table>")
        add("</td></tr>")

    if footer:
        add(
            f'<tr><td style="padding:12px 24px 20px 24px;{_FONT}font-size:12px;line-height:16px;'
            f'color:#666666;border-top:1px solid #e4e7ec;">{_esc(footer)}</td></tr>'
        )

    add("</table>")
    add("</td></tr>")
    add("</table>")
    add("</body>")
    add("</html>")
    return "\n".join(parts) + "\n"


def render_summary_text(
    title: str,
    month: str,
    account: str | None,
    headline_rows: Sequence[Mapping[str, object] | Sequence[object]],
    alerts: Sequence[object],
    notes: Sequence[str],
    *,
    footer: str | None = "The full report (index.html) and the metric tables (CSV) are attached.",
    locale: str = "en",
    conclusions: Sequence[tuple[str, str]] = (),
) -> str:
    """The plain-text alternative of ``render_summary_html`` (same arguments)."""
    rows = _headline_rows(headline_rows)
    alert_items = _alerts(alerts)
    _ = Locale(locale).gettext
    lines = [title, _("Month: {month}").format(month=month) + (
        " - " + _("Account: {account}").format(account=account) if account else " - " + _("All accounts")), ""]
    if alert_items:
        for level, text in alert_items:
            lines.append(f"{_(_ALERT_STYLES[level][0])}: {text}")
        lines.append("")
    if rows:
        lw = max(len(r.label) for r in rows)
        vw = max(len(r.value) for r in rows)
        has_change = any(r.change for r in rows)
        for r in rows:
            line = f"  {r.label.ljust(lw)}  {r.value.rjust(vw)}"
            if has_change and r.change:
                line += f"  ({r.change} {_('vs previous month')})"
            lines.append(line.rstrip())
            if r.interval:
                lines.append(f"  {'':{lw}}  {r.interval}")
            if r.note:
                lines.append(f"  {'':{lw}}  {r.note}")
        lines.append("")
    if conclusions:
        lines.append(_("What each analysis says"))
        for name, sentence in conclusions:
            lines.append(f"- {name}: {sentence}")
        lines.append("")
    for note in notes:
        lines.append(f"* {note}")
    if notes:
        lines.append("")
    if footer:
        lines.append(footer)
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------------------------------
# Composing


Attachment = Path | str | tuple[str, bytes, str]


def _one_line(text: str) -> str:
    # Header values must not contain line breaks (header injection through a campaign or account name).
    return " ".join(str(text).split())


def compose(
    subject: str,
    headline_html: str,
    text_body: str,
    attachments: Sequence[Attachment],
    to: Sequence[str] | str,
    mail_from: str,
) -> EmailMessage:
    """Build the report message: multipart/mixed > [multipart/alternative > [text/plain, text/html],
    attachments...].

    ``attachments``: paths (type guessed from the suffix: ``.html`` -> text/html, ``.csv`` -> text/csv,
    ``.zip`` -> application/zip) or ``(filename, content bytes, "maintype/subtype")`` tuples. Attachments
    are base64-encoded, so long lines (plotly's embedded JavaScript) survive SMTP intact.
    """
    if isinstance(to, str):  # "a@x, b@y" as given to --email; iterating it would yield characters
        to = to.split(",")
    recipients = [a.strip() for a in to if a and a.strip()]
    if not recipients:
        raise ValueError("no recipient for the report e-mail")
    for addr in recipients + [mail_from]:
        if "@" not in parseaddr(addr)[1] or any(c in addr for c in "\r\n"):
            raise ValueError(f"not an e-mail address: {addr!r}")
    if "<script" in headline_html.lower():
        raise ValueError("the HTML body contains a <script> element; mail bodies must not carry scripts")

    msg = EmailMessage()
    msg["Subject"] = _one_line(subject)
    msg["From"] = mail_from
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(usegmt=True)
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or None
    # The sender's domain, not this machine's name, goes into the Message-ID.
    msg["Message-ID"] = make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: vacation responders stay quiet
    msg.set_content(text_body, subtype="plain", charset="utf-8")
    msg.add_alternative(headline_html, subtype="html", charset="utf-8")

    for item in attachments:
        if isinstance(item, tuple):
            if len(item) != 3:
                raise ValueError(
                    f"attachment tuple must be (filename, bytes, mimetype), got {len(item)} items"
                )
            filename, content, mimetype = item
            if not isinstance(content, bytes | bytearray):
                raise TypeError(f"attachment {filename!r}: content must be bytes")
        else:
            path = Path(item)
            filename, content = path.name, path.read_bytes()
            mimetype = _guess_type(path.name)
        maintype, _, subtype = str(mimetype).partition("/")
        if not maintype or not subtype:
            raise ValueError(f"attachment {filename!r}: mimetype must look like 'text/csv', not {mimetype!r}")
        msg.add_attachment(bytes(content), maintype=maintype, subtype=subtype, filename=_one_line(filename))
    return msg


def _guess_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    known = {".html": "text/html", ".htm": "text/html", ".csv": "text/csv", ".zip": "application/zip"}
    if suffix in known:
        return known[suffix]
    guessed, encoding = mimetypes.guess_type(name)
    if guessed is None or encoding is not None:
        return "application/octet-stream"
    return guessed


def write_eml(message: EmailMessage, path: str | os.PathLike[str]) -> Path:
    """Write the message as an ``.eml`` file (for ``--dry-run``), atomically; returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = message.as_bytes()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


# --------------------------------------------------------------------------------------------------
# Sending


@dataclass(frozen=True)
class _Failure:
    what: str  # human description, already scrubbed of secrets
    code: int | None
    transient: bool
    hint: str = ""


def _secrets(settings: SmtpSettings) -> list[str]:
    """The password and the encodings of it that go over the wire (AUTH PLAIN / LOGIN)."""
    if not settings.password:
        return []
    pw = settings.password
    user = settings.user or ""
    forms = {pw}
    for raw in (pw, f"\0{user}\0{pw}", f"{user}\0{user}\0{pw}"):
        forms.add(base64.b64encode(raw.encode("utf-8")).decode("ascii"))
    return sorted(forms, key=len, reverse=True)


def _scrub(text: str, settings: SmtpSettings) -> str:
    for secret in _secrets(settings):
        text = text.replace(secret, "***")
    return text


def _reply_text(exc: smtplib.SMTPResponseException) -> str:
    err = exc.smtp_error
    text = err.decode("utf-8", "replace") if isinstance(err, bytes) else str(err)
    return f"{exc.smtp_code} {' '.join(text.split())}"


def _classify(exc: smtplib.SMTPException | OSError, settings: SmtpSettings) -> _Failure:
    """Turn an exception into a scrubbed description and whether retrying can help."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        reply = _reply_text(exc)
        transient = 400 <= exc.smtp_code < 500
        return _Failure(
            f"the server rejected the login of user {settings.user!r}: {reply}",
            exc.smtp_code,
            transient,
            "" if transient else "check DLVSTATS_SMTP_USER and DLVSTATS_SMTP_PASSWORD; not retried",
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        replies = "; ".join(
            f"{rcpt}: {code} {' '.join((m.decode('utf-8', 'replace') if isinstance(m, bytes) else str(m)).split())}"
            for rcpt, (code, m) in exc.recipients.items()
        )
        transient = bool(codes) and all(400 <= c < 500 for c in codes)
        return _Failure(
            f"the server refused every recipient: {replies}", codes[0] if codes else None, transient
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        text = str(exc)
        hint = ""
        if "STARTTLS" in text.upper():
            hint = "the server offers no STARTTLS: check DLVSTATS_SMTP_PORT / DLVSTATS_SMTP_SECURITY"
        elif "AUTH" in text.upper():
            hint = "the server offers no login here: unset DLVSTATS_SMTP_USER or use TLS"
        return _Failure(text, None, False, hint)
    if isinstance(exc, smtplib.SMTPResponseException):  # connect, HELO, MAIL FROM, DATA replies
        reply = _reply_text(exc)
        kind = {
            smtplib.SMTPConnectError: "greeted with",
            smtplib.SMTPHeloError: "refused EHLO/HELO:",
            smtplib.SMTPSenderRefused: "refused the sender:",
            smtplib.SMTPDataError: "refused the message:",
        }.get(type(exc), "replied")
        transient = 400 <= exc.smtp_code < 500
        hint = ""
        if exc.smtp_code == 552 or (exc.smtp_code == 554 and "size" in reply.lower()):
            hint = "the message may be too large for this server"
        return _Failure(f"the server {kind} {reply}", exc.smtp_code, transient, hint)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return _Failure(f"the server closed the connection unexpectedly ({exc})", None, True)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _Failure(
            f"TLS certificate verification failed: {exc.verify_message or exc}",
            None,
            False,
            "if the server uses a private CA, point DLVSTATS_SMTP_CA_FILE at its certificate bundle; not retried",
        )
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return _Failure(f"the TLS connection was cut: {exc}", None, True)
    if isinstance(exc, ssl.SSLError):
        return _Failure(
            f"TLS handshake failed: {exc}",
            None,
            False,
            "check that DLVSTATS_SMTP_SECURITY matches the port (ssl for 465, starttls for 587); not retried",
        )
    if isinstance(exc, TimeoutError | socket.timeout):
        return _Failure(f"no answer within {settings.timeout:g} s (timeout)", None, True)
    if isinstance(exc, ConnectionRefusedError):
        return _Failure("connection refused (nothing listening on that port?)", None, True)
    if isinstance(exc, socket.gaierror):
        # Temporary DNS failures (EAI_AGAIN) are worth a retry; an unknown name is not.
        transient = exc.errno == socket.EAI_AGAIN
        return _Failure(f"cannot resolve SMTP host {settings.host!r}: {exc}", None, transient)
    if isinstance(exc, OSError):
        return _Failure(f"network error: {exc}", None, True)
    return _Failure(f"SMTP error: {exc}", None, False)


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=settings.ca_file)
    if settings.ca_file:
        # create_default_context(cafile=...) trusts only that file; the CA file is meant as an extra.
        ctx.load_default_certs()
    if not settings.verify_tls:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """Log in with ONE mechanism. ``smtplib.SMTP.login`` tries every advertised mechanism in turn, so a
    wrong password costs several failed logins (and brings account lockouts closer)."""
    smtp.ehlo_or_helo_if_needed()
    if not smtp.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
    offered = smtp.esmtp_features["auth"].upper().split()
    for mechanism in ("PLAIN", "LOGIN", "CRAM-MD5"):
        if mechanism in offered:
            break
    else:
        raise smtplib.SMTPNotSupportedError(
            f"no supported AUTH mechanism (server offers {' '.join(offered) or 'none'}; PLAIN, LOGIN or CRAM-MD5)"
        )
    smtp.user, smtp.password = user, password
    authobject = getattr(smtp, "auth_" + mechanism.lower().replace("-", "_"))
    # Raises SMTPAuthenticationError on a rejected login.
    smtp.auth(mechanism, authobject)


def _deliver(
    message: EmailMessage, settings: SmtpSettings, envelope_from: str
) -> dict[str, tuple[int, bytes]]:
    if settings.security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=_tls_context(settings)
        )
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        smtp.set_debuglevel(0)  # smtplib's debug output would print the AUTH exchange
        smtp.ehlo()
        if settings.security == "starttls":
            smtp.starttls(context=_tls_context(settings))
            smtp.ehlo()
        if settings.user:
            _login(smtp, settings.user, settings.password or "")
        return smtp.send_message(message, from_addr=envelope_from)
    finally:
        # Once DATA is accepted the message is sent: a failing QUIT must not turn that into a retry
        # (and a duplicate); before that, the original error is the one that matters.
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def send(
    message: EmailMessage,
    settings: SmtpSettings,
    retries: int = 3,
    backoff_seconds: float = 2.0,
    log: logging.Logger = LOG,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Hand ``message`` to the SMTP server in ``settings``.

    Makes up to ``1 + retries`` attempts; transient failures (refused connection, timeout, dropped
    connection, 4xx replies) are retried after ``backoff_seconds * 2**(n-1)`` seconds (capped at 5 min);
    permanent ones (5xx, a rejected login, a certificate that does not verify) are not. Raises
    ``MailSendError`` naming host:port and the server's last reply. The password never appears in a log
    record or in the exception (nor in its chain: the error is raised with no context).
    """
    if retries < 0:
        raise ValueError("retries must be >= 0")
    envelope_from = parseaddr(settings.mail_from)[1]
    recipients = [a for _, a in getaddresses(message.get_all("To", []) + message.get_all("Cc", []))]
    attempts = retries + 1
    _warn_insecure(settings, log)

    failure: _Failure | None = None
    attempt = 0
    for attempt in range(1, attempts + 1):
        log.info(
            "sending %r to %d recipient(s) via %s (%s), attempt %d/%d",
            _one_line(str(message.get("Subject", ""))),
            len(recipients),
            settings.address,
            settings.security,
            attempt,
            attempts,
        )
        try:
            refused = _deliver(message, settings, envelope_from)
        except (smtplib.SMTPException, OSError) as exc:  # ssl errors and timeouts are OSErrors
            failure = _classify(exc, settings)
        else:
            if refused:
                # Some recipients got it: retrying would send them a duplicate, so stop here.
                details = "; ".join(f"{r}: {c} {_s(m)}" for r, (c, m) in refused.items())
                failure = _Failure(
                    f"the server accepted the message for some recipients but refused {details}",
                    next(iter(refused.values()))[0],
                    False,
                    "not retried, to avoid duplicates for the recipients who got it",
                )
                break
            log.info("report e-mail accepted by %s", settings.address)
            return
        if not failure.transient or attempt == attempts:
            break
        delay = min(backoff_seconds * 2 ** (attempt - 1), 300.0)
        log.warning(
            "attempt %d/%d failed: %s; retrying in %.1f s",
            attempt,
            attempts,
            _scrub(failure.what, settings),
            delay,
        )
        sleep(delay)

    assert failure is not None
    what = _scrub(failure.what, settings)
    tries = "1 attempt" if attempt == 1 else f"{attempt} attempts"
    text = (
        f"could not send the report e-mail via {settings.address} ({settings.security}) after {tries}: {what}"
    )
    if failure.hint:
        text += f" ({_scrub(failure.hint, settings)})"
    # Raised outside the except block on purpose: no __context__ holding the raw smtplib exception.
    raise MailSendError(
        text,
        host=settings.host,
        port=settings.port,
        attempts=attempt,
        smtp_code=failure.code,
        reply=what,
        transient=failure.transient,
    )
