"""Every estimator of the project, run on one ingested simulated database, set beside its truth.

``estimate_cells(db_path, truth, truth_machine_events)`` returns the cells (``compare.CELL_COLUMNS``
without world and seed) of one run:

- hidden-images, per provider: ``image_blocked_share`` and ``est_read_rate`` with their 95 % intervals
  and ``estimate_status``; truth: the world's ``image_blocked_share`` and ``measurable_read_rate`` (the
  share of readers whose pixel never loaded, and the read rate, among delivered messages without a
  true machine open: what the estimator targets);
- engagement-by-age, per age year: ``est_read_rate`` against the true ``measurable_read_rate``;
- classification: precision and recall of the machine and human labels, opens and clicks, from the
  event_ids of ``truth_machine_events.csv.gz`` (SQL: sql/accuracy/classification_confusion.sql);
- gift-campaigns, per campaign (cell: its ordinal in the period, "gift 1" the first sent):
  ``reregistered``, ``removed_from_source`` (counts), ``buyer_rate_90d`` and ``control_buyer_rate_90d``
  (with intervals). These rows carry no estimate_status; their status is ``is_immature`` (90-day
  windows run past the data), ``small_cell_buyers`` or ``none``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dlvstats import db
from dlvstats.accuracy.compare import NO_STATUS
from dlvstats.metrics.engagement import engagement_by_age
from dlvstats.metrics.gift import gift_campaigns
from dlvstats.metrics.hidden_images import hidden_images


def _truth_tables(truth: dict) -> tuple[dict, dict]:
    """Per provider and per age year truth: the world's own section when simulated with a world."""
    world = truth.get("world")
    if world:
        return world["by_provider"], world["by_age_year"]
    return truth["providers"], truth["read_rate_by_age_year"]


def _value(d: dict | None, key: str) -> float:
    v = None if d is None else d.get(key)
    return np.nan if v is None else float(v)


def _hidden_images_cells(db_path, period, by_provider: dict) -> list[dict]:
    hi = hidden_images(db_path, *period)
    rows = []
    for r in hi.itertuples(index=False):
        t = by_provider.get(r.provider)
        for quantity, truth_key in (("image_blocked_share", "image_blocked_share"),
                                    ("est_read_rate", "measurable_read_rate")):
            rows.append({"table": "hidden-images", "quantity": quantity, "cell": r.provider,
                         "delivered": int(r.delivered), "truth": _value(t, truth_key),
                         "estimate": float(getattr(r, quantity)), "low": float(getattr(r, f"{quantity}_low")),
                         "high": float(getattr(r, f"{quantity}_high")), "status": r.estimate_status})
    return rows


def _age_cells(db_path, period, by_age: dict) -> list[dict]:
    ages = engagement_by_age(db_path, *period)
    return [{"table": "engagement-by-age", "quantity": "est_read_rate", "cell": f"{int(r.age_years):02d}",
             "delivered": int(r.delivered), "truth": _value(by_age.get(str(int(r.age_years))), "measurable_read_rate"),
             "estimate": float(r.est_read_rate), "low": float(r.est_read_rate_low),
             "high": float(r.est_read_rate_high), "status": r.estimate_status}
            for r in ages.itertuples(index=False)]


def _classification_cells(db_path, truth_machine_events) -> list[dict]:
    con = db.connect(db_path, read_only=True)
    try:
        rows = con.execute(db.sql_text("accuracy/classification_confusion"),
                           {"truth_file": str(truth_machine_events)}).fetchall()
    finally:
        con.close()
    counts = {(k, bool(t), bool(m)): n for k, t, m, n in rows}
    out = []
    for kind in ("opens", "clicks"):
        tp, fp = counts.get((kind, True, True), 0), counts.get((kind, False, True), 0)
        fn, tn = counts.get((kind, True, False), 0), counts.get((kind, False, False), 0)
        parts = {"machine_precision": (tp, tp + fp), "machine_recall": (tp, tp + fn),
                 "human_precision": (tn, tn + fn), "human_recall": (tn, tn + fp)}
        for quantity, (num, den) in parts.items():
            out.append({"table": "classification", "quantity": quantity, "cell": kind, "delivered": den,
                        "truth": 1.0, "estimate": num / den if den else np.nan, "low": np.nan, "high": np.nan,
                        "status": NO_STATUS})
    return out


def _gift_cells(db_path, period, gifts_truth: dict) -> list[dict]:
    gifts = gift_campaigns(db_path, *period).sort_values(["sent_at", "campaign_id"])
    out = []
    for i, r in enumerate(gifts.itertuples(index=False), start=1):
        t = gifts_truth.get(r.campaign_id)
        status = "is_immature" if r.is_immature else "small_cell_buyers" if r.small_cell_buyers else NO_STATUS
        for quantity in ("reregistered", "removed_from_source"):
            out.append({"table": "gift-campaigns", "quantity": quantity, "cell": f"gift {i}",
                        "delivered": int(r.delivered), "truth": _value(t, quantity),
                        "estimate": float(getattr(r, quantity)), "low": np.nan, "high": np.nan, "status": status})
        for quantity in ("buyer_rate_90d", "control_buyer_rate_90d"):
            out.append({"table": "gift-campaigns", "quantity": quantity, "cell": f"gift {i}",
                        "delivered": int(r.delivered), "truth": _value(t, quantity),
                        "estimate": float(getattr(r, quantity)), "low": float(getattr(r, f"{quantity}_low")),
                        "high": float(getattr(r, f"{quantity}_high")), "status": status})
    return out


def estimate_cells(db_path, truth: dict, truth_machine_events) -> pd.DataFrame:
    """The cells of one ingested simulation (period: the truth's whole simulated period)."""
    period = (truth["period"]["start"][:10], truth["period"]["end"][:10])
    by_provider, by_age = _truth_tables(truth)
    rows = (_hidden_images_cells(db_path, period, by_provider) + _age_cells(db_path, period, by_age)
            + _classification_cells(db_path, truth_machine_events)
            + _gift_cells(db_path, period, truth.get("gift_campaigns", {})))
    return pd.DataFrame(rows)
