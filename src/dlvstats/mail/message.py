"""Building the report message (multipart, attachments) and writing it as ``.eml``."""

from __future__ import annotations

import mimetypes
import os
import tempfile
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

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
