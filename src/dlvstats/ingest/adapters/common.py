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

from pathlib import Path

from dlvstats import db
from dlvstats.ingest.adapters.options import (
    EVENT_COLUMNS,
    MAX_TABLES_PER_KIND,
    SEND_ETYPES,
    TAG_FIELDS,
    AdapterOptions,
    NotRecognised,
    StageResult,
    json_key_path,
)
from dlvstats.ingest.adapters.reading import read_json_docs, read_lines
from dlvstats.ingest.adapters.staging import finish, table_exists
from dlvstats.ingest.canonical import DropError

__all__ = [
    "EVENT_COLUMNS", "MAX_TABLES_PER_KIND", "SEND_ETYPES", "TAG_FIELDS", "AdapterOptions", "DropError",
    "NotRecognised", "StageResult", "check_recognised", "create_macros", "finish", "json_key_path",
    "read_json_docs", "read_lines", "stage_json", "table_exists", "tag_params",
]

#: the SQL parameter of each sender's own field (``TAG_FIELDS``) in the adapters' SQL files
TAG_PARAMS = {"account_id": "p_account", "list_id": "p_list", "campaign_id": "p_campaign",
              "message_id": "p_message_id", "sending_domain": "p_sending_domain"}


def tag_params(options: AdapterOptions, *container: str, suffix: str = "") -> dict[str, str]:
    """The JSON path of each of the sender's own fields in an event, under ``container`` (the
    object holding them, e.g. Mailgun's ``user-variables``), named as the ``tags`` option says:
    ``{"p_account": '$."user-variables"."account_id"', ...}``. ``suffix`` is appended to each path."""
    return {param: json_key_path(*container, options.tag(field, field)) + suffix
            for field, param in TAG_PARAMS.items()}


def stage_json(con, fmt: str, vendor: str, what: str, path: Path, files: list[Path], start_index: int,
               options: AdapterOptions, progress=None, params: dict | None = None) -> StageResult:
    """What every JSON webhook adapter does: parse the files (``read_json_docs``), map the events with
    ``sql/adapters/<fmt>.sql`` (``params`` are its parameters), refuse a file none of whose records has
    ``what`` (``check_recognised``), and stage the kinds (``finish``)."""
    read_json_docs(con, files, fmt)
    db.run(con, f"adapters/{fmt}", **(params or {}))
    check_recognised(con, vendor, what)
    return finish(con, fmt, path, files, start_index, options, progress)


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
