"""Write a canonical drop as an ESP or MTA would have logged it (``dlvstats simulate --as FMT``), so
that the adapters can be tested end to end against the simulator's ground truth.

``write_as(fmt, canonical_drop_dir, out_dir)`` writes into ``out_dir``:

* ``ses``: ``ses-events.jsonl.gz``, one SES event per line (as Firehose delivers them to S3);
* ``sendgrid``: ``sendgrid-webhook-00001.json``, ... , each one webhook POST body (a JSON array of
  at most ``batch_size`` events);
* ``brevo``: ``brevo-webhooks.jsonl``, one transactional webhook body per line;
* ``mailjet``: ``mailjet-webhook-00001.json``, ... , grouped Event API callbacks (JSON arrays);
* ``mandrill``: ``mandrill-events-00001.json``, ... , the ``mandrill_events`` arrays (the form
  field decoded, as the adapter reads it);
* ``mailchimp``: ``mailchimp-reports.jsonl``, one Marketing API response per line: each
  campaign's report, then pages of its sent-to, email-activity, open-details, unsubscribed and
  abuse-reports members;
* ``sparkpost``: ``sparkpost-webhook-00001.json``, ... , webhook batches of ``{"msys": ...}``;
* ``exim``: ``mainlog``, an Exim main log (arrivals, deliveries, failures, deferrals);
* beside them, the canonical files of what the format does not log (``campaigns.csv``,
  ``orders.csv``, ``blocklists.csv``, the subscriptions that are not link unsubscribes - imports,
  sign-ups, gift re-registrations, moves - and complaints from other channels, e.g. Signal Spam,
  abuse desks), which ``dlvstats ingest --format FMT`` reads from the same directory.

Ingesting ``out_dir`` with the format gives the same sends (message_id, times, status, bounce
class and codes, account, list, campaign, sending IP and domain), opens, clicks, complaints and
unsubscribes as ingesting the canonical drop, except what the format cannot carry:

* ``ses``: no event id and no machine flag (opens and clicks lose ``event_id`` and
  ``is_machine``); complaints keep Yahoo and Microsoft through the feedback loop's user agent.
* ``sendgrid``: no click bot flag; a complaint's ``source`` becomes ``sendgrid_fbl``.
* ``brevo``: times to the millisecond (``ts_epoch``); no event id; a machine open is
  ``proxy_open``, but Brevo has no "not a machine" flag (``is_machine`` false becomes empty);
  complaint ``source`` ``brevo_fbl``.
* ``mailjet``: no "accepted" event: a message only accepted (status ``sent``) is not logged, and
  ``sent_at`` is the receiving server's answer (the delivery, bounce or greylisting time), so a
  send answered after a period boundary is counted in the next period; times to the second; the
  SMTP reply travels in ``comment`` beside Mailjet's own error words (``user unknown``, ``quota
  exceeded``...), and the adapter reads the codes back from it; a deferral is a ``greylisted`` bounce; no sending IP (blocklist listings are not attached), no
  event id, no machine flag; complaint ``source`` ``mailjet_<loop>``.
* ``mandrill``: no queued state (a message only accepted is not logged); a delivery is Mandrill's
  ``send`` event; times to the second; no sending IP, event id nor machine flag; complaint
  ``source`` ``mandrill_fbl``.
* ``sparkpost``: times to the second; no machine flag; complaint ``source`` ``sparkpost_abuse``.
* ``mailchimp``: a campaign report, not a log: ``message_id`` becomes ``<campaign_id>:<md5 of the
  recipient>`` (one message per campaign and recipient: the first send is kept); ``sent_at`` is
  the campaign's send time (its earliest send); a message only accepted or still deferred is not
  listed; no delivery time (``delivered_at`` empty), no account (``--account``, else ``unknown``),
  SMTP codes, sending IP or domain; opens and clicks keep their time (to the second), IP and URL,
  lose the user agent and event id, and only the opens of the written messages travel; machine
  flags travel as open-details' ``is_proxy_open``; complaint ``source`` ``mailchimp_abuse``.
* ``exim``: sends and their outcomes only - the main log has no opens, clicks, complaints nor
  unsubscribes (opens and clicks are lost; complaints and unsubscribes stay canonical files, but
  are no longer attached to their send); a message only accepted has no delivery line and is not
  a send; no account, list nor campaign (``unknown``); ``message_id`` becomes
  ``<Message-ID>:<recipient>``; times to the second; the sending IP only on deliveries; the bounce
  class is read from the reply (hard for 5.1.x, 5.2.1 or an unknown user; a hard 5.7.1 block
  becomes soft); a message without a sending domain gets the qualify domain ``dlvstats.invalid``.

Everywhere: bounce and delay texts are rebuilt from the codes (``550 5.1.1 <reason>``); a
``delivered`` row without ``delivered_at`` gets the delivery event's time.

All conversion is SQL (``sql/esp/<fmt>.sql``, after ``sql/esp/common.sql``) written out
with DuckDB ``COPY``; the only Python loop is over output files (webhook batches).
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb

from dlvstats import db
from dlvstats.ingest.canonical import DropError, ReadOptions, stage_drop
from dlvstats.ingest.schema import KINDS

#: Each format's output: ``lines`` (one payload per line of one file) or ``batches`` (one JSON array
#: of at most ``batch_size`` payloads per file, as a webhook POST body), and the file name.
_OUTPUT = {
    "ses": ("lines", "ses-events.jsonl.gz"),
    "sendgrid": ("batches", "sendgrid-webhook-{:05d}.json"),
    "brevo": ("lines", "brevo-webhooks.jsonl"),
    "mailjet": ("batches", "mailjet-webhook-{:05d}.json"),
    "mandrill": ("batches", "mandrill-events-{:05d}.json"),
    "mailchimp": ("lines", "mailchimp-reports.jsonl"),
    "sparkpost": ("batches", "sparkpost-webhook-{:05d}.json"),
    "exim": ("lines", "mainlog"),
}
FORMATS = tuple(_OUTPUT)
_EXPORTED = ("sends", "opens", "clicks", "complaints", "subscriptions")


def _q(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def write_as(
    fmt: str,
    canonical_drop_dir: str | Path,
    out_dir: str | Path,
    *,
    timezone_name: str = "UTC",
    batch_size: int = 10000,
) -> dict:
    """Convert one canonical drop into ``fmt`` (one of ``FORMATS``) files in ``out_dir``.

    ``timezone_name`` is the zone of the drop's naive timestamps (as ``--timezone`` at ingest).
    Returns a summary: ``{"format", "events", "files", "canonical": {kind: rows}}``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"write_as: format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = $tz", {"tz": timezone_name})
        staged, errors = stage_drop(con, Path(canonical_drop_dir), ReadOptions())
        bad = sum(len(v) for v in errors.values())
        if bad:
            raise DropError(f"{canonical_drop_dir}: {bad} unreadable row(s); fix the canonical drop first")
        for kind, spec in KINDS.items():
            tables = [s.table for s in staged if s.kind == kind]
            cols = ", ".join(f'"{c}"' for c in spec.column_names)
            if tables:
                body = " UNION ALL ".join(f"SELECT {cols} FROM {t}" for t in tables)
            else:
                body = "SELECT " + ", ".join(f'NULL::VARCHAR AS "{c}"' for c in spec.column_names) + " WHERE false"
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE __c_{kind} AS SELECT *, row_number() OVER ()::BIGINT AS __row FROM ({body})"
            )
        db.run(con, "esp/common")
        db.run(con, f"esp/{fmt}")
        events = con.execute("SELECT count(*) FROM __x_ev").fetchone()[0]
        files: list[str] = []
        order = "ORDER BY ord NULLS FIRST, seq, payload"
        raw_csv = "(FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x1f'"
        layout, name = _OUTPUT[fmt]
        if layout == "lines":
            target = out / name
            gz = ", COMPRESSION gzip" if name.endswith(".gz") else ""
            con.execute(f"COPY (SELECT payload FROM __x_ev {order}) TO {_q(target)} {raw_csv}{gz})")
            files.append(str(target))
        else:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE __x_batches AS SELECT payload, rn, ((rn - 1) // {int(batch_size)})::BIGINT AS batch "
                f"FROM (SELECT payload, row_number() OVER ({order}) AS rn FROM __x_ev)"
            )
            batches = max(1, math.ceil(events / batch_size)) if events else 0
            for b in range(batches):
                target = out / name.format(b + 1)
                con.execute(
                    f"COPY (SELECT '[' || string_agg(payload, ',' ORDER BY rn) || ']' FROM __x_batches "
                    f"WHERE batch = {b}) TO {_q(target)} {raw_csv})"
                )
                files.append(str(target))
        canonical = _write_canonical_rest(con, out)
        return {"format": fmt, "events": events, "files": files, "canonical": canonical}
    finally:
        con.close()


def _write_canonical_rest(con, out: Path) -> dict[str, int]:
    """The kinds and rows the ESP format does not carry, as canonical CSV files beside the events."""
    written: dict[str, int] = {}
    rest = {
        "complaints": "SELECT * EXCLUDE (__row) FROM __c_complaints WHERE __row NOT IN (SELECT __row FROM __x_done_complaints) ORDER BY __row",
        "subscriptions": "SELECT * EXCLUDE (__row) FROM __c_subscriptions WHERE __row NOT IN (SELECT __row FROM __x_unsub) ORDER BY __row",
    }
    for kind in KINDS:
        if kind in ("sends", "opens", "clicks"):
            continue
        select = rest.get(kind, f"SELECT * EXCLUDE (__row) FROM __c_{kind} ORDER BY __row")
        rows = con.execute(f"SELECT count(*) FROM ({select})").fetchone()[0]
        if rows:
            target = out / f"{kind}.csv"
            con.execute(f"COPY ({select}) TO {_q(target)} (FORMAT csv, HEADER true)")
            written[kind] = rows
    return written


def write_drops_as(fmt: str, drops_dir: str | Path, out_dir: str | Path, **options) -> list[dict]:
    """``write_as`` for every drop directory under ``drops_dir`` (e.g. the simulator's
    ``OUT/drops/YYYY-MM``), into ``out_dir/<same name>``."""
    results = []
    for drop in sorted(p for p in Path(drops_dir).iterdir() if p.is_dir() and not p.name.startswith(".")):
        results.append(write_as(fmt, drop, Path(out_dir) / drop.name, **options))
    return results
