"""ESP and MTA adapters: turn what an ESP or MTA writes into the loader's staged tables.

``stage_format(con, input_format, path, ...)`` is called by ``dlvstats.ingest.ingest_paths`` for
every path of a non-canonical ingest. ``input_format`` is one of ``FORMATS`` or ``auto`` (each file's
format sniffed from its content). A path is a file or a directory (read recursively, hidden files
skipped). Inside a directory, files named after a canonical kind (``campaigns.csv``,
``orders/part-1.parquet``, ...) are read as canonical files, so that an ESP export can travel with
the kinds the ESP does not know (campaigns, orders, list imports) in one atomic drop.

The result unpacks as ``(staged, structural_errors)`` like the canonical reader's, and carries the
adapter's notes (events counted but not loaded, how events became rows) as ``.notes``.
"""

from __future__ import annotations

import gzip
import importlib
import re
from pathlib import Path

from dlvstats.ingest.adapters.common import AdapterOptions, NotRecognised, StageResult, create_macros
from dlvstats.ingest.canonical import DropError, ReadOptions, stage_csv, stage_jsonl, stage_parquet
from dlvstats.ingest.schema import FILE_EXTENSIONS, KINDS

__all__ = ["FORMATS", "AdapterOptions", "StageResult", "sniff", "stage_format"]

#: format name -> module (``stage(con, path, files, start_index, options, progress)``).
FORMATS: dict[str, str] = {
    "ses": "dlvstats.ingest.adapters.ses",
    "sendgrid": "dlvstats.ingest.adapters.sendgrid",
    "mailgun": "dlvstats.ingest.adapters.mailgun",
    "postmark": "dlvstats.ingest.adapters.postmark",
    "pmta": "dlvstats.ingest.adapters.pmta",
    "arf": "dlvstats.ingest.adapters.arf",
    "postfix": "dlvstats.ingest.adapters.postfix",
    "brevo": "dlvstats.ingest.adapters.brevo",
    "mailjet": "dlvstats.ingest.adapters.mailjet",
    "mandrill": "dlvstats.ingest.adapters.mandrill",
    "mailchimp": "dlvstats.ingest.adapters.mailchimp",
    "sparkpost": "dlvstats.ingest.adapters.sparkpost",
    "exim": "dlvstats.ingest.adapters.exim",
}

#: formats auto-detection recognises but no adapter reads: format -> what to call it.
NO_ADAPTER: dict[str, str] = {
    "mailtrap": "Mailtrap webhook events",
}

_SKIP_NAMES = ("truth.json", "README.md", "README.txt", "SOURCES.md", "_SUCCESS")


def _canonical_kind(path: Path, root: Path) -> tuple[str, str] | None:
    """(kind, extension) when the file is a canonical file: ``<kind>.<ext>`` or ``<kind>/<any>.<ext>``."""
    name = path.name
    ext = next((e for e in FILE_EXTENSIONS if name.endswith(e)), None)
    if ext is None:
        return None
    stem = name[: -len(ext)]
    if stem in KINDS:
        return stem, ext
    if path.parent != root and path.parent.name in KINDS:
        return path.parent.name, ext
    return None


def list_input_files(path: Path) -> list[Path]:
    path = Path(path)
    if not path.exists():
        raise DropError(f"{path}: no such file or directory")
    if path.is_file():
        return [path]
    files = sorted(
        p for p in path.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        and p.name not in _SKIP_NAMES and not p.name.startswith("truth_")
    )
    if not files:
        raise DropError(f"{path}: no files found")
    return files


def _head(path: Path, size: int = 65536) -> str:
    try:
        with (gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")) as handle:
            data = handle.read(size)
    except (OSError, EOFError) as exc:
        raise DropError(f"{path}: cannot read the file ({exc})") from exc
    return data.decode("utf-8", errors="replace").lstrip("\ufeff")


_SYSLOG_POSTFIX = re.compile(r"^\S.*?\spostfix(?:/[\w.-]+)*\[\d+\]:\s", re.MULTILINE)
_EXIM_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?( [+-]\d{4})?( \[\d+\])? "
    r"[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4} (<=|=>|->|\*\*|==) ", re.MULTILINE)
_HEADER_LINE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*:\s", re.MULTILINE)


def sniff(path: Path) -> str | None:
    """The format of one file, from its first 64 KiB; None when it cannot be told."""
    head = _head(path)
    text = head.lstrip()
    if text.startswith(("{", "[")):
        if (re.search(r'\\*"(eventType|notificationType)\\*"\s*:', text) or '"TopicArn"' in text
                or '"Sns"' in text or re.search(
                    r'"Type"\s*:\s*"(Notification|SubscriptionConfirmation|UnsubscribeConfirmation)"', text)):
            return "ses"  # also SNS bodies without TopicArn, and a Message escaped once or twice
        if re.search(r'"sending_stream"\s*:', text) or (
            re.search(r'"events"\s*:\s*\[', text) and '"event_id"' in text and '"message_id"' in text
        ):
            return "mailtrap"  # before SendGrid: its events also have event, email and timestamp
        if '"list_is_active"' in text or ('"email_id"' in text and '"email_address"' in text) or (
            '"campaign_title"' in text and '"emails_sent"' in text
        ):
            return "mailchimp"  # Marketing API report pages (before SendGrid: unsubscribes have a timestamp)
        if '"RecordType"' in text:
            return "postmark"
        if re.search(r'"(event-data|recipient-domain|log-level)"\s*:', text) or (
            '"items"' in text and '"paging"' in text
        ):
            return "mailgun"
        if re.search(r'"(sg_event_id|sg_message_id|smtp-id)"\s*:', text) or (
            '"event"' in text and '"email"' in text and '"timestamp"' in text
        ):
            return "sendgrid"
        if re.search(r'"(mj_campaign_id|mj_contact_id|mj_message_id)"\s*:', text):
            return "mailjet"
        if '"message-id"' in text and re.search(r'"(ts_epoch|ts_event|X-Mailin-custom|s_epoch)"\s*:', text):
            return "brevo"
        if re.search(r'"msg"\s*:\s*\{', text) and re.search(r'"_id"\s*:', text):
            return "mandrill"
        if re.search(r'"msys"\s*:', text):
            return "sparkpost"
        return None
    first = text.splitlines()[0] if text else ""
    fields = [f.strip().strip('"').lower() for f in first.split(",")]
    if fields and fields[0] == "type" and ({"rcpt", "timelogged"} & set(fields)):
        return "pmta"
    if _SYSLOG_POSTFIX.search(head):
        return "postfix"
    if _EXIM_LINE.search(head):
        return "exim"
    if text.startswith("From ") or (
        _HEADER_LINE.match(text)
        and re.search(r"(?im)^(content-type:\s*multipart/report|feedback-type:|x-hmxmroriginalrecipient:)", text)
    ):
        return "arf"
    if path.suffix.lower() in (".eml", ".mbox") and _HEADER_LINE.match(text):
        return "arf"
    return None


def _stage_canonical(con, kind: str, path: Path, ext: str, table: str, options: ReadOptions):
    if ext in (".csv", ".csv.gz"):
        return stage_csv(con, kind, path, table, options)
    if ext in (".jsonl", ".jsonl.gz"):
        return stage_jsonl(con, kind, path, table, options)
    return stage_parquet(con, kind, path, table, options)


def _earlier_staged_sends(con, start_index: int) -> list[str]:
    """Staged `sends` tables of the earlier paths of the same ingest (``__stage_<n>``, n below
    ``start_index``), so that ARF reports can be matched to sends loaded in the same ingest."""
    found = con.execute(
        "SELECT table_name FROM information_schema.columns WHERE table_name LIKE '\\_\\_stage\\_%' ESCAPE '\\' "
        "GROUP BY table_name HAVING count(*) FILTER (WHERE column_name IN "
        "('message_id', 'sent_at', 'recipient', 'status', 'delivered_at', 'bounce_class')) = 6"
    ).fetchall()
    tables = []
    for (name,) in found:
        suffix = name[len("__stage_"):]
        if suffix.isdigit() and int(suffix) < start_index:
            tables.append(name)
    return sorted(tables, key=lambda n: int(n[len("__stage_"):]))


def _no_adapter(file: Path, fmt: str) -> DropError:
    return DropError(
        f"{file}: looks like {NO_ADAPTER[fmt]}, which dlvstats has no adapter for. The formats it "
        f"reads are: {', '.join(FORMATS)}. Export the events as canonical files "
        "(docs/input-files.md), or as a CSV read with a mapping file (`--map`, docs/inputs.md)."
    )


def _detected_wrongly(exc: NotRecognised) -> DropError:
    """Under ``--format auto``: the refusal must not advise the option the user just used."""
    return DropError(
        f"{exc.file}: format detected as {exc.fmt}, but none of its records is a {exc.fmt} "
        f"event: it is no format dlvstats reads ({', '.join(FORMATS)}). Name the right one with "
        "`--format`, export canonical files (docs/input-files.md), or move the file out of the drop."
    )


def _sort_files(input_format: str, path: Path) -> tuple[dict[str, list[Path]], list[tuple[str, Path, str]]]:
    """The files of ``path`` by format (sniffed under ``auto``), and the canonical files beside them."""
    files = list_input_files(path)
    root = path if path.is_dir() else path.parent
    groups: dict[str, list[Path]] = {}
    canonical: list[tuple[str, Path, str]] = []
    unknown: list[Path] = []
    for file in files:
        found = _canonical_kind(file, root)
        if found:
            canonical.append((found[0], file, found[1]))
            continue
        fmt = input_format if input_format != "auto" else sniff(file)
        if fmt is None:
            unknown.append(file)
        elif fmt in NO_ADAPTER:
            raise _no_adapter(file, fmt)
        else:
            groups.setdefault(fmt, []).append(file)
    if unknown:
        listed = ", ".join(str(u) for u in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise DropError(
            f"format not recognised: cannot tell the format of {listed}; name it with `--format` "
            f"({', '.join(FORMATS)}), or move the file(s) out of the drop."
        )
    return groups, canonical


def stage_format(
    con,
    input_format: str,
    path: Path,
    start_index: int = 0,
    progress=None,
    *,
    account_id: str | None = None,
    campaign_id: str | None = None,
    list_id: str | None = None,
    tags: dict[str, str] | None = None,
    year: int | None = None,
    arf_match_days: int = 30,
    read_options: ReadOptions | None = None,
) -> StageResult:
    """Stage the files of ``path`` read as ``input_format`` (one of ``FORMATS`` or ``auto``).

    ``account_id``/``campaign_id``/``list_id`` are used where the data names none (else
    ``unknown``); ``tags`` overrides the per-format names of the tags or fields that carry the
    account, list, campaign, own message id and sending domain (docs/formats/); ``read_options``
    (``--delimiter``, ``--encoding``...) apply to canonical files found beside the data. Returns a
    ``StageResult``: ``staged, errors = result`` and ``result.notes``.
    """
    if input_format != "auto" and input_format not in FORMATS:
        raise DropError(
            f"unknown input format {input_format!r}; choose one of: canonical, auto, {', '.join(FORMATS)}"
        )
    options = AdapterOptions(
        account_id=account_id, campaign_id=campaign_id, list_id=list_id, tags=dict(tags or {}),
        year=year, arf_match_days=arf_match_days,
    )
    for name in options.tags:
        options.tag(name, "x")  # validate early, with a clear message
    path = Path(path)
    groups, canonical = _sort_files(input_format, path)
    create_macros(con)
    earlier_sends = _earlier_staged_sends(con, start_index)
    staged, errors, notes = [], {}, []
    for kind, file, ext in canonical:
        item, errs = _stage_canonical(con, kind, file, ext, f"__stage_{start_index + len(staged)}",
                                      read_options or ReadOptions())
        staged.append(item)
        errors[item.table] = errs
    for fmt, module_name in FORMATS.items():
        if fmt not in groups:
            continue
        module = importlib.import_module(module_name)
        options.staged_sends = earlier_sends + [s.table for s in staged if s.kind == "sends"]
        try:
            result = module.stage(con, path, groups[fmt], start_index + len(staged), options, progress)
        except NotRecognised as exc:
            raise (_detected_wrongly(exc) if input_format == "auto" else exc) from exc
        staged.extend(result.staged)
        errors.update(result.errors)
        notes.extend(result.notes)
    if canonical:
        notes.append(
            f"{path}: {len(canonical)} canonical file(s) read beside the {input_format} data: "
            + ", ".join(sorted({k for k, _, _ in canonical}))
        )
    return StageResult(staged, errors, notes)
