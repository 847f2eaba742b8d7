"""Mailbox providers' own signals beside dlvstats' figures, and the blocklist culprit ranking.

* ``gmail_spam_rate``: Google Postmaster Tools' spam rate per domain and day beside dlvstats'
  complaint rate (Gmail sends no per-message feedback loop: its figure is the complaints dlvstats
  cannot see);
* ``snds_ip_timeline``: Microsoft SNDS's filter colour, complaint rate and trap hits per IP and day,
  beside dlvstats' sends, complaint rate and the IP's blocklist listings;
* ``blocklist_culprits``: for each listing in the period, the accounts that sent from the target in
  the days before it, ranked (most complaints, then hard bounces, then volume).

Every rate comes with its count and a 95% Wilson interval; ``small_cell`` flags cells under the
minimum volume. A missing provider figure stays missing (NULL), never 0.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dlvstats import db
from dlvstats.config import MIN_CELL_DELIVERED
from dlvstats.metrics.common import Period, finish_rates, readonly, relation


def gmail_spam_rate(db_path: str | Path, date_from, date_to, account_id: str | None = None, *,
                    min_delivered: int = MIN_CELL_DELIVERED) -> pd.DataFrame:
    """One row per domain and day: ``gpt_spam_rate`` (NULL = no Postmaster figure), ``sends``,
    ``gmail_delivered``, ``complaint_rate`` with ``_low``/``_high`` and its count, ``small_cell``."""
    period = Period.parse(date_from, date_to)
    with readonly(db_path) as con:
        frame = db.query_df(con, "metrics/gmail_spam_rate", account_id=account_id, **period.params())
    frame["complaints"] = frame["complaint_rate__num"]
    frame["delivered"] = frame["complaint_rate__den"]
    return finish_rates(frame, ["complaint_rate"], min_delivered=min_delivered)


def snds_ip_timeline(db_path: str | Path, date_from, date_to, account_id: str | None = None, *,
                     min_delivered: int = MIN_CELL_DELIVERED) -> pd.DataFrame:
    """One row per IP and day: SNDS's ``snds_filter``, ``snds_complaint_rate`` (+ its text),
    ``snds_trap_hits`` beside dlvstats' ``sends``, ``complaint_rate`` and ``listed_on``."""
    period = Period.parse(date_from, date_to)
    with readonly(db_path) as con:
        relation(con, "relations/blocklist_periods")
        frame = db.query_df(con, "metrics/snds_ip_timeline", account_id=account_id, **period.params())
    frame["complaints"] = frame["complaint_rate__num"]
    frame["delivered"] = frame["complaint_rate__den"]
    return finish_rates(frame, ["complaint_rate"], min_delivered=min_delivered)


def blocklist_culprits(db_path: str | Path, date_from, date_to, account_id: str | None = None, *,
                       days_before: int = 14, min_delivered: int = MIN_CELL_DELIVERED) -> pd.DataFrame:
    """One row per listing in the period and account that sent from the target in the
    ``days_before`` days before it: ``sends``, ``share_of_target_sends``, ``hard_bounces``,
    ``complaints``, ``complaint_rate`` (+ interval), ``rank`` (NULL in an account's own view)."""
    period = Period.parse(date_from, date_to)
    with readonly(db_path) as con:
        relation(con, "relations/blocklist_periods")
        frame = db.query_df(con, "metrics/blocklist_culprits", account_id=account_id,
                            days_before=int(days_before), **period.params())
    frame["complaints"] = frame["complaint_rate__num"]
    frame["delivered"] = frame["complaint_rate__den"]
    return finish_rates(frame, ["complaint_rate"], min_delivered=min_delivered)


def blocklist_status(db_path: str | Path, date_from, date_to, account_id: str | None = None) -> pd.DataFrame:
    """The DNS blocklists' answer at the latest ``dlvstats blocklists check``, per target and list
    (``status`` listed | not_listed | unknown, ``checked_at``, ``listed_since``, ``answers_unknown``).

    Not cut by the period: it is the state when the check ran (a database never checked gives no
    rows, which the report says in words, never as "not listed"). With ``account_id``, only the
    targets that account sent from in the period."""
    period = Period.parse(date_from, date_to)
    with readonly(db_path) as con:
        relation(con, "relations/blocklist_periods")
        return db.query_df(con, "metrics/blocklist_status", account_id=account_id, **period.params())
