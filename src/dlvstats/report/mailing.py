"""The report's e-mail: SMTP settings checked before any work, the subject, the footer, and the
summary handed to ``dlvstats.mail`` as formatted strings (mail knows nothing of data). Campaign and
account names are free text: addresses in them are scrubbed before they reach the message."""

from __future__ import annotations

import re
from collections.abc import Callable
from email.utils import parseaddr
from pathlib import Path

from dlvstats import mail
from dlvstats.config import Settings
from dlvstats.i18n import ENGLISH, Locale
from dlvstats.months import month_label
from dlvstats.report.errors import ReportMailFailed, ReportUsageError
from dlvstats.report.publish import read_manifest
from dlvstats.scrub import AddressScrubber

REPORT_TITLE = "Deliverability report"
#: Retries of the SMTP send (mail.send backs off 2 s, 4 s, 8 s between them).
MAIL_RETRIES = 3
MAIL_BACKOFF_SECONDS = 2.0
#: Sender of a dry run with neither --mail-from nor DLVSTATS_MAIL_FROM (said in the log when used).
PLACEHOLDER_FROM = "dlvstats <dlvstats@localhost>"


def _check_addresses(email: list[str], mail_from: str | None, report_url: str | None, attach: bool) -> None:
    for address in email:
        if "@" not in address or any(c in address for c in "\r\n <>"):
            raise ReportUsageError(f"--email: {address!r} is not an e-mail address")
    if mail_from is not None and ("@" not in parseaddr(mail_from)[1] or any(c in mail_from for c in "\r\n")):
        raise ReportUsageError(f"--mail-from: {mail_from!r} is not an e-mail address "
                               "(e.g. 'Reports <reports@example.com>')")
    if report_url is not None and not re.match(r"^https?://[^\s]+$", report_url):
        raise ReportUsageError(f"--report-url: {report_url!r} is not an http(s) address")
    if attach and report_url:
        raise ReportUsageError("--attach-report and --report-url: choose one (attach the page, or link it)")


def check_email_settings(options, settings: Settings | None = None) -> mail.SmtpSettings | None:
    """SMTP settings for --email (checked before any work), or a sender for --dry-run.

    ``settings``: the deployment's (``config.settings()`` when not given); ``options.mail_from``
    overrides its sender."""
    _check_addresses(options.email, options.mail_from, options.report_url, options.attach_report)
    if not options.email:
        if options.dry_run:
            raise ReportUsageError("--dry-run writes the e-mail that --email would send: give --email too")
        return None
    if settings is None:
        from dlvstats.config import settings as current

        settings = current()
    try:
        return mail.SmtpSettings.from_settings(settings, mail_from=options.mail_from)
    except mail.MailConfigError as exc:
        if options.dry_run:
            return None  # a dry run needs no server; From falls back to a placeholder (said in the log)
        raise ReportUsageError(str(exc)) from None


def email_subject(month: str, account_id: str | None, complete: bool, alert_count: int = 0,
                  loc: Locale | None = None) -> str:
    """'2 alerts — Deliverability report — acme — October 2026 [incomplete data]': the alert count first,
    so that a reader scanning an inbox sees which month needs attention."""
    loc = loc or ENGLISH
    parts = [loc.gettext(REPORT_TITLE), month_label(month, loc)]
    if account_id:
        parts.insert(1, account_id)
    if alert_count:
        parts.insert(0, loc.ngettext("{count} alert", "{count} alerts", alert_count).format(
            count=loc.integer(alert_count)))
    subject = " — ".join(parts)
    return subject if complete else subject + " " + loc.gettext("[incomplete data]")


def email_footer(options, index: Path) -> str:
    """The e-mail's last line: where the full report is (attached, linked, or on the server only)."""
    _ = Locale(options.locale).gettext
    if options.attach_report:
        return _("The full report (index.html) and the metric tables (CSV) are attached.")
    if options.report_url:
        return _("The full report, with its charts and tables: {url}").format(url=options.report_url)
    return _("The full report, with its charts and tables, is on the reporting server: {path} "
             "(ask for it to be attached or linked).").format(path=index)


def _bodies(options, month: str, result) -> tuple[str, str]:
    """The e-mail's HTML and text parts, from the run's summary (formatted strings only)."""
    loc = Locale(options.locale)
    summary = result.summary
    rows = [{"label": h.label, "value": h.value, "change": h.change, "tone": h.tone, "note": h.note,
             "interval": h.interval} for h in summary.headlines]
    alerts = [(a.level, a.text) for a in summary.alerts]
    notes = list(summary.notes)
    if not result.complete_data:
        notes.insert(0, loc.gettext("INCOMPLETE DATA") + ": " + read_manifest(result.directory).get("freshness", ""))
    scrubber = AddressScrubber()  # campaign names are free text: no address leaves in the e-mail
    parts = {"title": loc.gettext(REPORT_TITLE), "month": month_label(month, loc), "account": options.account_id,
             "headline_rows": rows, "alerts": alerts, "notes": notes,
             "footer": email_footer(options, result.index), "locale": loc.code,
             "conclusions": [(name, scrubber.text(sentence)) for name, sentence in summary.conclusions]}
    return mail.render_summary_html(**parts), mail.render_summary_text(**parts)


def send_report(options, month: str, result, settings: mail.SmtpSettings | None,
                say: Callable[[str], None]) -> None:
    """Compose the report's e-mail and send it (or, with ``dry_run``, write ``email.eml``)."""
    loc = Locale(options.locale)
    html_body, text_body = _bodies(options, month, result)
    attachments: list = []
    if options.attach_report:
        attachments = [result.index, *sorted(result.directory.glob("*.csv"))]
    mail_from = options.mail_from or (settings.mail_from if settings else None)
    if mail_from is None:
        mail_from = PLACEHOLDER_FROM
        say(f"no sender configured (--mail-from or DLVSTATS_MAIL_FROM): the dry-run e-mail comes from {mail_from}")
    alert_count = sum(1 for a in result.summary.alerts if a.level in ("critical", "warning"))
    message = mail.compose(email_subject(month, options.account_id, result.complete_data, alert_count, loc),
                           html_body, text_body, attachments, options.email, mail_from)
    if options.dry_run:
        result.eml = mail.write_eml(message, result.directory / "email.eml")
        say(f"dry run: e-mail written to {result.eml} (not sent)")
        return
    try:
        mail.send(message, settings, retries=MAIL_RETRIES, backoff_seconds=MAIL_BACKOFF_SECONDS)
    except mail.MailSendError as exc:
        raise ReportMailFailed(f"{exc}. The report is rendered and stays at {result.index}; "
                               "send it again with --force once the server is reachable.", result.index) from None
    result.emailed = True
    say(f"e-mailed to {len(options.email)} recipient(s)")
