"""Scoring estimate cells against the truth: tolerances, interval coverage, statuses, "wrong while ok".

A *cell* is one estimate of one run (world x seed): its table (``hidden-images``, ``engagement-by-age``,
``classification``, ``gift-campaigns``), quantity (the column name the project gives it), cell key
(provider, age year, kind, campaign ordinal), the truth, the estimate, its 95 % interval when it has
one, and the ``estimate_status`` the project gave it. Pure pandas on small frames (a few hundred rows).

The tolerances (the accuracy harness's, and the promise ``estimate_status = 'ok'`` makes):

- hidden-images per provider: ``image_blocked_share`` 0.04, ``est_read_rate`` 0.03
  (``read_estimator.OK_SHARE_HALFWIDTH`` / ``OK_READ_RATE_HALFWIDTH``);
- engagement-by-age ``est_read_rate`` per age year: min(0.03, max(0.01, 0.2 x truth)), only for age
  years with 5,000 delivered messages or more (``AGE_MIN_DELIVERED``); smaller ones are shown, unscored;
- classification precision and recall (machine and human, opens and clicks): 0.05 below the truth 1
  (the 0.95 target of tests/test_classification_truth.py);
- gift ``reregistered`` and ``removed_from_source``: exact (0); the buyer rates have no tolerance in
  the issue: shown with their error and coverage, unscored.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dlvstats.metrics.read_estimator import OK_READ_RATE_HALFWIDTH, OK_SHARE_HALFWIDTH, age_tolerance

#: Age years with fewer delivered messages than this carry no tolerance.
AGE_MIN_DELIVERED = 5000
#: Classification scores below 1 - this are off (tests/test_classification_truth.py TARGET = 0.95).
CLASSIFICATION_TOLERANCE = 0.05

CELL_COLUMNS = ["world", "seed", "table", "quantity", "cell", "delivered", "truth", "estimate", "low", "high",
                "status"]

#: Status given to cells of tables that carry no estimate_status (classification, gift campaigns).
NO_STATUS = "none"


def tolerance(table: str, quantity: str, truth, delivered) -> np.ndarray:
    """The tolerance of each cell (NaN: unscored). Vectorised over aligned arrays."""
    truth = np.asarray(truth, dtype=float)
    delivered = np.asarray(delivered, dtype=float)
    out = np.full(truth.shape, np.nan)
    if table == "hidden-images" and quantity == "image_blocked_share":
        out[:] = OK_SHARE_HALFWIDTH
    elif table == "hidden-images" and quantity == "est_read_rate":
        out[:] = OK_READ_RATE_HALFWIDTH
    elif table == "engagement-by-age" and quantity == "est_read_rate":
        big = delivered >= AGE_MIN_DELIVERED
        out[big] = age_tolerance(truth[big])
    elif table == "classification":
        out[:] = CLASSIFICATION_TOLERANCE
    elif table == "gift-campaigns" and quantity in ("reregistered", "removed_from_source"):
        out[:] = 0.0
    return out


def score(cells: pd.DataFrame) -> pd.DataFrame:
    """Adds error, abs_error, tolerance, over_tolerance, covered and wrong_while_ok to the cells.

    A cell without a truth or an estimate (NaN) has NaN error and is never over tolerance: it is
    counted by its status (``unmeasurable``, ``insufficient_data``) instead. ``covered`` is NaN where
    the cell has no interval.
    """
    df = cells.copy()
    df["error"] = df["estimate"] - df["truth"]
    df["abs_error"] = df["error"].abs()
    df["tolerance"] = np.nan
    for (table, quantity), idx in df.groupby(["table", "quantity"]).groups.items():
        df.loc[idx, "tolerance"] = tolerance(table, quantity, df.loc[idx, "truth"], df.loc[idx, "delivered"])
    # a small epsilon: the exact (tolerance 0) counts and float noise on 0.03 boundaries
    df["over_tolerance"] = (df["abs_error"] > df["tolerance"] + 1e-9).fillna(False).astype(bool)
    has_interval = df["low"].notna() & df["high"].notna() & df["truth"].notna()
    covered = (df["low"] - 1e-9 <= df["truth"]) & (df["truth"] <= df["high"] + 1e-9)
    df["covered"] = covered.astype(float).where(has_interval)
    df["wrong_while_ok"] = df["over_tolerance"] & df["status"].eq("ok")
    return df


def _status_counts(statuses: pd.Series) -> str:
    counts = statuses.value_counts()
    return ", ".join(f"{name} {n}" for name, n in counts.items())


def summarise(scored: pd.DataFrame) -> pd.DataFrame:
    """One row per world x table x quantity x cell, over seeds.

    Columns: seeds, delivered (mean), truth (mean), estimate (mean), mean_abs_error, worst_error (the
    signed error of largest magnitude), tolerance (the largest over seeds), over_tolerance (seeds),
    coverage (share of seeds whose interval holds the truth; NaN without intervals), statuses
    ("ok 7, imprecise 3") and wrong_while_ok (seeds).
    """
    keys = ["world", "table", "quantity", "cell"]
    rows = []
    for key, g in scored.groupby(keys, sort=False):
        worst = g["error"].iloc[int(np.nanargmax(g["abs_error"].to_numpy()))] if g["abs_error"].notna().any() \
            else np.nan
        rows.append({
            **dict(zip(keys, key)), "seeds": g["seed"].nunique(), "delivered": g["delivered"].mean(),
            "truth": g["truth"].mean(), "estimate": g["estimate"].mean(),
            "mean_abs_error": g["abs_error"].mean(), "worst_error": worst, "tolerance": g["tolerance"].max(),
            "over_tolerance": int(g["over_tolerance"].sum()), "coverage": g["covered"].mean(),
            "intervals": int(g["covered"].notna().sum()), "statuses": _status_counts(g["status"]),
            "wrong_while_ok": int(g["wrong_while_ok"].sum()),
        })
    return pd.DataFrame(rows)


def world_summary(scored: pd.DataFrame) -> pd.DataFrame:
    """One row per world x table x quantity: worst error (among the scored cells when the quantity has a
    tolerance: a 40-clicker provider's noise is not the estimator's error), coverage pooled over cells
    and seeds, the cells scored, over tolerance, and wrong while ok."""
    rows = []
    for key, g in scored.groupby(["world", "table", "quantity"], sort=False):
        with_error = g[g["abs_error"].notna()]
        if with_error["tolerance"].notna().any():  # the worst among the cells a tolerance applies to
            with_error = with_error[with_error["tolerance"].notna()]
        worst = with_error.loc[with_error["abs_error"].idxmax()] if len(with_error) else None
        rows.append({
            "world": key[0], "table": key[1], "quantity": key[2],
            "worst_error": np.nan if worst is None else worst["error"],
            "worst_cell": "" if worst is None else f"{worst['cell']} (seed {worst['seed']})",
            "coverage": g["covered"].mean(), "intervals": int(g["covered"].notna().sum()),
            "scored": int(g["tolerance"].notna().sum()), "over_tolerance": int(g["over_tolerance"].sum()),
            "ok": int(g["status"].eq("ok").sum()), "wrong_while_ok": int(g["wrong_while_ok"].sum()),
        })
    return pd.DataFrame(rows)


def wrong_while_ok(scored: pd.DataFrame) -> pd.DataFrame:
    """The cells whose estimate is off by more than its tolerance while its status says ``ok``."""
    cols = ["world", "seed", "table", "quantity", "cell", "delivered", "truth", "estimate", "error", "tolerance"]
    return scored.loc[scored["wrong_while_ok"], cols].reset_index(drop=True)
