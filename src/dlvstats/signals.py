"""Mailbox providers' own signals: Google Postmaster Tools (API v2) and Microsoft SNDS exports.

Both files are small (one row per domain, day and metric; one row per IP and day), so they are
read and checked here row by row; a file with any bad row is refused whole, naming file, line and
problem, and nothing of it is loaded. Rows already stored (same key) add nothing the second time.

Google Postmaster Tools: a ``domains.domainStats.query`` response saved as JSON
(``{"domainStats": [{"name": "domains/D/domainStats/ID", "metric": "spam_rate", "date": {...},
"value": {"doubleValue": 0.0012}}], "nextPageToken": ""}``), or a JSON list of such pages. A v2
query names its metrics itself; names that follow a base metric (``spam_rate`` for SPAM_RATE,
``auth_success_rate_dkim`` for AUTH_SUCCESS_RATE filtered on DKIM) are taken as they are; other
names need a mapping (``--metric-map myname=spam_rate``).

Microsoft SNDS: the "IP data" export (CSV, no header, one row per IP and activity period):
IP, activity start, activity end, RCPT commands, DATA commands, message recipients, filter result
(GREEN / YELLOW / RED), complaint rate ("< 0.1%", "0.3%"), trap period start, trap period end,
trap hits, sample HELO, JMR P1 sender, comments. Times are kept as SNDS writes them
("9/29/2026 9:00 PM"; the export names no time zone).
"""

from __future__ import annotations

import csv
import ipaddress
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from dlvstats import db

#: lower-cased StandardMetric names of the Postmaster Tools API v2
GPT_BASE_METRICS = ("spam_rate", "auth_success_rate", "tls_encryption_rate", "tls_encryption_message_count",
                    "delivery_error_count", "delivery_error_rate", "feedback_loop_spam_rate", "feedback_loop_id")
SNDS_FILTERS = ("GREEN", "YELLOW", "RED")
SNDS_TIME = "%m/%d/%Y %I:%M %p"


class SignalsError(ValueError):
    """A signals file was refused; ``problems`` lists (file, line, problem)."""

    def __init__(self, problems: list[tuple[str, int, str]]):
        self.problems = problems
        shown = "\n".join(f"  {f}:{line}: {p}" for f, line, p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"refused {len(problems)} row(s); nothing was loaded:\n{shown}{more}")


@dataclass
class ImportSummary:
    file: str
    rows: int  # rows in the file
    added: int  # rows new to the database (the rest were already stored)


def metric_name(source: str, mapping: dict[str, str]) -> str | None:
    """dlvstats' name for a metric named ``source`` in the response, or None when unknown."""
    name = mapping.get(source, source).strip().lower()
    for base in GPT_BASE_METRICS:
        if name == base or name.startswith(base + "_"):
            return name
    return None


def _json_elements(text: str):
    """(element, line) for each entry of every "domainStats" array in the text."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r'"domainStats"\s*:\s*\[', text):
        pos = match.end()
        while True:
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
            if pos >= len(text) or text[pos] == "]":
                break
            element, end = decoder.raw_decode(text, pos)
            yield element, text.count("\n", 0, pos) + 1
            pos = end


def read_gpt(path: Path, mapping: dict[str, str] | None = None, domain: str | None = None) -> pd.DataFrame:
    mapping = mapping or {}
    seen: dict[tuple, int] = {}
    text = path.read_text(encoding="utf-8")
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise SignalsError([(str(path), exc.lineno, f"not valid JSON: {exc.msg}")]) from None
    rows, problems = [], []
    for element, line in _json_elements(text):
        where = (str(path), line)
        if not isinstance(element, dict):
            problems.append((*where, "a domainStats entry is not an object"))
            continue
        source = element.get("metric")
        metric = metric_name(source, mapping) if isinstance(source, str) else None
        if metric is None:
            problems.append((*where, (f"metric {source!r} does not follow a Postmaster Tools base metric "
                                     f"({', '.join(GPT_BASE_METRICS)}); map it with --metric-map {source}=spam_rate")))
            continue
        name = element.get("name") or ""
        dom = name.split("/")[1] if name.startswith("domains/") and name.count("/") >= 1 else domain
        if not dom:
            problems.append((*where, "no domain: the entry has no name 'domains/DOMAIN/...'; pass --domain"))
            continue
        try:
            d = element["date"]
            day = date(int(d["year"]), int(d["month"]), int(d["day"]))
        except (KeyError, TypeError, ValueError):
            problems.append((*where, f"date {element.get('date')!r} is not {{year, month, day}} (query with DAILY granularity)"))
            continue
        value = element.get("value") or {}
        number, text_value = _gpt_value(value)
        if number is None and text_value is None:
            problems.append((*where, f"value {value!r} has no intValue/doubleValue/floatValue/stringValue/stringList"))
            continue
        if metric.endswith("_rate") and number is not None and not 0 <= number <= 1:
            problems.append((*where, f"{metric} = {number} is not a ratio between 0 and 1"))
            continue
        key = (dom.lower(), day, metric)
        if key in seen:
            problems.append((*where, f"{metric} for {key[0]} on {day} repeats line {seen[key]}"))
            continue
        seen[key] = line
        rows.append((dom.lower(), day, metric, source, number, text_value))
    if problems:
        raise SignalsError(problems)
    if not rows:
        raise SignalsError([(str(path), 1, "no domainStats entries (an empty answer: no data for those dates?)")])
    return pd.DataFrame(rows, columns=["domain", "day", "metric", "source_metric", "value", "value_text"])


def _gpt_value(value: dict) -> tuple[float | None, str | None]:
    for key in ("doubleValue", "floatValue", "intValue"):
        if key in value:
            try:
                return float(value[key]), None
            except (TypeError, ValueError):
                return None, None
    if "stringValue" in value:
        return None, str(value["stringValue"])
    if "stringList" in value:
        return None, ",".join(map(str, (value["stringList"] or {}).get("values", [])))
    return None, None


def _snds_time(text: str) -> datetime | None:
    return datetime.strptime(text.strip(), SNDS_TIME) if text.strip() else None


def _snds_rate(text: str) -> float | None:
    """'0.3%' -> 0.003; '< 0.1%' (under SNDS's reporting floor) -> None: the text is kept beside it."""
    text = text.strip()
    if text.startswith("<"):
        float(text.lstrip("< ").rstrip("%"))  # must still be a percentage
        return None
    return float(text.rstrip("%")) / 100


def read_snds(path: Path) -> pd.DataFrame:
    rows, problems, seen = [], [], {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for line, record in enumerate(csv.reader(handle), start=1):
            if not record or not "".join(record).strip():
                continue
            if line == 1 and record[0].strip().lower().startswith("ip"):
                continue  # a header row written by hand or by another tool
            problem, row = _snds_row(record)
            if row is not None and (row[0], row[1]) in seen:
                problem = f"{row[0]} for the period starting {record[1].strip()} repeats line {seen[(row[0], row[1])]}"
            if problem:
                problems.append((str(path), line, problem))
            else:
                seen[(row[0], row[1])] = line
                rows.append((*row, line))
    if problems:
        raise SignalsError(problems)
    if not rows:
        raise SignalsError([(str(path), 1, "no SNDS rows")])
    columns = ["ip", "activity_start", "activity_end", "rcpt_commands", "data_commands", "message_recipients",
               "filter_result", "complaint_rate", "complaint_rate_text", "trap_start", "trap_end", "trap_hits", "sample_helo", "line"]
    return pd.DataFrame(rows, columns=columns)


def _snds_row(record: list[str]):
    if len(record) < 11:
        return f"{len(record)} fields; an SNDS IP data row has at least 11 (IP, activity start, ...)", None
    try:
        ip = str(ipaddress.ip_address(record[0].strip()))
    except ValueError:
        return f"IP {record[0]!r} is not an IP address", None
    try:
        start, end = _snds_time(record[1]), _snds_time(record[2])
        trap_start, trap_end = _snds_time(record[8]), _snds_time(record[9])
    except ValueError:
        return f"a time is not M/D/YYYY H:MM AM/PM: {record[1:3] + record[8:10]}", None
    if start is None or end is None:
        return "activity start and end are required", None
    try:
        rcpt, data, recipients = (int(x) for x in record[3:6])
        traps = int(record[10]) if record[10].strip() else 0
    except ValueError:
        return f"RCPT/DATA/recipients/trap hits must be whole numbers: {record[3:6] + record[10:11]}", None
    colour = record[6].strip().upper()
    if colour not in SNDS_FILTERS:
        return f"filter result {record[6]!r} is not GREEN, YELLOW or RED", None
    try:
        rate = _snds_rate(record[7])
    except ValueError:
        return f"complaint rate {record[7]!r} is not a percentage like '0.3%' or '< 0.1%'", None
    helo = record[11].strip() if len(record) > 11 else ""
    return None, (ip, start, end, rcpt, data, recipients, colour, rate, record[7].strip(), trap_start, trap_end, traps, helo or None)


def import_file(con, path: str | Path, kind: str, *, mapping: dict[str, str] | None = None,
                domain: str | None = None) -> ImportSummary:
    """Load one GPT (kind 'gpt') or SNDS (kind 'snds') file; refuse it whole on any bad row."""
    path = Path(path)
    if not path.exists():
        raise SignalsError([(str(path), 0, "no such file")])
    frame = read_gpt(path, mapping, domain) if kind == "gpt" else read_snds(path)
    frame = frame.assign(file=str(path), imported_at=datetime.now(UTC).replace(tzinfo=None))
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("__signals_frame", frame)
        added = db.run(con, f"signals/merge_{kind}").fetchall()[0][0]
        con.unregister("__signals_frame")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return ImportSummary(str(path), len(frame), int(added))
