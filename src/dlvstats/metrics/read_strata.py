"""The stratified read estimator: image-blocked shares per provider x reading device, post-stratified
by address age, partially pooled, with intervals from a Poisson bootstrap over people.

Strata (cells) are provider x device, the device being the person's reading device family from their
own user agents (sql/relations/reader_device.sql: mobile, desktop, unknown). Within a cell, the share
of human clickers without a human open estimates the share of the cell's readers whose images stay
off (a two-sample capture-recapture estimate: the pixel and the click are the two captures; it
assumes blocked readers click as often as the others, whose failure is the correlation bias of
capture-recapture). Each cell's share is shrunk toward its provider's (read_estimator.shrink_within),
and each provider's toward the overall share (read_estimator.shrink_shares), by precision: a cell or
a provider with few clickers moves toward its parent by as much as its noise warrants. A provider with
no human clicker at all has no share of its own and takes the overall one (``borrowed``, said in the
status). est_read_rate of a group (an age, a provider) = sum over cells of the group's human openers
in the cell / (1 - the cell's share), / the group's messages without a machine open: each age's
openers are weighted by their own cells' shares (post-stratification by age).

Intervals: the whole estimator (shares, variances of the shrinkage, tau^2, read rates) is recomputed
on each of ``replicates`` Poisson bootstrap replicates (sql/metrics/read_bootstrap.sql: one weight per
person, so clustered by person, with the borrowed and shrunk shares' uncertainty included); the 95 %
interval is the 2.5-97.5 percentile of the replicates. The SQL does the work over messages; this module
handles the small (replicates x cells x ages) array.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dlvstats import db
from dlvstats.metrics.common import relation, wilson
from dlvstats.metrics.read_estimator import (
    CLICK_RATIO_HIGH,
    CLICK_RATIO_LOW,
    blocked_share_at_ratio,
    poisson_bootstrap_interval,
    shrink_shares,
    shrink_within,
)

#: Bootstrap replicates (a percentile interval at 95 % needs a couple of hundred) and their seed.
REPLICATES = 200
SEED = 13
#: A cell with fewer human clickers than this is flagged small (its share leans on its provider's).
MIN_CELL_CLICKERS = 30
#: Below this many human openers a group's percentile bootstrap is not trusted alone (few events make
#: it collapse): its est_read_rate interval also holds the score interval (``_few_openers_interval``).
MIN_BOOTSTRAP_OPENERS = 30
#: A share is never taken above this (a cell whose every clicker lacks an open): 1 / (1 - share) stays finite.
MAX_SHARE = 0.99


@dataclass
class StratifiedRead:
    """The estimator's output: the cells, their read weights, and the read rates by age and provider."""

    cells: pd.DataFrame
    weights: dict[str, float]
    weight_variances: dict[str, float]
    by_age: pd.DataFrame
    by_provider: pd.DataFrame


def _arrays(raw: pd.DataFrame):
    """(cells frame, ages, D, O, C, U) with D... of shape (reps, cells, ages) from read_bootstrap rows."""
    cells = raw.loc[raw["rep"] == 0, ["provider", "device"]].drop_duplicates().sort_values(["provider", "device"])
    cells = cells.reset_index(drop=True)
    cell_of = {(p, d): i for i, (p, d) in enumerate(zip(cells["provider"], cells["device"]))}
    age_codes, ages = pd.factorize(raw["age_years"], sort=True, use_na_sentinel=False)
    reps = int(raw["rep"].max()) + 1
    shape = (reps, len(cells), len(ages))
    idx = (raw["rep"].to_numpy(int), np.array([cell_of[k] for k in zip(raw["provider"], raw["device"])], dtype=int),
           age_codes)
    out = []
    for col in ("d", "o", "c", "u"):
        a = np.zeros(shape)
        np.add.at(a, idx, raw[col].to_numpy(float))
        out.append(a)
    return cells, ages, *out


def _shares(cc, uc, cp, up, group, var_c, var_p, usable_c, usable_p):
    """One replicate: provider shares shrunk toward the overall, cell shares toward their provider's."""
    sp, _, pull_p, mean = shrink_shares(up, cp, var_p, usable_p & (cp > 0))
    mean = mean if np.isfinite(mean) else 0.0
    sp = np.where(np.isnan(sp), mean, sp)
    sc, pull_c, _ = shrink_within(uc, cc, var_c, group, sp[group], usable_c & (cc > 0))
    return np.clip(sc, 0, MAX_SHARE), sp, np.nan_to_num(pull_p, nan=1.0), pull_c, mean


def _cluster_var(m: np.ndarray) -> np.ndarray:
    """Cluster-robust sampling variance of share = num/den from rows (num, den, y2, yn, n2, k)."""
    num, den, y2, yn, n2, k = m.T
    with np.errstate(divide="ignore", invalid="ignore"):
        b = num / den
        return np.maximum(y2 - 2 * b * yn + b**2 * n2, 0) / den**2 * k / np.maximum(k - 1, 1)


def _moments(con, cells: pd.DataFrame, onehot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cell variances, provider variances) of the raw shares, clustered by person, from the data (not
    from the replicates: the shrinkage of every replicate uses these, so rep 0 is the estimate a reader
    can recompute by hand)."""
    m = db.query_df(con, "metrics/read_cell_moments")
    cols = [f"share__{s}" for s in ("num", "den", "y2", "yn", "n2", "k")]
    m = cells.merge(m, on=["provider", "device"], how="left")[cols].fillna(0).to_numpy(float)
    return _cluster_var(m), _cluster_var(onehot.T @ m)


def _rates(o, d, weight):
    """Readers / measurable messages of each group: o, d (reps, cells, groups), weight (reps, cells)."""
    readers = (o * weight[:, :, None]).sum(axis=1)
    den = d.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, readers / den, np.nan), readers


def estimate(con, *, replicates: int = REPLICATES, seed: int = SEED,
             min_cell_clickers: int = MIN_CELL_CLICKERS) -> StratifiedRead:
    """The stratified estimator over __eng_msg on ``con`` (engagement_base.sql must have run)."""
    db.run(con, "metrics/read_cells")
    raw = db.query_df(con, "metrics/read_bootstrap", replicates=int(replicates), seed=int(seed))
    if raw.empty:
        empty = pd.DataFrame()
        return StratifiedRead(empty, {"*": 1.0}, {"*": 0.0}, empty, empty)
    cells, ages, D, O, C, U = _arrays(raw)
    providers, group = np.unique(cells["provider"].to_numpy(), return_inverse=True)
    cc, uc = C.sum(axis=2), U.sum(axis=2)
    onehot = np.eye(len(providers))[group]  # (cells, providers)
    cp, up = cc @ onehot, uc @ onehot
    var_c, var_p = _moments(con, cells, onehot)
    usable_c, usable_p = cc[0] > 0, cp[0] > 0
    reps = cc.shape[0]
    S = np.empty_like(cc)
    SP = np.empty_like(cp)
    for r in range(reps):  # one small array per replicate (cells x providers), never per message
        S[r], SP[r], pull_p, pull_c, mean = _shares(cc[r], uc[r], cp[r], up[r], group, var_c, var_p,
                                                    usable_c, usable_p)
        if r == 0:
            pull_p0, pull_c0, mean0 = pull_p, pull_c, mean
    weight = 1 / (1 - S)
    borrowed_cell = ~usable_p[group]
    cells_out = _cell_table(cells, cc[0], uc[0], S, SP, group, pull_c0, pull_p0, borrowed_cell, min_cell_clickers)
    keys = (cells["provider"] + "|" + cells["device"]).tolist()
    weights = {k: float(w) for k, w, b in zip(keys, weight[0], borrowed_cell) if not b}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        wvar = np.nanvar(weight[1:], axis=0, ddof=1) if reps > 2 else np.zeros(len(keys))
    variances = {k: float(v) for k, v, b in zip(keys, wvar, borrowed_cell) if not b}
    weights["*"] = float(1 / (1 - min(mean0, MAX_SHARE)))
    variances["*"] = float(np.nanmax(wvar)) if len(wvar) and np.isfinite(wvar).any() else 0.0
    by_age = _group_table(O, D, weight, S[0], borrowed_cell, "age_years", list(ages))
    po, pd_ = np.einsum("rca,cp->rcp", O, onehot), np.einsum("rca,cp->rcp", D, onehot)
    by_provider = _group_table(po, pd_, weight, S[0], borrowed_cell, "provider", list(providers))
    return StratifiedRead(cells_out, weights, variances, by_age, by_provider)


def _group_table(o, d, weight, share0, borrowed_cell, name, labels) -> pd.DataFrame:
    """est_read_rate of each group (age or provider) with its bootstrap interval and sensitivity band."""
    rate, readers = _rates(o, d, weight)
    low, high = poisson_bootstrap_interval(np.clip(rate[1:], 0, 1))
    openers = o[0].sum(axis=0)
    small_low, small_high = _few_openers_interval(o, d, weight)
    few = openers < MIN_BOOTSTRAP_OPENERS
    low, high = np.where(few, np.fmin(low, small_low), low), np.where(few, np.fmax(high, small_high), high)
    band = {}
    for label, ratio in (("est_read_rate_band_low", CLICK_RATIO_HIGH), ("est_read_rate_band_high", CLICK_RATIO_LOW)):
        w = 1 / (1 - np.clip(blocked_share_at_ratio(share0, ratio), 0, MAX_SHARE))
        band[label] = _rates(o[:1], d[:1], w[None, :])[0][0]
    with np.errstate(divide="ignore", invalid="ignore"):
        borrowed = np.where(openers > 0, o[0][borrowed_cell].sum(axis=0) / openers, 0.0)
        used = np.where(readers[0] > 0, 1 - openers / readers[0], np.nan)
        used_reps = np.where(readers[1:] > 0, 1 - o[1:].sum(axis=1) / readers[1:], np.nan)
    used_low, used_high = poisson_bootstrap_interval(used_reps)
    return pd.DataFrame({
        name: labels, "measurable_delivered": d[0].sum(axis=0), "measurable_human_openers": openers,
        "est_readers": readers[0], "est_read_rate": rate[0], "est_read_rate_low": np.minimum(low, rate[0]),
        "est_read_rate_high": np.maximum(high, rate[0]), **band, "borrowed_opener_share": borrowed,
        "image_blocked_share_used": used, "image_blocked_share_used_low": used_low,
        "image_blocked_share_used_high": used_high})


def _few_openers_interval(o, d, weight) -> tuple[np.ndarray, np.ndarray]:
    """The read rate's interval when the weights are taken as known: the Wilson score interval of the
    group's measured open rate (openers / measurable messages, at the bootstrap's design effect for
    clustering by person, never below 1), times the group's read weight (est_readers / openers; with no
    opener, its cells' weights averaged over its messages). The percentile bootstrap collapses where a
    group has a handful of openers (an age with 0 openers resamples to [0, 0] while readers behind
    blocked images may be there); the score interval does not. _group_table keeps the union of both for
    groups with fewer than MIN_BOOTSTRAP_OPENERS openers; above, the bootstrap alone (which also carries
    the shares' error)."""
    openers, den = o[0].sum(axis=0), d[0].sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        open_reps = np.where(d[1:].sum(axis=1) > 0, o[1:].sum(axis=1) / d[1:].sum(axis=1), np.nan)
        p = np.where(den > 0, openers / den, np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            var_boot = np.nanvar(open_reps, axis=0, ddof=1) if open_reps.shape[0] > 2 else np.full(p.shape, np.nan)
        design = np.where((p > 0) & (p < 1) & np.isfinite(var_boot), var_boot / (p * (1 - p) / den), 1.0)
        n_eff = den / np.maximum(design, 1.0)
        readers = (o[0] * weight[0][:, None]).sum(axis=0)
        mean_weight = (d[0] * weight[0][:, None]).sum(axis=0) / den
        factor = np.where(openers > 0, readers / openers, mean_weight)
    _, w_low, w_high = wilson(openers / np.maximum(den, 1) * n_eff, n_eff)
    return np.clip(w_low * factor, 0, 1), np.clip(w_high * factor, 0, 1)


def _cell_table(cells, cc, uc, S, SP, group, pull_c, pull_p, borrowed, min_cell_clickers) -> pd.DataFrame:
    """One row per cell: its clickers, raw and used share (with interval) and how it was pooled."""
    out = cells.copy()
    out["measurable_human_clickers"] = cc.astype(np.int64)
    out["measurable_clickers_without_open"] = uc.astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["image_blocked_share"] = np.where(cc > 0, uc / cc, np.nan)
    out["image_blocked_share_used"] = S[0]
    low, high = poisson_bootstrap_interval(S[1:])
    out["image_blocked_share_used_low"], out["image_blocked_share_used_high"] = low, high
    out["provider_share"] = SP[0][group]
    out["weight_of_provider_share"] = pull_c
    out["small_cell"] = cc < min_cell_clickers
    basis = np.where(borrowed, "overall share (the provider has no human clicker)",
                     np.where(cc == 0, "provider share (no clicker on this device)",
                              np.where(pull_c > 0.5, "mostly its provider's share (few clickers)", "own share")))
    out["share_basis"] = basis
    return out


def prepare(con, period, account_id, *, cohort_unit: str = "quarter", attribution_days: int = 7,
            with_recency: bool = True, replicates: int = REPLICATES, seed: int = SEED) -> StratifiedRead:
    """Build __reader_device, __address_age and __eng_msg on ``con`` for ``period`` (a common.Period),
    run the estimator and give every message of __eng_msg its stratum's read weight. The one entry
    point of hidden_images (per provider) and engagement (per age, source, ...): one estimator."""
    relation(con, "relations/reader_device", account_id=account_id, **period.params())
    relation(con, "relations/address_age", account_id=account_id, **period.params())
    db.run(con, "metrics/engagement_base", **period.params(), account_id=account_id,
           weight_providers=["*"], weight_values=[1.0],
           cohort_unit=cohort_unit, attribution_days=attribution_days, with_recency=with_recency)
    read = estimate(con, replicates=replicates, seed=seed)
    apply_weights(con, read)
    return read


def apply_weights(con, read: StratifiedRead) -> None:
    """Set each message's read_weight in __eng_msg to its cell's (providers without a share: '*')."""
    keys = [k for k in read.weights if k != "*"]
    db.run(con, "metrics/read_weights_apply", weight_keys=keys or ["__none__"],
           weight_values=[read.weights[k] for k in keys] or [1.0], default_weight=read.weights["*"])
