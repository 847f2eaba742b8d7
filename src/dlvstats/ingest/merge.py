"""Normalise, deduplicate and merge one kind's converted rows into its canonical table
(``merge_kind``), with the spec's natural keys and the send-status precedence; the packaged SQL
files ``sql/ingest/merge_*.sql`` do the merging.
"""

from __future__ import annotations

from dlvstats import db
from dlvstats.ingest.schema import EVENT_KEY_PARTS, SETTLED_STATUSES
from dlvstats.ingest.validation import event_key_sql


def ensure_provider_defaults(con) -> None:
    """Seed ``provider_domains`` with the shipped mapping the first time (users' rows are kept)."""
    if con.execute("SELECT count(*) FROM provider_domains WHERE source = 'default'").fetchone()[0]:
        return
    import csv

    from dlvstats.config import PACKAGE_DATA_DIR

    with open(PACKAGE_DATA_DIR / "providers.csv", encoding="utf-8") as handle:
        rows = [(r["domain_pattern"], r["provider"], "default") for r in csv.DictReader(handle)]
    con.executemany("INSERT INTO provider_domains VALUES (?, ?, ?)", rows)


def next_drop_id(con) -> int:
    return con.execute("SELECT coalesce(max(drop_id), 0) + 1 FROM drops").fetchone()[0]


def _first_per_key(source: str, key: str, order: str) -> str:
    """The rows of ``source`` keeping, per ``key``, the first by ``order``. Most keys occur once in
    a drop: only the repeated ones go through the window (half the cost of windowing every row)."""
    return (
        f"WITH __rows AS ({source}), "
        f"__repeated AS (SELECT {key} FROM __rows GROUP BY ALL HAVING count(*) > 1) "
        f"SELECT * FROM __rows ANTI JOIN __repeated USING ({key}) "
        f"UNION ALL "
        f"(SELECT * FROM __rows SEMI JOIN __repeated USING ({key}) "
        f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY {order}) = 1)"
    )


def merge_kind(con, kind: str, drop_id: int, count) -> None:
    good = f"(SELECT * FROM __conv_{kind} WHERE __reason IS NULL)"
    if kind in EVENT_KEY_PARTS:
        key_expr = event_key_sql(kind)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE __new_{kind} AS "
            + _first_per_key(f"SELECT {key_expr} AS event_key, * FROM {good}", "event_key", "__file, __line")
        )
        lo, hi = con.execute(f"SELECT min(ts), max(ts) FROM __new_{kind}").fetchone()
        inserted = db.run(con, f"ingest/merge_{kind}", drop_id=drop_id, lo=lo, hi=hi).fetchone()[0]
    elif kind == "sends":
        rank = f"CASE WHEN status IN {tuple(SETTLED_STATUSES)} THEN 2 ELSE 1 END"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE __new_{kind} AS "
            + _first_per_key(
                f"SELECT * REPLACE (coalesce(status, 'delivered') AS status) FROM {good}",
                "message_id", f"{rank} DESC, __file, __line",
            )
        )
        updated = db.run(con, "ingest/update_sends_status", drop_id=drop_id).fetchone()[0]
        inserted = db.run(con, "ingest/merge_sends", drop_id=drop_id).fetchone()[0]
        count.updated += updated
    elif kind == "campaigns":
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE __new_{kind} AS "
            + _first_per_key(f"SELECT * FROM {good}", "campaign_id", "__file, __line")
        )
        inserted = db.run(con, "ingest/merge_campaigns", drop_id=drop_id).fetchone()[0]
    elif kind == "orders":
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE __new_{kind} AS "
            + _first_per_key(f"SELECT * FROM {good}", "account_id, order_id", "__file, __line")
        )
        inserted = db.run(con, "ingest/merge_orders", drop_id=drop_id).fetchone()[0]
    else:  # pragma: no cover - every kind is handled above
        raise AssertionError(kind)
    count.loaded += inserted
    good_rows = con.execute(f"SELECT count(*) FROM __conv_{kind} WHERE __reason IS NULL").fetchone()[0]
    count.duplicates += good_rows - inserted - (count.updated if kind == "sends" else 0)
    con.execute(f"DROP TABLE IF EXISTS __new_{kind}")
    drop_relation(con, f"__conv_{kind}")


def drop_relation(con, name: str) -> None:
    """Drop a temporary table or view (``__conv_<kind>`` is either)."""
    found = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = $n", {"n": name}
    ).fetchone()
    if found:
        con.execute(f"DROP {'VIEW' if found[0] == 'VIEW' else 'TABLE'} {name}")
