"""relations/address_age: the basis of each address's age on a tiny hand-built drop.

- f1: signed up by form on 2025-03-01 (no campaign), re-registered through gift campaign G1 on
  2025-11-01 -> basis 'subscription' (the first sign-up fixes the age; not a lower bound).
- r1: first subscription is the gift re-registration (campaign G1, source gift) -> 're-registration'.
- c1: gift re-registration with campaign G1 but source form -> 're-registration' (the campaign says it).
- n1: no subscription at all -> 'first_send'.
"""

from __future__ import annotations

from helpers import write_drop
from test_metrics_hidden_images import SEND_COLUMNS, SUB_COLUMNS


def _send(mid, who):
    return [mid, "2026-01-10T09:00:00Z", "A", "L", "C1", who, "delivered", "2026-01-10T09:00:05Z",
            None, None, None]


def test_original_signup_without_campaign_is_not_skipped(tmp_path):
    from dlvstats import db
    from dlvstats.ingest import ingest_paths

    subs = [["2025-03-01T00:00:00Z", "A", "L", "f1@gmail.com", "subscribe", "form", None, None],
            ["2025-11-01T00:00:00Z", "A", "L2", "f1@gmail.com", "subscribe", "gift", "G1", None],
            ["2025-11-01T00:00:00Z", "A", "L2", "r1@gmail.com", "subscribe", "gift", "G1", None],
            ["2025-11-01T00:00:00Z", "A", "L2", "c1@gmail.com", "subscribe", "form", "G1", None]]
    sends = [_send(f"s{i}", who) for i, who in enumerate(["f1@gmail.com", "r1@gmail.com", "c1@gmail.com",
                                                           "n1@gmail.com"])]
    drop = write_drop(tmp_path / "drop", {"sends": (SEND_COLUMNS, sends), "subscriptions": (SUB_COLUMNS, subs)})
    db_path = tmp_path / "a.duckdb"
    ingest_paths(db_path, [drop])
    con = db.connect(db_path, read_only=True)
    try:
        db.run(con, "relations/address_age", account_id=None, date_from=None, date_to=None)
        rows = con.execute("SELECT recipient, age_basis, age_is_lower_bound, acquisition_source, "
                           "CAST(collection_date AS DATE)::VARCHAR FROM __address_age ORDER BY recipient").fetchall()
    finally:
        con.close()
    assert rows == [
        ("c1@gmail.com", "re-registration", True, "form", "2025-11-01"),
        ("f1@gmail.com", "subscription", False, "form", "2025-03-01"),
        ("n1@gmail.com", "first_send", True, "unknown", "2026-01-10"),
        ("r1@gmail.com", "re-registration", True, "gift", "2025-11-01"),
    ]
