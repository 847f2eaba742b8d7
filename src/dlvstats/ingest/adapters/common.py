"""Shared machinery of the ESP/MTA adapters: reading JSON payloads, the unified event table, and
the split of events into the loader's staged tables (docs/architecture.md, "Staged tables").

Every adapter turns its input into one temporary table of *events*, ``__adp_events``, with the
columns of ``EVENT_COLUMNS`` (all VARCHAR but ``__line``). ``etype`` says what the event means:

=============  ==============================================================================
etype          meaning
=============  ==============================================================================
send           accepted by the provider (SES Send, SendGrid processed, Mailgun accepted, ...)
delivery       accepted by the receiving server
bounce         refused for good (``bounce_class`` hard or soft)
delay          refused for now (the provider retries)
reject         not sent by the provider (virus, suppression list): the message gets no ``sends``
               row unless another event settles it
open, click    tracking pixel fetch, tracked link redirect
complaint      spam complaint
unsubscribe,   list (un)subscription
subscribe
ignore         an event with no canonical meaning (rendering failure, SNS subscription
               confirmation, non-abuse feedback report, ...): counted and reported as a note
unknown        an event type the adapter does not know: counted and reported as a note
error          a payload that cannot be read (``__error`` says why): refused with its position,
               or kept in ``rejects`` under ``--on-error quarantine``
=============  ==============================================================================

``finish`` then builds one staged table per kind and input file. A message's ``sends`` row is
aggregated in SQL over every event of that message read in this call (earliest known time as
``sent_at``, the latest settling event for the status, a delay only when nothing settled it); each
delivery-status event becomes one staged row carrying those aggregated values, so every event is
accounted for and the loader keeps one row per message (the others count as duplicates).

Nothing here loops over events in Python: the JSON and CSV formats are parsed by DuckDB.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from dlvstats import db
from dlvstats.ingest.canonical import DropError, Staged
from dlvstats.ingest.schema import KINDS

#: The unified event table every adapter produces (``__adp_events``).
EVENT_COLUMNS = (
    "__file", "__line", "__raw", "__error", "etype", "vtype", "note",
    "message_id", "recipient", "ts", "sent_at", "account_id", "list_id", "campaign_id",
    "sending_ip", "sending_domain", "bounce_class", "smtp_code", "enhanced_status", "bounce_reason",
    "user_agent", "ip", "url", "event_id", "is_machine", "source",
)

SEND_ETYPES = ("send", "delivery", "bounce", "delay")

#: Above this many input files in one path, one staged table per kind holds them all (rows still
#: carry their own ``__file``), so that a Firehose dump of thousands of objects stays one query.
MAX_TABLES_PER_KIND = 64

_TAG_NAME = re.compile(r"^[A-Za-z0-9_.:@ /-]{1,100}$")

#: Canonical fields an adapter can read from the format's tags/metadata (``tags`` option).
TAG_FIELDS = ("account_id", "list_id", "campaign_id", "message_id", "sending_domain")


@dataclass
class AdapterOptions:
    """Options shared by the adapters (``stage_format`` keyword arguments).

    ``tags`` maps a canonical field (``TAG_FIELDS``) to the name the format uses for it: a SES
    message tag, a SendGrid custom argument, a Mailgun user-variable, a Postmark Metadata key, a
    PowerMTA accounting column, a header of the original message in an ARF report, or a header
    logged by Postfix ``header_checks``. Each format documents its defaults (docs/formats/).
    """

    account_id: str | None = None
    campaign_id: str | None = None
    list_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    #: Postfix: year of syslog timestamps that have none (default: from the file's mtime).
    year: int | None = None
    #: ARF: days before a report in which a send to the same recipient is searched for.
    arf_match_days: int = 30
    #: ARF: staged `sends` tables of the same ingest, searched besides the database (internal).
    staged_sends: list[str] = field(default_factory=list)

    def tag(self, name: str, default: str) -> str:
        value = self.tags.get(name, default)
        if not _TAG_NAME.match(value):
            raise ValueError(f"tag name for {name} must be letters, digits and _.:@ /- only: {value!r}")
        return value

    def defaults(self) -> dict[str, str | None]:
        return {"def_account": self.account_id, "def_campaign": self.campaign_id, "def_list": self.list_id}


class StageResult(tuple):
    """``(staged, structural_errors)`` with the adapter's notes attached as ``.notes``.

    It unpacks like the canonical reader's 2-tuple, so callers that ignore notes keep working.
    """

    def __new__(cls, staged, errors, notes=None):
        self = super().__new__(cls, (staged, errors))
        self.notes = list(notes or [])
        return self

    @property
    def staged(self) -> list[Staged]:
        return self[0]

    @property
    def errors(self) -> dict[str, list[dict]]:
        return self[1]


def json_key_path(*keys: str) -> str:
    """A JSONPath like ``$."user-variables"."account_id"`` (keys validated by AdapterOptions.tag)."""
    return "$" + "".join(f'."{k}"' for k in keys)


def create_macros(con) -> None:
    """``dlv_ts(text)``: an epoch (seconds or milliseconds, number or string) to ISO 8601 UTC;
    anything else is returned trimmed, for the loader to validate."""
    con.execute(
        """
        CREATE OR REPLACE TEMP MACRO dlv_ts(v) AS (
            CASE
                WHEN v IS NULL OR trim(v) = '' THEN NULL
                WHEN regexp_full_match(trim(v), '[0-9]{9,}(\\.[0-9]+)?') THEN
                    strftime(make_timestamp(CASE
                        WHEN trim(v)::DECIMAL(38, 6) >= 100000000000 THEN (trim(v)::DECIMAL(38, 6) * 1000)::BIGINT
                        ELSE (trim(v)::DECIMAL(38, 6) * 1000000)::BIGINT END), '%Y-%m-%dT%H:%M:%S.%f') || '+00:00'
                ELSE trim(v)
            END)
        """
    )
    # An address out of "Name <a@b>" or "<a@b>" or "a@b", lower-cased.
    con.execute(
        """
        CREATE OR REPLACE TEMP MACRO dlv_addr(v) AS (
            lower(trim(coalesce(NULLIF(regexp_extract(v, '<([^<>]+)>', 1), ''), v)))
        )
        """
    )
    # The first SMTP reply code (2xx-5xx) in a diagnostic text such as "smtp; 550 5.1.1 user unknown".
    con.execute(
        """
        CREATE OR REPLACE TEMP MACRO dlv_smtp_code(v) AS (
            NULLIF(regexp_extract(v, '(?:^|[;:(]\\s*|\\s)([245][0-9][0-9])(?:[\\s-]|$)', 1), '')
        )
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP MACRO dlv_enhanced(v) AS (
            NULLIF(regexp_extract(v, '(?:^|[^0-9.])([245]\\.[0-9]{1,3}\\.[0-9]{1,3})(?:[^0-9.]|$)', 1), '')
        )
        """
    )


# ---------------------------------------------------------------------------------------------
# Reading files


def _reader() -> str:
    """DuckDB's CSV reader used as a line reader (gzip-aware, streaming, exact line numbers); the
    file is the parameter ``$path``."""
    return (
        "read_csv($path, columns={'raw': 'VARCHAR'}, header=false, auto_detect=false, "
        "delim=E'\\x1f', quote='', escape='', compression='auto', strict_mode=false, "
        "max_line_size=33554432, buffer_size=33554432)"  # see canonical.stage_jsonl: bounded memory
    )


def _reader_error(path: Path, exc: Exception) -> str:
    """A readable message for a file DuckDB's line reader refused (error path only)."""
    text = str(exc)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    where = f"{path}, line {line.group(1)}" if line else str(path)
    if "unicode" in text.lower() or "utf-8" in text.lower():
        return f"{where}: not UTF-8 text (ESP and MTA logs are UTF-8); is it the right file, or does it need converting?"
    if "gzip" in text.lower():
        return f"{path}: a damaged or truncated gzip file ({text.splitlines()[0]})"
    return f"{where}: cannot read the file as text ({text.splitlines()[0]})"


def read_lines(con, files: list[Path], table: str = "__adp_lines") -> None:
    """``table(__file, __line, raw)``: every physical line of every file (one statement per file)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (__file VARCHAR, __line BIGINT, raw VARCHAR)")
    for path in files:
        try:
            con.execute(
                f"INSERT INTO {table} SELECT $path, row_number() OVER ()::BIGINT, "
                f"CASE WHEN starts_with(raw, chr(65279)) THEN substr(raw, 2) ELSE raw END "
                f"FROM {_reader()}",
                {"path": str(path)},
            )
        except Exception as exc:  # any reader failure is the file's problem
            raise DropError(_reader_error(path, exc)) from exc


def _json_error_position(path: str) -> str:
    """Where a JSON document is broken (error path only: Python reads the one bad file)."""
    import gzip

    try:
        with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as handle:
            text = handle.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return f"not valid UTF-8 at byte {exc.start}"
    except (OSError, EOFError) as exc:
        return f"cannot read the file ({exc})"
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return f"line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})"
    return "not valid JSON"


def read_json_docs(con, files: list[Path], fmt: str) -> None:
    """Read JSON payload files into ``__adp_items(__file, __line, single, i1, j, bad)``.

    A file is either JSON lines (one JSON value per line: an event, an envelope, or a webhook batch
    array; ``__line`` is the physical line) or one JSON document, possibly pretty-printed or on one
    line (a webhook batch array, one event, a Lambda event, an Events API page; ``single`` is true
    and positions are record numbers). Top-level arrays are split into their elements (``i1``). A
    line of a JSON-lines file that is not valid JSON becomes an item with ``bad`` set; a one-document
    file that is not valid JSON is refused with the line and column of the problem.
    """
    read_lines(con, files)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE __adp_mode AS
        SELECT __file,
               json_valid(arg_min(raw, __line) FILTER (WHERE NOT regexp_matches(coalesce(raw, ''), '^\\s*$'))) AS first_valid,
               count(*) FILTER (WHERE NOT regexp_matches(coalesce(raw, ''), '^\\s*$')) AS nonblank
        FROM __adp_lines GROUP BY __file
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE __adp_docs AS
        SELECT __file, __line, single, doc, CASE WHEN doc IS NULL THEN raw END AS bad, raw
        FROM (
            SELECT l.__file, l.__line, m.nonblank = 1 AS single, try_cast(l.raw AS JSON) AS doc, l.raw
            FROM __adp_lines AS l JOIN __adp_mode AS m USING (__file)
            WHERE m.first_valid AND NOT regexp_matches(coalesce(l.raw, ''), '^\\s*$')
        )
        UNION ALL
        SELECT __file, 1 AS __line, true AS single, NULL::JSON AS doc,
               string_agg(coalesce(raw, ''), chr(10) ORDER BY __line) AS bad, NULL AS raw
        FROM __adp_lines JOIN __adp_mode AS m USING (__file)
        WHERE NOT m.first_valid
        GROUP BY __file
        """
    )
    con.execute(
        "UPDATE __adp_docs SET doc = bad::JSON, raw = bad, bad = NULL WHERE single AND json_valid(bad)"
    )
    broken = con.execute(
        "SELECT __file FROM __adp_docs WHERE single AND bad IS NOT NULL ORDER BY __file LIMIT 1"
    ).fetchone()
    if broken:
        raise DropError(
            f"{broken[0]}, {_json_error_position(broken[0])}. A {fmt} file must be JSON lines (one "
            "event, envelope or batch per line) or one JSON document; nothing was loaded."
        )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE __adp_items AS
        WITH arrays AS (
            SELECT __file, __line, single, bad,
                   CASE WHEN bad IS NOT NULL THEN [NULL::JSON]
                        WHEN starts_with(ltrim(raw, ' ' || chr(9) || chr(10) || chr(13)), '[') THEN json_extract(doc, '$[*]')
                        ELSE [doc] END AS elems
            FROM __adp_docs
        )
        SELECT __file, __line, single, bad, unnest(elems) AS j, generate_subscripts(elems, 1) AS i1
        FROM arrays
        """
    )
    con.execute("DROP TABLE IF EXISTS __adp_lines")
    con.execute("DROP TABLE IF EXISTS __adp_docs")
    con.execute("DROP TABLE IF EXISTS __adp_mode")


class NotRecognised(DropError):
    """A file none of whose records the adapter recognises (``check_recognised``)."""

    def __init__(self, message: str, file: str, fmt: str):
        super().__init__(message)
        self.file, self.fmt = file, fmt


def check_recognised(con, fmt: str, what: str) -> None:
    """Refuse a file none of whose records has an event type: most likely the wrong ``--format``."""
    row = con.execute(
        "SELECT __file, count(*) FILTER (WHERE vtype IS NOT NULL), count(*) FROM __adp_events "
        "WHERE etype <> 'error' GROUP BY __file HAVING count(*) FILTER (WHERE vtype IS NOT NULL) = 0 "
        "ORDER BY __file LIMIT 1"
    ).fetchone()
    if row:
        raise NotRecognised(
            f"{row[0]}: none of its {row[2]} record(s) has {what}; it does not look like {fmt} "
            "data. Check `--format` (or use `--format auto`).", row[0], fmt
        )


# ---------------------------------------------------------------------------------------------
# Events -> staged tables


def _kind_selects(has_sends_table: bool) -> dict[str, str]:
    """SELECTs over ``__adp_ev`` (+ ``__adp_msg``, ``__adp_known``) giving each kind's staged rows."""
    known_join = (
        "LEFT JOIN __adp_known AS k ON k.message_id = e.message_id" if has_sends_table
        else "LEFT JOIN (SELECT NULL::VARCHAR AS message_id, NULL::VARCHAR AS recipient, "
        "NULL::VARCHAR AS account_id, NULL::VARCHAR AS list_id, NULL::VARCHAR AS campaign_id) AS k ON false"
    )
    meta = "e.__file, e.__line, e.__raw, e.__error"
    return {
        "sends": f"""
            SELECT coalesce(m.message_id, e.message_id) AS message_id, m.sent_at, m.account_id, m.list_id,
                   m.campaign_id, m.recipient, m.status, m.delivered_at, m.bounce_class, m.smtp_code,
                   m.enhanced_status, m.bounce_reason, m.sending_ip, m.sending_domain, {meta}
            FROM __adp_ev AS e LEFT JOIN __adp_msg AS m ON m.message_id = e.message_id
            WHERE e.etype IN ('send', 'delivery', 'bounce', 'delay')""",
        "opens": f"""
            SELECT e.message_id, e.ts, e.user_agent, e.ip, e.event_id, e.is_machine, {meta}
            FROM __adp_ev AS e WHERE e.etype = 'open'""",
        "clicks": f"""
            SELECT e.message_id, e.ts, e.url, e.user_agent, e.ip, e.event_id, e.is_machine, {meta}
            FROM __adp_ev AS e WHERE e.etype = 'click'""",
        "complaints": f"""
            SELECT e.ts, e.message_id, coalesce(e.recipient, m.recipient, k.recipient) AS recipient,
                   coalesce(e.account_id, m.account_id_raw, k.account_id, $def_account) AS account_id,
                   e.source, {meta}
            FROM __adp_ev AS e LEFT JOIN __adp_msg AS m ON m.message_id = e.message_id {known_join}
            WHERE e.etype = 'complaint'""",
        "subscriptions": f"""
            SELECT e.ts,
                   coalesce(e.account_id, m.account_id_raw, k.account_id, $def_account, 'unknown') AS account_id,
                   coalesce(e.list_id, m.list_id_raw, k.list_id, $def_list, 'unknown') AS list_id,
                   coalesce(e.recipient, m.recipient, k.recipient) AS recipient,
                   e.etype AS action, e.source,
                   coalesce(e.campaign_id, m.campaign_id_raw, k.campaign_id, $def_campaign) AS campaign_id,
                   NULL::VARCHAR AS collected_at, {meta}
            FROM __adp_ev AS e LEFT JOIN __adp_msg AS m ON m.message_id = e.message_id {known_join}
            WHERE e.etype IN ('unsubscribe', 'subscribe')""",
    }


def table_exists(con, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = $n AND table_schema = 'main'",
            {"n": name},
        ).fetchone()[0]
    )


def finish(con, fmt: str, path: Path, files: list[Path], start_index: int, options: AdapterOptions,
           progress=None) -> StageResult:
    """Split ``__adp_events`` into staged tables (one per kind and file) and write the notes."""
    missing = [c for c in EVENT_COLUMNS if c not in _columns(con, "__adp_events")]
    if missing:  # pragma: no cover - a bug in an adapter, not a user error
        raise AssertionError(f"{fmt} adapter did not produce event columns {missing}")
    cols = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE __adp_ev AS
        SELECT {cols}, row_number() OVER ()::BIGINT AS __seq,
               try_cast(ts AS TIMESTAMPTZ) AS __ts,
               try_cast(coalesce(sent_at, ts) AS TIMESTAMPTZ) AS __sent
        FROM __adp_events
        """
    )
    # A delivery-status event whose own time cannot be read is refused (its message's row would
    # otherwise silently take another event's time).
    con.execute(
        """
        UPDATE __adp_ev SET __error = 'event time ' || to_json(left(ts, 60))::VARCHAR
            || ' is not an ISO 8601 timestamp or an epoch'
        WHERE __error IS NULL AND etype IN ('send', 'delivery', 'bounce', 'delay')
          AND ts IS NOT NULL AND __ts IS NULL
        """
    )
    db.run(con, "adapters/messages", **options.defaults())
    has_sends = table_exists(con, "sends")
    if has_sends:
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE __adp_known AS
            SELECT s.message_id, s.recipient, s.account_id, s.list_id, s.campaign_id
            FROM sends AS s
            WHERE s.message_id IN (SELECT message_id FROM __adp_ev
                                   WHERE etype IN ('complaint', 'unsubscribe', 'subscribe'))
            """
        )

    file_order = {str(f): i for i, f in enumerate(files)}
    staged: list[Staged] = []
    errors: dict[str, list[dict]] = {}
    counter = start_index
    for kind, select in _kind_selects(has_sends).items():
        con.execute(f"CREATE OR REPLACE TEMP TABLE __adp_k AS {select}", _params_used(select, options))
        present = [r[0] for r in con.execute("SELECT DISTINCT __file FROM __adp_k").fetchall()]
        present.sort(key=lambda f: (file_order.get(f, len(file_order)), f))
        groups = [[f] for f in present] if len(present) <= MAX_TABLES_PER_KIND else [present]
        for group in groups:
            table = f"__stage_{counter}"
            counter += 1
            columns = ", ".join(f'"{c}"' for c in KINDS[kind].column_names)
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {columns}, __file, __line::BIGINT AS __line, "
                f"__raw, __error FROM __adp_k WHERE $file IS NULL OR __file = $file",
                {"file": group[0] if len(group) == 1 else None},
            )
            rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            name = group[0] if len(group) == 1 else str(path)
            staged.append(Staged(kind, name, table, rows, [], lines_are_records=False, fmt=fmt))
    # Payloads that could not be read at all: structural errors attached to a staged table of
    # their file (a `sends` table, created empty when needed), so that they are refused with their
    # position, or quarantined and counted as read and rejected.
    bad = con.execute(
        "SELECT __file, __line, __error, __raw FROM __adp_ev WHERE etype = 'error' ORDER BY __file, __line"
    ).fetchall()
    for file, line, reason, raw in bad:
        # (a table of this file only, so that the refusal names the file, not the directory)
        target = next((s for s in staged if s.kind == "sends" and s.file == file), None)
        if target is None:
            table = f"__stage_{counter}"
            counter += 1
            columns = ", ".join(f'NULL::VARCHAR AS "{c}"' for c in KINDS["sends"].column_names)
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {columns}, NULL::VARCHAR AS __file, "
                "NULL::BIGINT AS __line, NULL::VARCHAR AS __raw, NULL::VARCHAR AS __error WHERE false"
            )
            target = Staged("sends", file, table, 0, [], lines_are_records=False, fmt=fmt)
            staged.append(target)
        errors.setdefault(target.table, []).append({"line": int(line), "reason": reason, "raw": raw})
        target.read_rows += 1

    notes = _notes(con, fmt, len(files))
    for name in ("__adp_k", "__adp_msg", "__adp_known", "__adp_ev", "__adp_events", "__adp_items"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    if progress:
        progress("read", 1, 1, f"{path} ({fmt}: {sum(s.read_rows for s in staged):,} rows)")
    return StageResult(staged, errors, notes)


def _params_used(sql: str, options: AdapterOptions) -> dict | None:
    params = {k: v for k, v in options.defaults().items() if f"${k}" in sql}
    return params or None


def _columns(con, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]


_KIND_OF = {
    "send": "sends", "delivery": "sends", "bounce": "sends", "delay": "sends",
    "open": "opens", "click": "clicks", "complaint": "complaints",
    "unsubscribe": "subscriptions", "subscribe": "subscriptions",
}


def _notes(con, fmt: str, nfiles: int) -> list[str]:
    rows = con.execute(
        "SELECT etype, count(*) FROM __adp_ev GROUP BY etype ORDER BY etype"
    ).fetchall()
    counts = dict(rows)
    total = sum(counts.values())
    by_kind: dict[str, int] = {}
    for etype, n in counts.items():
        if etype in _KIND_OF:
            by_kind[_KIND_OF[etype]] = by_kind.get(_KIND_OF[etype], 0) + n
    not_loaded = counts.get("ignore", 0) + counts.get("unknown", 0)
    parts = ", ".join(f"{k} {by_kind[k]:,}" for k in KINDS if k in by_kind)
    notes = [
        f"{fmt}: {total:,} event(s) read from {nfiles} file(s): {parts or 'none mapped'}"
        + (f"; {not_loaded:,} with no canonical meaning, not loaded (below)" if not_loaded else "")
        + (f"; {counts['error']:,} unreadable" if counts.get("error") else "")
    ]
    send_events, messages = con.execute(
        "SELECT count(*), count(DISTINCT message_id) FROM __adp_ev WHERE etype IN ('send','delivery','bounce','delay')"
    ).fetchone()
    if send_events > messages:
        notes.append(
            f"{fmt}: {send_events:,} delivery-status event(s) describe {messages:,} message(s); each "
            "message is one `sends` row with its most settled status, so the other events of a "
            "message are counted as duplicates"
        )
    for etype, vtype, note, n in con.execute(
        "SELECT etype, coalesce(vtype, '(no type)'), coalesce(note, ''), count(*) FROM __adp_ev "
        "WHERE etype IN ('ignore', 'unknown') GROUP BY ALL ORDER BY ALL"
    ).fetchall():
        if etype == "unknown":
            notes.append(f"{fmt}: {n:,} event(s) of unknown type {vtype!r} counted, not loaded")
        else:
            notes.append(f"{fmt}: {n:,} {vtype} event(s) not loaded: {note}")
    return notes
