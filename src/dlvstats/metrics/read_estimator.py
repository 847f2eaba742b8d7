"""The read estimator's shared math: partial pooling of the image-blocked shares, the sensitivity band
for the equal-clicking assumption, and the ``estimate_status`` vocabulary.

Pure numpy/pandas on small per-provider (or per-age) arrays; no database access. Used by
``hidden_images`` (per provider) and ``engagement`` (per age), which therefore share one definition.

Partial pooling (empirical Bayes, DerSimonian-Laird moments): each provider's share s_i with sampling
variance v_i (clustered by person, floored at the binomial variance at the overall share, so a small
cell with no blocked clicker is not taken as exact) is shrunk toward the precision-weighted overall
share m by B_i = v_i / (v_i + tau^2), tau^2 being the between-provider variance of the true shares:
s_i* = (1 - B_i) s_i + B_i m, with variance (1 - B_i) v_i + B_i^2 var(m). A provider with many
clickers keeps its own share; one with few moves toward the overall share by as much as its noise
warrants, never to another provider's share.

Sensitivity band: if blocked readers click ``r`` times as often as readers who load images, the share
of blocked readers among readers is b(r) = s / (s + r (1 - s)) where s is the share among clickers
(r = 1: the estimator). The band reports est_read_rate for r in [0.6, 1.5].
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dlvstats.metrics.common import finish_rates

#: The statuses an estimate row can carry, from best to worst; ``ok`` is a promise of accuracy.
STATUSES = ("ok", "imprecise", "assumption_violated", "unmeasurable", "insufficient_data")
#: How much more (or less) often blocked readers may click than others, for the sensitivity band.
CLICK_RATIO_LOW, CLICK_RATIO_HIGH = 0.6, 1.5
#: Accuracy promised by estimate_status 'ok' for a provider (half-width of the 95 % interval at most this).
OK_SHARE_HALFWIDTH = 0.04
OK_READ_RATE_HALFWIDTH = 0.03


def shrink_shares(num, den, var, usable) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Empirical-Bayes shrinkage of shares num/den (sampling variances ``var``) toward their overall mean.

    ``usable``: boolean mask of the rows that have a share and take part (others get NaN). Returns
    (shrunk shares, their variances, B = the weight of the overall mean in each, the overall mean).
    """
    num, den, var = (np.asarray(a, dtype=float) for a in (num, den, var))
    usable = np.asarray(usable, dtype=bool) & (den > 0)
    shrunk = np.full(num.shape, np.nan)
    var_out = np.full(num.shape, np.nan)
    weight_mean = np.full(num.shape, np.nan)
    if not usable.any():
        return shrunk, var_out, weight_mean, float("nan")
    s = num[usable] / den[usable]
    overall = num[usable].sum() / den[usable].sum()
    floor = max(overall * (1 - overall), 1e-4) / den[usable]
    v = np.maximum(np.nan_to_num(var[usable], nan=0.0), floor)
    w = 1 / v
    mean = float((w * s).sum() / w.sum())
    k = int(usable.sum())
    if k < 2:
        tau2 = np.inf
    else:
        q = float((w * (s - mean) ** 2).sum())
        tau2 = max(0.0, (q - (k - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    # the overall mean with tau^2 included (random-effects weights)
    w_re = 1 / (v + tau2) if np.isfinite(tau2) else np.ones_like(v)
    mean_re = float((w_re * s).sum() / w_re.sum())
    var_mean = float(1 / w_re.sum()) if np.isfinite(tau2) else 0.0
    b = v / (v + tau2) if np.isfinite(tau2) else np.zeros_like(v)
    shrunk[usable] = (1 - b) * s + b * mean_re
    var_out[usable] = (1 - b) * v + b**2 * var_mean
    weight_mean[usable] = b
    return shrunk, var_out, weight_mean, mean_re


def blocked_share_at_ratio(share, ratio: float):
    """The blocked share among readers if blocked readers click ``ratio`` times as often as others."""
    share = np.asarray(share, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return share / (share + ratio * (1 - share))


def read_rate_band(open_rate, share) -> tuple[np.ndarray, np.ndarray]:
    """est_read_rate when blocked readers click 1.5x (low) and 0.6x (high) as often as the others."""
    open_rate = np.asarray(open_rate, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = open_rate / (1 - blocked_share_at_ratio(share, CLICK_RATIO_HIGH))
        high = open_rate / (1 - blocked_share_at_ratio(share, CLICK_RATIO_LOW))
    return np.clip(low, 0, 1), np.clip(high, 0, 1)


def age_tolerance(est_read_rate):
    """The accuracy promised by ``ok`` for a per-age read rate: min(0.03, max(0.01, 0.2 x rate))."""
    return np.minimum(0.03, np.maximum(0.01, 0.2 * np.asarray(est_read_rate, dtype=float)))


#: Above this share of sends whose age is only a lower bound, an age row cannot be trusted. The
#: bias is about share x (read rate at this age - read rate of the older addresses mixed in);
#: read rates fall from ~0.35 at age 0 to ~0.05 at 8+ years, so a 0.03 tolerance allows ~0.1.
#: (At 0.5, an old list imported without collected_at, 37% of age 0, read 0.23 against 0.33, ok.)
MAX_LOWER_BOUND_SHARE = 0.1
#: Above this share of openers on providers without a share of their own, a read rate is not ok.
MAX_BORROWED_OPENER_SHARE = 0.1


def hidden_age_bound(ages, measurable, lb_measurable, lb_readers, est_read_rate):
    """How far an age row's read rate may be from that of every address truly of this age.

    An address whose age is only a lower bound (an import, re-registration or first-send date; age
    unknown: any age) sits at its apparent age, yet may truly be any older age: a row at age A may be
    missing the lower-bound addresses of apparent age <= A found in other rows (an old list imported
    without collected_at is age 0 here, 11 in truth). At worst all of them are of age A: the missing
    share is at most m = L / (L + N), L their measurable messages, N the row's; they read r = their
    est_readers / L (assumed alike whatever their true age), so the rate of the whole age could differ
    by up to m x |r - est_read_rate|. One value per row (rows may repeat an age: the split by bound).
    Returns (m, r, that bound) as arrays; NaN where the row has no age or nothing may be missing.
    """
    ages = np.asarray(ages, dtype=float)
    measurable, lb_measurable, lb_readers, est = (np.nan_to_num(np.asarray(a, dtype=float)) for a in
                                                  (measurable, lb_measurable, lb_readers, est_read_rate))
    dated = ~np.isnan(ages)
    unknown_l, unknown_r = lb_measurable[~dated].sum(), lb_readers[~dated].sum()
    order = np.unique(ages[dated])
    per_age_l = np.array([lb_measurable[ages == a].sum() for a in order])
    per_age_r = np.array([lb_readers[ages == a].sum() for a in order])
    cum_l, cum_r = unknown_l + np.cumsum(per_age_l), unknown_r + np.cumsum(per_age_r)
    m, r, bound = (np.full(ages.shape, np.nan) for _ in range(3))
    idx = np.searchsorted(order, ages[dated])
    other_l = cum_l[idx] - lb_measurable[dated]  # the row's own lower-bound sends are in it already
    other_r = cum_r[idx] - lb_readers[dated]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(other_l > 0, other_l / (other_l + measurable[dated]), np.nan)
        rate = np.where(other_l > 0, other_r / other_l, np.nan)
    m[dated], r[dated] = share, rate
    bound[dated] = share * np.abs(rate - est[dated])
    return m, r, bound


#: Words of the status_reason of an age row that may miss lower-bound-age addresses (summary.conclusions).
HIDDEN_AGE_REASON = "of the addresses of this age may be missing from it"


def age_status(df) -> tuple[list[str], list[str]]:
    """estimate_status and status_reason of each per-age (or other engagement) row.

    Needs est_read_rate (+ _low/_high), measurable_delivered, small_cell, age_is_lower_bound_share and
    borrowed_opener_share; per age also hidden_age_share, hidden_age_read_rate and hidden_age_bias
    (``hidden_age_bound``: a row whose missing lower-bound addresses could move its rate by more than
    the tolerance is ``imprecise``). One row per age: a handful of rows.
    """
    status, reason = [], []
    for row in df.itertuples(index=False):
        est, borrowed = row.est_read_rate, row.borrowed_opener_share
        note = ""
        if not math.isnan(borrowed) and borrowed > 0:
            note = (f"; {borrowed:.0%} of its human openers are on providers without a blocked share of their "
                    "own, which take the overall share")
        halfwidth = (row.est_read_rate_high - row.est_read_rate_low) / 2
        tolerance = 0.0 if math.isnan(est) else float(age_tolerance(est))
        if not row.measurable_delivered or math.isnan(est):
            status.append("unmeasurable")
            reason.append("no delivered message without a machine open: Apple MPP prefetches hide every reader")
            continue
        if row.small_cell:
            status.append("insufficient_data")
            reason.append(f"only {int(row.delivered):,} delivered messages: too few for a rate" + note)
        elif row.age_is_lower_bound_share > MAX_LOWER_BOUND_SHARE:
            status.append("insufficient_data")
            reason.append(f"the age of {row.age_is_lower_bound_share:.0%} of these sends rests only on an import, "
                          "re-registration or first-send date (no collected_at given): the addresses may be "
                          "older than this age" + note)
        elif getattr(row, "hidden_age_bias", 0.0) > tolerance:
            status.append("imprecise")
            reason.append(f"up to {row.hidden_age_share:.0%} {HIDDEN_AGE_REASON}: "
                          "sends of this age or younger whose age is only a lower bound (no collected_at) may truly "
                          f"be this old, and they read {row.hidden_age_read_rate:.3f}: the rate of every address of "
                          f"this age could differ by up to {row.hidden_age_bias:.3f}, more than the "
                          f"+-{tolerance:.3f} an ok estimate promises" + note)
        elif borrowed > MAX_BORROWED_OPENER_SHARE:
            status.append("imprecise")
            reason.append("too many openers take another share than their provider's own" + note)
        elif not halfwidth <= tolerance:
            status.append("imprecise")
            reason.append(f"the read rate is known to +-{halfwidth:.3f}, more than the +-{tolerance:.3f} an ok "
                          "estimate promises" + note)
        else:
            status.append("ok")
            reason.append(f"within +-{halfwidth:.3f}; assumes blocked readers click as often as others (see "
                          "est_read_rate_band_low/high for 0.6x-1.5x)" + note)
    return status, reason


def provider_status(df: pd.DataFrame, machine, no_clicker, pull, overall: float, min_clickers: int):
    """estimate_status and status_reason per provider (read_estimator.STATUSES)."""
    status, reason = [], []
    share_hw = ((df["image_blocked_share_high"] - df["image_blocked_share_low"]) / 2).to_numpy(float)
    rate_hw = ((df["est_read_rate_high"] - df["est_read_rate_low"]) / 2).to_numpy(float)
    for i in range(len(df)):  # one row per provider: a handful of rows
        clickers = int(df["measurable_human_clickers"].iat[i])
        if machine.iat[i]:
            status.append("unmeasurable")
            reason.append(df["note"].iat[i])
        elif clickers == 0:
            status.append("insufficient_data")
            reason.append("no human clicker on messages without a machine open, so no blocked share of its own; "
                          f"read rates by age use the overall share ({overall:.1%}) for its openers")
        elif no_clicker.iat[i] or clickers < min_clickers or df["small_cell"].iat[i]:
            status.append("insufficient_data")
            reason.append(f"only {clickers:,} human clickers ({int(df['delivered'].iat[i]):,} delivered): its own "
                          f"share is fragile; its provider share is {pull[i]:.0%} the overall share "
                          f"({overall:.1%}) and {1 - pull[i]:.0%} its own, and each device's share leans on it "
                          f"(effective share used {df['image_blocked_share_used'].iat[i]:.1%})")
        elif not (share_hw[i] <= OK_SHARE_HALFWIDTH and rate_hw[i] <= OK_READ_RATE_HALFWIDTH):
            status.append("imprecise")
            reason.append(f"{clickers:,} human clickers give the blocked share to +-{share_hw[i]:.3f} and the read "
                          f"rate to +-{rate_hw[i]:.3f} (ok needs +-{OK_SHARE_HALFWIDTH} and "
                          f"+-{OK_READ_RATE_HALFWIDTH}); the share used is pulled {pull[i]:.0%} toward the "
                          f"overall share ({overall:.1%})")
        else:
            status.append("ok")
            reason.append(f"{clickers:,} human clickers; assumes blocked readers click as often as others "
                          "(see est_read_rate_band_low/high for 0.6x-1.5x)")
    return status, reason


#: Clean evidence against the assumption: a group of proven readers at least this many, whose share
#: without an open differs from the clickers' by at least this much, outside its 95 % interval.
CHECK_MIN_READERS = 30
CHECK_MIN_DIFFERENCE = 0.10


#: The click-ratio check (sql/metrics/hidden_images_click_check.sql): clean evidence that readers whose
#: images stay off click more (or less) often than the others is a ratio of click-to-open rates whose
#: 99 % interval excludes 1 (z below) and whose point is at least this far from 1 (ratio or its inverse).
#: 99 %, not 95 %: the check is run on every period, and a false alarm takes ``ok`` from right estimates.
CLICK_CHECK_Z = 2.576
CLICK_CHECK_MIN_RATIO = 1.2


@dataclass
class ClickCheck:
    """The pooled click-ratio check: ratio (with its 99 % interval), the people it rests on, verdict."""

    ratio: float
    low: float
    high: float
    blocked_people: int
    violated: bool
    text: str


def click_ratio_check(raw: pd.DataFrame) -> ClickCheck:
    """Pool hidden_images_click_check rows over the estimator's strata: R = open clicks of the 'proven
    blocked' people / what they would make at their stratum's click-to-open rate of the other people
    (indirect standardisation, so a stratum with few people adds little). var(log R) = the
    person-clustered variance of that ratio / R^2 + the variance of each stratum's reference rate,
    weighted by the stratum's share of the expected clicks."""
    keys = ["provider", "device"]
    cols = ["people", "opens", "open_clicks", "y2", "yn", "n2"]
    if raw.empty:
        raw = pd.DataFrame(columns=[*keys, "proven_blocked", *cols])
    flag = raw["proven_blocked"].astype(bool)
    b = raw[flag].groupby(keys, as_index=False)[cols].sum()
    m = raw[~flag].groupby(keys, as_index=False)[cols].sum()
    both = b.merge(m, on=keys, suffixes=("_b", "_m"))
    both = both[(both["open_clicks_m"] > 0) & (both["opens_b"] > 0)]
    people = int(both["people_b"].sum()) if len(both) else 0
    y = float(both["open_clicks_b"].sum()) if len(both) else 0.0
    if people < CHECK_MIN_READERS or y < 10:
        return ClickCheck(np.nan, np.nan, np.nan, people, False,
                          f"no click-ratio check: {people:,} people proven to read with images off, too few")
    c = (both["open_clicks_m"] / both["opens_m"]).to_numpy(float)
    e_k = c * both["opens_b"].to_numpy(float)
    e = e_k.sum()
    ratio = y / e
    k_b = float(people)
    ss = (both["y2_b"] - 2 * ratio * c * both["yn_b"] + ratio**2 * c**2 * both["n2_b"]).sum()
    var_ratio = max(float(ss), 0.0) / e**2 * k_b / max(k_b - 1, 1)
    k_m = both["people_m"].to_numpy(float)
    ss_m = (both["y2_m"] - 2 * c * both["yn_m"] + c**2 * both["n2_m"]).to_numpy(float)
    var_c = np.maximum(ss_m, 0) / both["opens_m"].to_numpy(float) ** 2 * k_m / np.maximum(k_m - 1, 1)
    var_log = var_ratio / ratio**2 + float(((e_k / e) ** 2 * var_c / c**2).sum())
    half = CLICK_CHECK_Z * math.sqrt(var_log)
    low, high = ratio * math.exp(-half), ratio * math.exp(half)
    violated = (low > 1 or high < 1) and max(ratio, 1 / ratio) >= CLICK_CHECK_MIN_RATIO
    text = (f"people proven to read with images off (a click without an open) click {ratio:.2f}x as often per "
            f"opened message as the others of their provider and device (99% {low:.2f}-{high:.2f}, "
            f"{people:,} people)" + (": differs" if violated else ": agrees"))
    return ClickCheck(ratio, low, high, people, violated, text)


def with_assumption_checks(done: pd.DataFrame, checks_raw: pd.DataFrame, min_readers: int,
                           click_check: ClickCheck | None = None) -> pd.DataFrame:
    """``assumption_check`` per provider, and estimate_status 'assumption_violated' on clean evidence.

    Two checks: readers whose only click is an unsubscribe (do they show the clickers' share without an
    open? per provider, rarely enough readers to see a 1.5x click ratio), and ``click_check`` (pooled over
    the strata: do people proven to read with images off click as often as the others? see
    ``click_ratio_check``). When the pooled check fails, every provider with a share of its own is
    assumption_violated and its image_blocked_share and est_read_rate intervals span the click ratios
    the check leaves open (``widen_for_click_ratio``)."""
    checks = finish_rates(checks_raw, ["share_without_open"], min_delivered=min_readers, volume_column="readers")
    unsub = checks[checks["evidence"] == "unsubscribe click only"].set_index("provider")
    out = done.copy()
    texts, violated = [], []
    for row in out.itertuples(index=False):  # one row per provider
        if row.provider not in unsub.index or math.isnan(row.image_blocked_share):
            texts.append("no check possible: no reader whose only click is an unsubscribe")
            violated.append(False)
            continue
        c = unsub.loc[row.provider]
        differs = not (c.share_without_open_low <= row.image_blocked_share <= c.share_without_open_high)
        clean = (c.readers >= CHECK_MIN_READERS and differs
                 and abs(c.share_without_open - row.image_blocked_share) >= CHECK_MIN_DIFFERENCE)
        texts.append(f"readers whose only click is an unsubscribe: {c.share_without_open:.0%} without an open "
                     f"({int(c.readers):,} readers, 95% {c.share_without_open_low:.0%}-"
                     f"{c.share_without_open_high:.0%}) against {row.image_blocked_share:.0%} of content clickers"
                     + (": differs" if differs else ": agrees"))
        violated.append(clean)
    if click_check is not None:
        texts = [f"{t}; {click_check.text}" for t in texts]
    out["assumption_check"] = texts
    open_status = out["estimate_status"].isin(["ok", "imprecise"]).to_numpy()
    hit = np.array(violated, dtype=bool) & open_status
    out.loc[hit, "status_reason"] = [
        f"the assumption fails on clean evidence ({t}): blocked readers do not click like the others, so "
        "the read rate may lie anywhere in est_read_rate_band_low/high" for t in out.loc[hit, "assumption_check"]]
    out.loc[hit, "estimate_status"] = "assumption_violated"
    if click_check is not None and click_check.violated:
        pooled = open_status & ~hit & out["image_blocked_share"].notna().to_numpy()
        out.loc[pooled, "status_reason"] = (
            f"the assumption fails on clean evidence ({click_check.text}): readers whose images stay off do not "
            "click like the others, so clickers misstate the blocked share; its interval and est_read_rate's "
            "span the click ratios the check leaves open")
        out.loc[pooled, "estimate_status"] = "assumption_violated"
        out = widen_for_click_ratio(out, out["estimate_status"].eq("assumption_violated").to_numpy(), click_check)
    return out


def click_ratio_range(check: ClickCheck) -> tuple[float, float]:
    """The click ratios (blocked readers over the others) a failed check leaves open: from 1 to the far end
    of its interval, and at least to the sensitivity band's end on that side. Not the check's ratio
    alone: it compares proven-blocked people with a mix (blocked people whose pixel loaded at their first
    click are among 'the others'), which dilutes the true ratio toward 1."""
    if check.ratio >= 1:
        return 1.0, max(check.high, CLICK_RATIO_HIGH)
    return min(check.low, CLICK_RATIO_LOW), 1.0


def widen_for_click_ratio(df: pd.DataFrame, rows: np.ndarray, check: ClickCheck) -> pd.DataFrame:
    """image_blocked_share_low/high and est_read_rate_low/high (and hidden_reader_share_of_nonopens') of
    ``rows`` over the click ratios r in ``click_ratio_range``: the share among readers at ratio r is
    b(s, r) = s / (s + r (1 - s)) of the clickers' share s (decreasing in r), and the read rate scales by
    (1 - b_used) / (1 - b(b_used, r)). The interval is the union over r of the sampling intervals: a
    partial-identification interval (Manski), not a wider z."""
    out = df.copy()
    if not rows.any():
        return out
    r_low, r_high = click_ratio_range(check)
    lo, hi = (out.loc[rows, f"image_blocked_share_{e}"].to_numpy(float) for e in ("low", "high"))
    out.loc[rows, "image_blocked_share_low"] = np.minimum(lo, blocked_share_at_ratio(lo, r_high))
    out.loc[rows, "image_blocked_share_high"] = np.maximum(hi, blocked_share_at_ratio(hi, r_low))
    used = np.clip(out.loc[rows, "image_blocked_share_used"].to_numpy(float), 0, 0.99)
    with np.errstate(divide="ignore", invalid="ignore"):
        down = (1 - used) / (1 - blocked_share_at_ratio(used, r_high))
        up = (1 - used) / (1 - blocked_share_at_ratio(used, r_low))
        rate_lo = out.loc[rows, "est_read_rate_low"].to_numpy(float)
        rate_hi = out.loc[rows, "est_read_rate_high"].to_numpy(float)
        out.loc[rows, "est_read_rate_low"] = np.clip(np.fmin(rate_lo, rate_lo * down), 0, 1)
        out.loc[rows, "est_read_rate_high"] = np.clip(np.fmax(rate_hi, rate_hi * up), 0, 1)
        if {"measurable_delivered", "measurable_human_openers"} <= set(out.columns):
            d = out.loc[rows, "measurable_delivered"].to_numpy(float)
            o = out.loc[rows, "measurable_human_openers"].to_numpy(float)
            for suffix in ("_low", "_high"):
                value = out.loc[rows, f"est_read_rate{suffix}"].to_numpy(float)
                out.loc[rows, f"hidden_reader_share_of_nonopens{suffix}"] = np.clip((value * d - o) / (d - o), 0, 1)
    return out


def shrink_within(num, den, var, group, target, usable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shrink cell shares num/den toward their group's ``target`` (the provider's own shrunk share), by
    precision: empirical Bayes with a between-cell variance tau^2 of each group (provider) from
    DerSimonian-Laird moments about the group's precision-weighted mean.

    ``group``: integer group of each cell; ``target``: the share each cell is shrunk toward (per cell);
    ``usable``: cells with clickers. Cells not usable take ``target`` (weight 1). Returns (shrunk shares,
    B = the weight of the target in each cell, tau^2 of each cell's group). tau^2 is the provider's own:
    devices differ within one provider (desktop clients blocking images at Orange) and not at another;
    a provider with one usable cell, or whose cells differ no more than their noise (Q <= df), gets
    tau^2 = 0 and every cell takes its provider's share: nothing tells its devices apart.
    """
    num, den, var, target = (np.asarray(a, dtype=float) for a in (num, den, var, target))
    group = np.asarray(group)
    usable = np.asarray(usable, dtype=bool) & (den > 0)
    out = target.copy()
    pull = np.ones(num.shape)
    tau2_cell = np.zeros(num.shape)
    if not usable.any():
        return out, pull, tau2_cell
    s = num[usable] / den[usable]
    t = np.clip(np.nan_to_num(target[usable], nan=float(num[usable].sum() / den[usable].sum())), 0, 1)
    floor = np.maximum(t * (1 - t), 1e-4) / den[usable]
    v = np.maximum(np.nan_to_num(var[usable], nan=0.0), floor)
    w = 1 / v
    _, inverse = np.unique(group[usable], return_inverse=True)
    sw = np.bincount(inverse, weights=w)
    mu = np.bincount(inverse, weights=w * s) / sw
    q = np.bincount(inverse, weights=w * (s - mu[inverse]) ** 2)
    df = np.bincount(inverse) - 1
    denom = sw - np.bincount(inverse, weights=w**2) / sw
    with np.errstate(divide="ignore", invalid="ignore"):
        tau2 = np.where((df > 0) & (denom > 0), np.maximum(0.0, (q - df) / denom), 0.0)
    tg = tau2[inverse]
    b = np.where(tg > 0, v / (v + tg), 1.0)
    out[usable] = (1 - b) * s + b * t
    pull[usable] = b
    tau2_cell[usable] = tg
    return out, pull, tau2_cell


def poisson_bootstrap_interval(values: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over bootstrap replicates (axis 0), ignoring replicates where it is undefined."""
    tail = (1 - level) / 2 * 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column (no data) stays NaN
        return np.nanpercentile(values, tail, axis=0), np.nanpercentile(values, 100 - tail, axis=0)
