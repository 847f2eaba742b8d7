"""ARF feedback-loop reports (RFC 5965 ``multipart/report; report-type=feedback-report``) as ``.eml``
files (one report each) or mbox files (many), from Yahoo/AOL (Complaint Feedback Loop), Return
Path / Validity style FBLs, Signal Spam and others, with redacted recipients; and Microsoft JMRP
messages, which are not strict ARF (no ``message/feedback-report`` part: the complained-of message
is attached and carries ``X-HmXmrOriginalRecipient``).

E-mail is parsed with the standard library ``email`` package: **this adapter loops in Python over
messages** (one report is one message; feedback loops deliver thousands a month, not millions).
Everything after parsing - matching reports to sends, defaults, the split into staged tables - is
SQL (``sql/adapters/arf.sql``).

A report is matched to its send by, in order: the sender's own id header in the original message
(``X-Message-Id`` by default, the ``message_id`` tag option), the original ``Message-ID`` (exact,
its part before ``@`` as SES builds it, or ``<id>:<recipient>`` as the other adapters derive it),
else the recipient (when not redacted) and the report's date: the latest send to that recipient in
the ``arf_match_days`` days before. Sends are looked for in the database and in the sends staged
by the same ingest. Only ``Feedback-Type: abuse`` reports and JMRP messages are complaints; other
feedback types (auth-failure, fraud, virus, not-spam, other) are counted and reported, and other
messages in a mailbox (a bounce, a challenge) are counted as "not a feedback report".
See docs/formats/arf.md.
"""

from __future__ import annotations

import email
import email.policy
import gzip
import re
import zlib
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

from dlvstats import db
from dlvstats.ingest.adapters import common

FORMAT = "arf"

TAG_DEFAULTS = {
    "message_id": "X-Message-Id",
    "account_id": "X-Account-Id",
    "list_id": "X-List-Id",
    "campaign_id": "X-Campaign-Id",
}

_REDACTED = re.compile(r"^(\[?redacted\]?|x{3,}|\*+|.*\*{2,}.*|redacted.*)$", re.IGNORECASE)
_MICROSOFT = re.compile(r"(?i)hotmail|outlook|live\.com|msn\.com|microsoft|jmrp")
_RAW_LIMIT = 4000

COLUMNS = (
    "__file", "__line", "__raw", "__error", "vtype", "etype", "note", "own_id", "msgid",
    "recipient", "ts", "account_id", "list_id", "campaign_id", "source",
)


def _split_mbox(data: bytes) -> list[tuple[int, bytes]]:
    """(first line number, message bytes) for each message of an mbox (``From `` separator lines)."""
    messages: list[tuple[int, bytes]] = []
    lines = data.split(b"\n")
    start, current, prev_blank = None, [], True
    for number, line in enumerate(lines, start=1):
        if line.startswith(b"From ") and prev_blank:
            if start is not None:
                messages.append((start, b"\n".join(current)))
            start, current = number, []
        elif start is not None:
            current.append(b"From " + line[6:] if line.startswith(b">From ") else line)
        prev_blank = line.strip() == b""
    if start is not None:
        messages.append((start, b"\n".join(current)))
    return messages


def _messages(path: Path) -> list[tuple[int, bytes]]:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rb") as handle:
            data = handle.read()
    else:
        data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith(b"From "):
        return _split_mbox(data)
    return [(1, data)] if data.strip() else []


def _address(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    found = re.search(r"<([^<>]+)>", text)
    text = (found.group(1) if found else text).strip().lower()
    if not text or "@" not in text:
        return text or None
    return text


def _redacted(address: str | None) -> bool:
    if not address:
        return True
    local = address.split("@", 1)[0]
    return bool(_REDACTED.match(local)) or address in ("redacted", "[redacted]")


def _header_block(part) -> email.message.Message | None:
    """The headers carried by a message/feedback-report, message/rfc822 or text/rfc822-headers part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return payload[0] if payload else None
    if isinstance(payload, email.message.Message):
        return payload
    text = part.get_payload(decode=True) or b""
    return email.message_from_bytes(text.lstrip(), policy=email.policy.compat32)


def _iso(value) -> str | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return str(value).strip()
    if parsed is None:
        return str(value).strip()
    return parsed.isoformat()


def _get(msg, name: str) -> str | None:
    if msg is None:
        return None
    value = msg.get(name)
    return None if value is None else str(value).strip() or None


def _recipients(feedback, original) -> list[str | None]:
    """The complainants' addresses: every ``X-HmXmrOriginalRecipient``, else every
    ``Original-Rcpt-To`` (RFC 5965 repeats the field, one recipient each), else
    ``Removal-Recipient``, else the original ``To:``. A value that is not an address
    (``<Undisclosed Recipients>``, ``undisclosed``) or is redacted is no recipient: ``[None]`` when
    none is left, so that the report is matched by its ids alone."""
    for block, name in ((original, "X-HmXmrOriginalRecipient"), (feedback, "Original-Rcpt-To"),
                        (feedback, "Removal-Recipient"), (original, "To")):
        values = [str(v) for v in (block.get_all(name) or [])] if block is not None else []
        if not values:
            continue
        found = []
        for _, addr in getaddresses(values):
            address = _address(addr)
            if address and "@" in address and not _redacted(address) and address not in found:
                found.append(address)
        return found or [None]
    return [None]


def parse_report(data: bytes, tags: dict[str, str]) -> dict:
    """One message of an .eml or mbox as an ARF row (``COLUMNS`` without file and line)."""
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    if not msg.keys():
        return {"__raw": data[:_RAW_LIMIT].decode("utf-8", errors="replace"), "etype": "error", "vtype": None,
                "__error": "not an e-mail message (no header lines)"}
    feedback, original = None, None
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/feedback-report" and feedback is None:
            feedback = _header_block(part)
        elif ctype in ("message/rfc822", "text/rfc822-headers") and original is None:
            original = _header_block(part)
    report_from = _get(msg, "From") or ""
    row: dict = {"__raw": data[:_RAW_LIMIT].decode("utf-8", errors="replace"), "__error": None, "note": None}
    jmrp = feedback is None and original is not None and (
        _get(original, "X-HmXmrOriginalRecipient") is not None or bool(_MICROSOFT.search(report_from))
    )
    if feedback is None and not jmrp:
        row.update(vtype="not a feedback report", etype="ignore",
                   note="a message with no message/feedback-report part (a bounce, a challenge, a reply)")
        return row
    ftype = (_get(feedback, "Feedback-Type") or ("abuse" if jmrp else "")).lower()
    row["vtype"] = "jmrp" if jmrp else (ftype or "no Feedback-Type")
    if ftype == "abuse":
        row["etype"] = "complaint"
    elif not ftype:
        row["etype"] = "unknown"
    else:
        row.update(etype="ignore", note=f"feedback type {ftype} is not a spam complaint (only abuse is)")
    row["recipients"] = _recipients(feedback, original)
    row["recipient"] = row["recipients"][0]
    row["own_id"] = _get(original, tags["message_id"]) or _get(feedback, tags["message_id"])
    mid = _get(original, "Message-ID")
    row["msgid"] = mid.strip().strip("<>").strip() if mid else None
    row["ts"] = _iso(_get(msg, "Date")) or _iso(_get(feedback, "Arrival-Date") or _get(feedback, "Received-Date"))
    for field in ("account_id", "list_id", "campaign_id"):
        row[field] = _get(original, tags[field])
    agent = " ".join(filter(None, [_get(feedback, "User-Agent"), _get(feedback, "Reporting-MTA"), report_from]))
    if jmrp or _MICROSOFT.search(agent):
        row["source"] = "microsoft_jmrp"
    elif re.search(r"(?i)yahoo|aol", agent):
        row["source"] = "yahoo_cfl"
    elif re.search(r"(?i)signal[ -]?spam", agent):
        row["source"] = "signal_spam"
    else:
        domain = re.search(r"@([A-Za-z0-9.-]+)", report_from)
        row["source"] = "arf:" + (domain.group(1).lower() if domain else "unknown")
    if row["etype"] == "complaint" and not row["own_id"] and not row["msgid"] and not row["recipient"]:
        row["__error"] = "the recipient is redacted and the report carries no Message-ID: it cannot be attributed"
    return row


def stage(con, path: Path, files: list[Path], start_index: int, options: common.AdapterOptions, progress=None):
    tags = {field: options.tag(field, default) for field, default in TAG_DEFAULTS.items()}
    rows = []
    for file in files:
        try:
            messages = _messages(file)
        except (OSError, EOFError, zlib.error) as exc:
            raise common.DropError(f"{file}: cannot read the file ({exc})") from exc
        for line, data in messages:
            try:
                row = parse_report(data, tags)
            except Exception as exc:  # noqa: BLE001 - a message the email package cannot read
                row = {"__raw": data[:_RAW_LIMIT].decode("utf-8", errors="replace"), "etype": "error",
                       "__error": f"cannot parse the message: {exc}"}
            row["__file"], row["__line"] = str(file), line
            for recipient in row.get("recipients") or [row.get("recipient")]:
                row["recipient"] = recipient  # one complaint per complainant the report lists
                rows.append(tuple(row.get(c) for c in COLUMNS))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE __adp_arf ("
        + ", ".join(f'"{c}" {"BIGINT" if c == "__line" else "VARCHAR"}' for c in COLUMNS) + ")"
    )
    if rows:
        con.executemany(f"INSERT INTO __adp_arf VALUES ({', '.join('?' for _ in COLUMNS)})", rows)
    known = [s for s in getattr(options, "staged_sends", [])]
    has_sends = common.table_exists(con, "sends")
    parts = []
    if has_sends:
        parts.append("SELECT message_id, recipient, account_id, list_id, campaign_id, sent_at FROM sends")
    for table in known:
        parts.append(
            f"SELECT message_id, lower(trim(recipient)), account_id, list_id, campaign_id, "
            f"timezone('UTC', try_cast(sent_at AS TIMESTAMPTZ)) FROM {table}"
        )
    if not parts:
        parts.append(
            "SELECT NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR, NULL::TIMESTAMP WHERE false"
        )
    con.execute(
        "CREATE OR REPLACE TEMP VIEW __adp_arf_sends (message_id, recipient, account_id, list_id, campaign_id, sent_at) AS "
        + " UNION ALL ".join(parts)
    )
    db.run(con, "adapters/arf", match_days=int(options.arf_match_days))
    con.execute("DROP VIEW IF EXISTS __adp_arf_sends")
    return common.finish(con, FORMAT, path, files, start_index, options, progress)
