"""The decay of engagement with the address's age: an exponential (with or without a plateau) fitted
to a per-age table of ``engagement_by_age`` by weighted least squares, with a parametric bootstrap for
its intervals. Small frames in, a dict out: no database, no events (the fit runs over a dozen cells).

Re-exported by ``dlvstats.metrics.engagement`` (``engagement.fit_decay``), where the notebooks call it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dlvstats.config import MIN_CELL_DELIVERED
from dlvstats.metrics.common import Z95


def _fit_exp(x, y, w, plateau: bool, lambdas):
    """Weighted least squares of y = c + a exp(-lam x) (c = 0 without plateau), profiled over lam."""
    best = (np.inf, np.nan, np.nan, np.nan)
    sw = np.sqrt(w)
    for lam in lambdas:
        e = np.exp(-lam * x)
        design = np.column_stack([np.ones_like(x), e]) if plateau else e[:, None]
        coef, *_ = np.linalg.lstsq(design * sw[:, None], y * sw, rcond=None)
        if plateau and coef[0] < 0:  # the plateau cannot be negative: refit without it
            coef = np.array([0.0, *np.linalg.lstsq((e * sw)[:, None], y * sw, rcond=None)[0]])
        if not plateau:
            coef = np.array([0.0, coef[0]])
        sse = float(np.sum(w * (y - (coef[0] + coef[1] * e)) ** 2))
        if sse < best[0]:
            best = (sse, coef[0], coef[1], lam)
    return best[1], best[2], best[3]


def _halving_time(c, a, lam):
    """Age at which the fitted curve falls to half its value at age 0 (inf if the plateau is above it)."""
    if not (a > 0 and lam > 0) or a <= c:
        return np.inf
    return float(np.log(2 * a / (a - c)) / lam)


def fit_decay(table: pd.DataFrame, rate: str = "est_read_rate", x: str = "age_years", *,
              plateau: bool = True, min_delivered: int = MIN_CELL_DELIVERED, n_boot: int = 400,
              seed: int = 0) -> dict:
    """Fit ``rate`` = plateau + amplitude * exp(-ln2 * t / half_life) over the cells of ``table``.

    ``t`` is ``x`` + 0.5 (the middle of a one-year age cell). Weighted least squares with weights
    1 / se^2 (se from each cell's 95 % interval); cells under ``min_delivered`` are left out. The
    intervals come from a parametric bootstrap over cells (each cell's rate redrawn from its
    interval, ``n_boot`` times). Returns a dict: ``half_life`` (years for the excess over the plateau
    to halve) and ``half_life_low/high``, ``halving_age`` (age at which engagement is half its age-0
    value; inf if it never halves) with its interval, ``plateau``, ``initial`` (value at 0),
    ``cells`` used, and ``curve`` (a DataFrame t, fitted, fitted_low, fitted_high for charts).
    """
    cells = table[(table["delivered"] >= min_delivered) & table[rate].notna() & table[x].notna()].copy()
    if len(cells) < 3:  # nothing to fit: say so rather than stop a notebook or a report
        nan = float("nan")
        return {"rate": rate, "model": "not fitted: fewer than 3 age cells with "
                f"{min_delivered:,}+ delivered", "half_life": nan, "half_life_low": nan, "half_life_high": nan,
                "halving_age": nan, "halving_age_low": nan, "halving_age_high": nan, "plateau": nan,
                "initial": nan, "cells": len(cells),
                "curve": pd.DataFrame(columns=["t", "fitted", "fitted_low", "fitted_high"], dtype=float)}
    t = cells[x].to_numpy(float) + 0.5
    y = cells[rate].to_numpy(float)
    se = ((cells[f"{rate}_high"] - cells[f"{rate}_low"]) / (2 * Z95)).to_numpy(float)
    se = np.where(se > 0, se, np.nanmax(se[se > 0]) if np.any(se > 0) else 1.0)
    w = 1.0 / se**2
    lambdas = np.geomspace(0.005, 5.0, 240)
    c, a, lam = _fit_exp(t, y, w, plateau, lambdas)
    rng = np.random.default_rng(seed)
    grid = np.linspace(0, float(t.max()) + 0.5, 60)
    boots, curves = [], []
    for _ in range(n_boot):
        yb = y + rng.normal(0, se)
        cb, ab, lb = _fit_exp(t, yb, w, plateau, lambdas[::4])
        boots.append((np.log(2) / lb, _halving_time(cb, ab, lb), cb))
        curves.append(cb + ab * np.exp(-lb * grid))
    boots = np.array(boots)
    curves = np.array(curves)

    def ci(values):
        finite = values[np.isfinite(values)]
        if len(finite) < 0.9 * len(values):  # undefined in more than a tenth of the draws
            return (float(np.nanpercentile(finite, 2.5)) if len(finite) else np.nan, np.inf)
        return float(np.percentile(finite, 2.5)), float(np.percentile(finite, 97.5))

    half_low, half_high = ci(boots[:, 0])
    halving_low, halving_high = ci(boots[:, 1])
    curve = pd.DataFrame({"t": grid, "fitted": c + a * np.exp(-lam * grid),
                          "fitted_low": np.percentile(curves, 2.5, axis=0),
                          "fitted_high": np.percentile(curves, 97.5, axis=0)})
    return {
        "rate": rate, "model": "plateau + amplitude * exp(-ln2 t / half_life)" if plateau else "initial * exp(-ln2 t / half_life)",
        "half_life": float(np.log(2) / lam), "half_life_low": half_low, "half_life_high": half_high,
        "halving_age": _halving_time(c, a, lam), "halving_age_low": halving_low, "halving_age_high": halving_high,
        "plateau": float(c), "initial": float(c + a), "cells": len(cells), "curve": curve,
    }


def decay_summary(fit: dict) -> pd.DataFrame:
    """The decay fit as a one-row table (no curve), for display and CSV."""
    return pd.DataFrame([{k: v for k, v in fit.items() if k != "curve"}])
