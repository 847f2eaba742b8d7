"""Compose and send the monthly report e-mail over SMTP.

What this module does:

* ``SmtpSettings.from_settings()`` checks the SMTP part of ``config.Settings`` (which ``config`` reads
  from the ``DLVSTATS_SMTP_*`` / ``DLVSTATS_MAIL_FROM`` variables; this module reads no environment)
  and refuses an incomplete or contradictory configuration with a ``MailConfigError`` naming the
  variable; ``from_env()`` is the same on the settings of a given environment.
* ``render_summary_html()`` / ``render_summary_text()`` turn already-formatted strings (headline numbers,
  alerts, notes) into a mail-client-safe HTML body (Jinja template ``templates/mail_summary.html.j2``
  with autoescape: no script, no ``<style>``, inline CSS only, table layout at most 640 px wide, every
  value escaped) and its plain-text twin (``templates/mail_summary.txt.j2``).
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

from dlvstats.mail.body import render_summary_html, render_summary_text
from dlvstats.mail.message import compose, write_eml
from dlvstats.mail.settings import (
    DEFAULT_PORTS,
    LOG,
    SECURITY_MODES,
    MailConfigError,
    MailError,
    MailSendError,
    SmtpSettings,
)
from dlvstats.mail.smtp import send

__all__ = [
    "DEFAULT_PORTS",
    "LOG",
    "SECURITY_MODES",
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
