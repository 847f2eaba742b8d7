"""Make a bigger benchmark database from a simulated one by replicating its months back in time.

    python benchmarks/build_scaled_db.py --source MEM20.duckdb --out MEM60.duckdb --shifts 61,122

The simulator holds every simulated send in memory (about 0.65 GB per million sends), so one
simulation cannot reach the 50M sends of performance goal 4 on a 24 GB machine. This script copies
the source database, then appends, for each shift in days, a copy of every message of the source's
data months moved that many days earlier: sends, opens, clicks, complaints, campaign unsubscribes
and re-registrations, orders and blocklist events of those months, and their message_facts rows.
Ids get a suffix (``~s61``), so copies never collide; recipients, lists and the subscription history
before the data months are shared, as they would be for an ESP mailing the same people every month.
It is a load-shape benchmark, not a realistic history: each copy repeats the source's engagement.
Everything is one SQL statement per table inside DuckDB. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import duckdb

TABLES = {
    # table: (SELECT list for a copy, the time column that decides what is copied)
    "sends": ("message_id || $sfx, sent_at - $shift, account_id, list_id, campaign_id || $sfx, recipient, "
              "recipient_domain, provider, status, delivered_at - $shift, bounce_class, smtp_code, enhanced_status, "
              "bounce_reason, sending_ip, sending_domain, drop_id", "sent_at"),
    "opens": ("md5_number(event_key::VARCHAR || $sfx)::UUID, message_id || $sfx, ts - $shift, user_agent, ip, "
              "event_id || $sfx, is_machine, actor, actor_rule, drop_id", "ts"),
    "clicks": ("md5_number(event_key::VARCHAR || $sfx)::UUID, message_id || $sfx, ts - $shift, url, user_agent, ip, "
               "event_id || $sfx, is_machine, is_unsubscribe_link, actor, actor_rule, drop_id", "ts"),
    "complaints": ("md5_number(event_key::VARCHAR || $sfx)::UUID, ts - $shift, message_id || $sfx, recipient, "
                   "account_id, source, drop_id", "ts"),
    "subscriptions": ("md5_number(event_key::VARCHAR || $sfx)::UUID, ts - $shift, account_id, list_id, recipient, "
                      "action, source, campaign_id || $sfx, collected_at, drop_id", "ts"),
    "orders": ("ts - $shift, account_id, recipient, order_id || $sfx, amount, campaign_id || $sfx, drop_id", "ts"),
    "campaigns": ("campaign_id || $sfx, account_id, list_id, sent_at - $shift, kind, name, subject, drop_id", "sent_at"),
    "blocklists": ("md5_number(event_key::VARCHAR || $sfx)::UUID, ts - $shift, target, blocklist, action, drop_id, "
                   "zone, return_code, meaning", "ts"),
    "message_facts": (
        "message_id || $sfx, account_id, list_id, campaign_id || $sfx, recipient, recipient_domain, provider, "
        "sent_at - $shift, delivered_at - $shift, status, bounce_class, smtp_code, enhanced_status, sending_ip, "
        "sending_domain, is_delivered, is_hard_bounce, is_soft_bounce, open_count, machine_open_count, "
        "human_open_count, has_open, has_machine_open, has_mpp_open, has_human_open, first_human_open_at - $shift, "
        "first_human_open_user_agent, click_count, machine_click_count, human_click_count, has_human_click, "
        "first_human_click_at - $shift, first_human_click_user_agent, has_unsubscribe_click, complained_at - $shift, "
        "complaint_source, has_complaint, unsubscribed_at - $shift, has_unsubscribe", "sent_at"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", required=True, help="a dlvstats database (e.g. the memory step's)")
    parser.add_argument("--out", required=True, help="the bigger database to write")
    parser.add_argument("--shifts", default="61,122", help="days to move each copy back, comma-separated")
    parser.add_argument("--memory-limit", default="4GB")
    parser.add_argument("--no-aggregates", dest="aggregates", action="store_false",
                        help="leave the monthly aggregates as copied (the source's months only)")
    args = parser.parse_args()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    shutil.copyfile(args.source, out)
    con = duckdb.connect(str(out), config={"memory_limit": args.memory_limit, "preserve_insertion_order": "false"})
    data_start = con.execute("SELECT min(sent_at) FROM sends").fetchone()[0]
    print(f"source: {con.execute('SELECT count(*) FROM sends').fetchone()[0]:,} sends from {data_start}")
    for days in (int(d) for d in args.shifts.split(",")):
        params = {"sfx": f"~s{days}", "shift": f"{days} days", "start": data_start}
        for table, (select, time_column) in TABLES.items():
            t0 = time.monotonic()
            # only the source's data months: the lists' subscription history before them is shared,
            # and earlier copies (moved before data_start) are not copied again
            con.execute("BEGIN TRANSACTION")
            n = con.execute(
                f"INSERT INTO {table} SELECT {select.replace('$shift', 'CAST($shift AS INTERVAL)')} "
                f"FROM {table} WHERE {time_column} >= $start",
                params,
            ).fetchone()[0]
            con.execute("COMMIT")
            print(f"  shift {days:>4} d  {table:<14} +{n:>12,}  {time.monotonic() - t0:6.1f} s", flush=True)
    if args.aggregates:
        from dlvstats import aggregates

        t0 = time.monotonic()
        con.execute("BEGIN TRANSACTION")
        aggregates.rebuild(con)  # the copies' months: the aggregates the metrics read
        con.execute("COMMIT")
        print(f"  aggregates rebuilt in {time.monotonic() - t0:.1f} s", flush=True)
    con.execute("CHECKPOINT")
    total = con.execute("SELECT count(*) FROM sends").fetchone()[0]
    months = con.execute("SELECT strftime(sent_at, '%Y-%m') m, count(*) FROM sends GROUP BY 1 ORDER BY 1").fetchall()
    con.close()
    print(f"{out}: {total:,} sends in {time.monotonic() - began:.0f} s; by month: "
          + ", ".join(f"{m} {n / 1e6:.1f}M" for m, n in months))


if __name__ == "__main__":
    main()
