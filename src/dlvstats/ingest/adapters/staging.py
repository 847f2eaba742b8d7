"""Events -> staged tables: ``finish`` splits the unified event table ``__adp_events`` into one
staged table per kind and input file, aggregates each message's ``sends`` row in SQL
(``sql/adapters/messages.sql``) and writes the notes (see ``common``'s docstring)."""

from __future__ import annotations

from pathlib import Path

from dlvstats import db
from dlvstats.ingest.adapters.options import EVENT_COLUMNS, MAX_TABLES_PER_KIND, AdapterOptions, StageResult
from dlvstats.ingest.canonical import Staged
from dlvstats.ingest.schema import KINDS


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
    has_sends = _prepare_events(con, fmt, options)
    staged = _stage_kinds(con, fmt, path, files, start_index, options, has_sends)
    errors = _stage_unreadable(con, fmt, staged, start_index + len(staged))
    notes = _notes(con, fmt, len(files))
    for name in ("__adp_k", "__adp_msg", "__adp_known", "__adp_ev", "__adp_events", "__adp_items"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    if progress:
        progress("read", 1, 1, f"{path} ({fmt}: {sum(s.read_rows for s in staged):,} rows)")
    return StageResult(staged, errors, notes)


def _prepare_events(con, fmt: str, options: AdapterOptions) -> bool:
    """``__adp_ev`` (the events, numbered, times parsed), ``__adp_msg`` (messages.sql) and, when the
    database has sends, ``__adp_known`` (the sends that complaints and unsubscribes refer to)."""
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
    return has_sends


def _stage_kinds(con, fmt, path: Path, files: list[Path], start_index: int, options, has_sends) -> list[Staged]:
    """One staged table per kind and input file (one per kind above ``MAX_TABLES_PER_KIND`` files)."""
    file_order = {str(f): i for i, f in enumerate(files)}
    staged: list[Staged] = []
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
    return staged


def _stage_unreadable(con, fmt: str, staged: list[Staged], counter: int) -> dict[str, list[dict]]:
    """Payloads that could not be read at all: structural errors attached to a staged table of
    their file (a `sends` table, created empty when needed), so that they are refused with their
    position, or quarantined and counted as read and rejected."""
    errors: dict[str, list[dict]] = {}
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
    return errors


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
