"""Sending over SMTP: plain, STARTTLS or implicit TLS; retries with back-off; the password scrubbed."""

from __future__ import annotations

import base64
import logging
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

from dlvstats.mail.message import _one_line
from dlvstats.mail.settings import LOG, MailSendError, SmtpSettings, _warn_insecure

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
                details = "; ".join(f"{r}: {c} {m}" for r, (c, m) in refused.items())
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
    # Raised outside the except block on purpose: no __context__ holding the raw smtplib exception.
    raise _send_error(failure, attempt, settings)


def _send_error(failure: _Failure, attempt: int, settings: SmtpSettings) -> MailSendError:
    """The error of the last attempt, naming host:port and the server's reply, password scrubbed."""
    what = _scrub(failure.what, settings)
    tries = "1 attempt" if attempt == 1 else f"{attempt} attempts"
    text = (
        f"could not send the report e-mail via {settings.address} ({settings.security}) after {tries}: {what}"
    )
    if failure.hint:
        text += f" ({_scrub(failure.hint, settings)})"
    return MailSendError(
        text,
        host=settings.host,
        port=settings.port,
        attempts=attempt,
        smtp_code=failure.code,
        reply=what,
        transient=failure.transient,
    )
