"""Hidden images: how many recorded non-opens were readers whose images did not load.

The metric (``hidden_images``, CLI ``hidden-images``) is one row per mailbox provider, pooled over the
period; SQL in ``sql/metrics/hidden_images.sql`` (its header gives every column's numerator and
denominator). Notebook helpers: by clicking device/OS, by mail client of the openers, the
estimator's assumption check, and a plain-words sentence (by address age: ``engagement.hidden_images_by_age``;
this module never imports engagement, which builds on it).

The estimator, among messages without a machine open (an MPP prefetch hides human opens):
``image_blocked_share`` = human clickers without a human open / human clickers, and
``est_read_rate`` = measured open rate / (1 - image_blocked_share). It assumes that people who click
load images like other readers. Providers whose opens are mostly machine (Apple) are flagged
unmeasurable and get no estimate.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from dlvstats import db
from dlvstats.config import MIN_CELL_DELIVERED
from dlvstats.metrics import read_strata
from dlvstats.metrics.cache import db_identity, memo_get, memo_put, shared
from dlvstats.metrics.common import Z95, Period, cluster_rate, finish_rates, over_trailing_months, readonly
from dlvstats.metrics.hidden_images_words import checks_in_plain_words, in_plain_words  # noqa: F401  (hidden_images.in_plain_words in notebooks)
from dlvstats.metrics.read_estimator import (
    click_ratio_check,
    provider_status,
    read_rate_band,
    shrink_shares,
    with_assumption_checks,
)

#: Above this share of opened messages carrying a machine open, a provider's opens are "mostly
#: machine" (Apple: MPP prefetches every message of its users) and no estimate is given. Not 0.5:
#: with MPP users on every provider, about half of all opened messages carry a prefetch (Litmus),
#: yet the other half is measured fine; what makes Apple unmeasurable is that nearly all are.
MAX_MACHINE_OPEN_SHARE = 0.8
#: A blocked share known only to more than +- this (half-width of its 95 % interval, clustered by
#: recipient: blocked reading is a habit of a person) is too imprecise to count as measured.
MAX_BLOCKED_SHARE_HALFWIDTH = 0.03
#: Providers with fewer human clickers than this are flagged small (their share is fragile).
MIN_CLICKERS = 30

PUBLIC_COLUMNS = [
    "provider", "delivered", "machine_open_share", "machine_open_share_low", "machine_open_share_high",
    "measurable_human_openers", "measurable_human_clickers", "measurable_clickers_without_open",
    "image_blocked_share", "image_blocked_share_low", "image_blocked_share_high",
    "measured_open_rate", "measured_open_rate_low", "measured_open_rate_high",
    "est_read_rate", "est_read_rate_low", "est_read_rate_high",
    "hidden_reader_share_of_nonopens", "hidden_reader_share_of_nonopens_low",
    "hidden_reader_share_of_nonopens_high",
    "measurable_delivered", "est_readers", "est_hidden_readers", "is_measurable", "note", "small_cell",
    "est_read_rate_band_low", "est_read_rate_band_high", "image_blocked_share_used", "assumption_check",
    "estimate_status", "status_reason",
]

#: The columns a notebook shows (intervals included).
DISPLAY_COLUMNS = [
    "provider", "delivered", "machine_open_share", "measurable_human_openers", "measurable_human_clickers", "measurable_clickers_without_open",
    "image_blocked_share", "image_blocked_share_low", "image_blocked_share_high",
    "measured_open_rate", "est_read_rate", "est_read_rate_low", "est_read_rate_high",
    "hidden_reader_share_of_nonopens", "is_measurable", "small_cell", "est_read_rate_band_low",
    "est_read_rate_band_high", "estimate_status", "status_reason",
]

_MOMENTS = ["o", "d", "c", "u"]


def _cluster_cov(df: pd.DataFrame) -> np.ndarray:
    """Cluster-robust covariance of the totals (o, d, c, u) per row: k/(k-1) (Σvvᵀ - SSᵀ/k)."""
    sums = df[["measurable_human_openers", "measurable_delivered", "measurable_human_clickers", "measurable_clickers_without_open"]]
    s = sums.to_numpy(dtype=float)
    m = np.empty((len(df), 4, 4))
    for i, a in enumerate(_MOMENTS):
        for j, b in enumerate(_MOMENTS):
            key = f"m_{a}{b}" if f"m_{a}{b}" in df else f"m_{b}{a}"
            m[:, i, j] = df[key].to_numpy(dtype=float)
    k = df["recipients"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = (m - np.einsum("ri,rj->rij", s, s) / k[:, None, None]) * (k / (k - 1))[:, None, None]
    return cov


def _delta_intervals(df: pd.DataFrame) -> pd.DataFrame:
    """Intervals of est_read_rate (log scale) and hidden_reader_share_of_nonopens (delta method)."""
    o, d, c, u = (df[col].to_numpy(dtype=float) for col in
                  ("measurable_human_openers", "measurable_delivered", "measurable_human_clickers", "measurable_clickers_without_open"))
    cov = _cluster_cov(df)
    with np.errstate(divide="ignore", invalid="ignore"):
        cu = c - u
        est = o * c / (d * cu)
        g_est = np.stack([c / (d * cu), -o * c / (d**2 * cu), -o * u / (d * cu**2), o * c / (d * cu**2)], axis=1)
        hid = o * u / (cu * (d - o))
        g_hid = np.stack([u * d / (cu * (d - o) ** 2), -o * u / (cu * (d - o) ** 2),
                          -o * u / (cu**2 * (d - o)), o * c / (cu**2 * (d - o))], axis=1)
        se_est = np.sqrt(np.maximum(np.einsum("ri,rij,rj->r", g_est, cov, g_est), 0))
        se_hid = np.sqrt(np.maximum(np.einsum("ri,rij,rj->r", g_hid, cov, g_hid), 0))
        out = df.copy()
        out["est_read_rate"] = est
        # log scale keeps the interval positive; with no opener at all, fall back to the Wilson upper
        # bound of the measured open rate divided by (1 - blocked share)
        _, _, open_high = cluster_rate(o, d, df["m_oo"], df["m_od"], df["m_dd"], df["recipients"])
        out["est_read_rate_low"] = np.where(est > 0, np.clip(est * np.exp(-Z95 * se_est / est), 0, 1), 0.0)
        out["est_read_rate_high"] = np.where(est > 0, np.clip(est * np.exp(Z95 * se_est / est), 0, 1),
                                             np.clip(open_high * c / cu, 0, 1))
        out["hidden_reader_share_of_nonopens"] = hid
        out["hidden_reader_share_of_nonopens_low"] = np.clip(hid - Z95 * se_hid, 0, 1)
        out["hidden_reader_share_of_nonopens_high"] = np.clip(hid + Z95 * se_hid, 0, 1)
        out["est_readers"] = o * c / cu
        out["est_hidden_readers"] = o * u / cu
    return out


def quiet(con) -> None:
    """No DuckDB progress bar on stderr (logs, CLI tables). In Jupyter without ipywidgets DuckDB refuses
    to change the setting at all; its bar is not drawn there anyway."""
    try:
        con.execute("SET enable_progress_bar = false")
    except duckdb.Error:
        pass


def _database_of(con):
    """The file behind ``con`` (its identity keys the in-process memo), or None for an in-memory one
    (and for a Spark connection: no memo there)."""
    if getattr(con, "engine", "duckdb") != "duckdb":
        return None
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return row[0][0] if row and row[0][0] else None


def _provider_frame(con, period: Period, account_id, max_machine_open_share: float) -> pd.DataFrame:
    """The full per-provider frame, interval inputs included (internal).

    A notebook needs it five times (the provider table, the measurable providers of three helpers,
    the read weights of est_read_rate): it is computed once per process and database state.
    """
    quiet(con)
    path = _database_of(con)
    key = None
    if path:
        key = ("hidden_images_provider_frame", db_identity(path), period.start, period.end, account_id,
               float(max_machine_open_share))
        found = memo_get(key)
        if found is not None:
            return found.copy()
    frame = db.query_df(con, "metrics/hidden_images", **period.params(), account_id=account_id,
                        max_machine_open_share=max_machine_open_share)
    if key is not None:
        memo_put(key, frame.copy())
    return frame


def _finish(raw: pd.DataFrame, min_delivered: int, min_clickers: int,
            max_halfwidth: float = MAX_BLOCKED_SHARE_HALFWIDTH) -> pd.DataFrame:
    """Intervals, then ``is_measurable`` and ``note``.

    Not measurable: opens mostly machine (estimates withheld: they would describe only the few
    readers not behind a prefetch); no human clicker, or none that loaded images (no share); or a
    blocked share whose 95 % interval is wider than +-``max_halfwidth`` (too few clicking people:
    the figures stay in the table, flagged, but are not used as a provider's own weight elsewhere).
    """
    df = _delta_intervals(raw)
    df = finish_rates(df, ["machine_open_share", "image_blocked_share", "measured_open_rate"],
                      min_delivered=min_delivered)
    df["small_cell"] = df["small_cell"] | (df["measurable_human_clickers"] < min_clickers)
    machine = df["opens_mostly_machine"].astype(bool)
    no_share = (df["measurable_human_clickers"] == 0) | (df["measurable_clickers_without_open"] >= df["measurable_human_clickers"])
    halfwidth = (df["image_blocked_share_high"] - df["image_blocked_share_low"]) / 2
    imprecise = ~machine & ~no_share & ~(halfwidth <= max_halfwidth)
    df["is_measurable"] = ~(machine | no_share | imprecise)
    note = pd.Series(pd.NA, index=df.index, dtype="object")
    note[imprecise] = [
        f"imprecise: {int(c):,} human clickers give the blocked share only to +-{h:.3f} (more than "
        f"+-{max_halfwidth:.2f}); shown, not relied on" for c, h in zip(df.loc[imprecise, "measurable_human_clickers"],
                                                                         halfwidth[imprecise])]
    note[no_share] = "unmeasurable: no human clicker that loaded images, so no image-blocked share"
    note[machine] = [
        f"unmeasurable: {m:.0%} of opened messages carry a machine open (Apple MPP prefetch); the readers "
        "behind them are invisible, so no read rate or blocked share is estimated" for m in
        df.loc[machine, "machine_open_share"]]
    df["note"] = note
    blank = [c for c in df.columns if c.startswith(("image_blocked_share", "est_read_rate", "hidden_reader_share",
                                                    "est_readers", "est_hidden_readers"))]
    df.loc[machine | no_share, blank] = np.nan
    df["image_blocked_share_used"], df["image_blocked_share_used_var"], pull, overall = _used_shares(raw, machine)
    df = _apply_used(df)
    used = df["image_blocked_share_used"].to_numpy(float)
    df["est_read_rate_band_low"], df["est_read_rate_band_high"] = read_rate_band(df["measured_open_rate"], used)
    df.loc[machine, ["est_read_rate_band_low", "est_read_rate_band_high"]] = np.nan
    df["estimate_status"], df["status_reason"] = provider_status(df, machine, no_share, pull, overall, min_clickers)
    return df


def _apply_used(df: pd.DataFrame) -> pd.DataFrame:
    """est_read_rate, est_readers, est_hidden_readers and hidden_reader_share_of_nonopens from the share
    used (``image_blocked_share_used``), so the table, the plain-words headline and engagement-by-age
    agree. Interval on the log scale: var(log rate) = var(open rate)/rate^2 + var(share)/(1 - share)^2
    (open rate and share taken as independent: more openers mean fewer clickers without an open, a
    negative covariance, so this errs wide)."""
    out = df.copy()
    o, d = out["measurable_human_openers"].to_numpy(float), out["measurable_delivered"].to_numpy(float)
    b, var_b = out["image_blocked_share_used"].to_numpy(float), out["image_blocked_share_used_var"].to_numpy(float)
    rate, rate_low, rate_high = (out[c].to_numpy(float) for c in
                                 ("measured_open_rate", "measured_open_rate_low", "measured_open_rate_high"))
    with np.errstate(divide="ignore", invalid="ignore"):
        est = rate / (1 - b)
        se_rate = (rate_high - rate_low) / (2 * Z95)
        se_log = np.sqrt((se_rate / rate) ** 2 + var_b / (1 - b) ** 2)
        out["est_read_rate"] = est
        out["est_read_rate_low"] = np.where(est > 0, np.clip(est * np.exp(-Z95 * se_log), 0, 1), 0.0)
        out["est_read_rate_high"] = np.where(est > 0, np.clip(est * np.exp(Z95 * se_log), 0, 1),
                                             np.clip(rate_high / (1 - b), 0, 1))
        out["est_readers"] = o / (1 - b)
        out["est_hidden_readers"] = o * b / (1 - b)
        for suffix, value in (("", est), ("_low", out["est_read_rate_low"]), ("_high", out["est_read_rate_high"])):
            out[f"hidden_reader_share_of_nonopens{suffix}"] = np.clip((value * d - o) / (d - o), 0, 1)
    return out


def _apply_stratified(df: pd.DataFrame, by_provider: pd.DataFrame) -> pd.DataFrame:
    """est_read_rate (with its bootstrap interval), est_readers, est_hidden_readers, the sensitivity band,
    hidden_reader_share_of_nonopens and image_blocked_share_used of each provider from the stratified
    estimator (metrics.read_strata: provider x device cells, partially pooled): the per-age table and
    this one apply the same weights, so the headline, this table and the ages agree. Providers whose
    opens are mostly machine keep no estimate. ``image_blocked_share_used`` is then the provider's
    effective share, 1 - human openers / estimated readers (its cells' shares weighted by their openers).
    """
    out = df.copy()
    strat = by_provider.set_index("provider") if len(by_provider) else pd.DataFrame()
    machine = out["opens_mostly_machine"].astype(bool).to_numpy()
    has = out["provider"].isin(strat.index).to_numpy() & ~machine
    if not has.any():
        return out
    pick = strat.loc[out.loc[has, "provider"]]
    o, d = out.loc[has, "measurable_human_openers"].to_numpy(float), out.loc[has, "measurable_delivered"].to_numpy(float)
    for col in ("est_read_rate", "est_read_rate_low", "est_read_rate_high", "est_read_rate_band_low",
                "est_read_rate_band_high", "est_readers", "image_blocked_share_used"):
        out.loc[has, col] = pick[col].to_numpy(float)
    out.loc[has, "est_hidden_readers"] = pick["est_readers"].to_numpy(float) - o
    with np.errstate(divide="ignore", invalid="ignore"):
        for suffix in ("", "_low", "_high"):
            value = pick[f"est_read_rate{suffix}"].to_numpy(float)
            out.loc[has, f"hidden_reader_share_of_nonopens{suffix}"] = np.clip((value * d - o) / (d - o), 0, 1)
    return out


_SHARE_COLS = [f"image_blocked_share__{s}" for s in ("num", "den", "y2", "yn", "n2", "k")]


def _share_variance(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(num, den, cluster-robust sampling variance) of each row's image-blocked share."""
    num, den, y2, yn, n2, k = (frame[c].to_numpy(dtype=float) for c in _SHARE_COLS)
    with np.errstate(divide="ignore", invalid="ignore"):
        b = num / den
        var_b = np.maximum(y2 - 2 * b * yn + b**2 * n2, 0) / den**2 * k / np.maximum(k - 1, 1)
    return num, den, var_b


def _used_shares(raw: pd.DataFrame, machine) -> tuple:
    """Each provider's share shrunk toward the overall one by its precision (read_estimator.shrink_shares),
    over the providers whose opens are not mostly machine and that have human clickers."""
    num, den, var_b = _share_variance(raw)
    usable = ~np.asarray(machine, dtype=bool) & (den > 0)
    return shrink_shares(num, den, var_b, usable)


@shared
def hidden_images(db_path, date_from, date_to, account_id: str | None = None, *,
                  max_machine_open_share: float = MAX_MACHINE_OPEN_SHARE,
                  max_blocked_share_halfwidth: float = MAX_BLOCKED_SHARE_HALFWIDTH,
                  min_delivered: int = MIN_CELL_DELIVERED, min_clickers: int = MIN_CLICKERS) -> pd.DataFrame:
    """One row per mailbox provider: measured opens, the image-blocked share and the estimated read rate.

    Columns (see sql/metrics/hidden_images.sql for numerators and denominators): ``provider,
    delivered, machine_open_share, measurable_human_openers, measurable_human_clickers, measurable_clickers_without_open,
    image_blocked_share, measured_open_rate, est_read_rate, hidden_reader_share_of_nonopens``, each
    rate with ``_low``/``_high`` (95 %, clustered by recipient), plus ``measurable_delivered``,
    ``est_readers``, ``est_hidden_readers``, ``is_measurable``, ``note`` and ``small_cell`` (fewer than
    ``min_delivered`` delivered or ``min_clickers`` human clickers). Providers whose opens are mostly
    machine (machine_open_share above ``max_machine_open_share``: Apple MPP) keep their counts but
    get no estimate; providers whose blocked share is known only to more than
    +-``max_blocked_share_halfwidth`` keep their figures but are flagged not measurable.
    """
    period = Period.parse(date_from, date_to)
    with readonly(db_path) as con:
        raw = _provider_frame(con, period, account_id, max_machine_open_share)
        done = _finish(raw, min_delivered, min_clickers, max_blocked_share_halfwidth)
        read = read_strata.prepare(con, period, account_id, with_recency=False)
        done = _apply_stratified(done, read.by_provider)
        providers = done.loc[done["image_blocked_share"].notna(), "provider"].tolist() or ["__none__"]
        checks = db.query_df(con, "metrics/hidden_images_checks", **period.params(), account_id=account_id,
                             providers=providers)
        click = click_ratio_check(db.query_df(con, "metrics/hidden_images_click_check", **period.params(),
                                              account_id=account_id))
    return with_assumption_checks(done, checks, min_clickers, click)[PUBLIC_COLUMNS].reset_index(drop=True)


def read_weights(con, period: Period, account_id=None, max_machine_open_share: float = MAX_MACHINE_OPEN_SHARE,
                 max_blocked_share_halfwidth: float = MAX_BLOCKED_SHARE_HALFWIDTH) -> tuple[dict, dict, pd.DataFrame]:
    """Per-provider weights 1 / (1 - b) and their variances, for est_read_rate, b = the provider's
    ``image_blocked_share_used``: its own share shrunk toward the overall share by its precision
    (read_estimator.shrink_shares). Providers without a share of their own (opens mostly machine, no
    human clicker, or absent) use the overall share, under key ``'*'``. Returns (weights, variances,
    the finished provider frame).
    """
    raw = _provider_frame(con, period, account_id, max_machine_open_share)
    done = _finish(raw, MIN_CELL_DELIVERED, MIN_CLICKERS, max_blocked_share_halfwidth)
    has = done["image_blocked_share_used"].notna().to_numpy()
    num, den, var_b = _share_variance(raw)
    overall = float(num[has].sum() / den[has].sum()) if has.any() else 0.0
    _, _, _, mean = shrink_shares(num, den, var_b, has)
    star = mean if np.isfinite(mean) else overall
    b = np.append(done.loc[has, "image_blocked_share_used"].to_numpy(float), star)
    var_star = float(1 / (1 / np.maximum(var_b[has], 1e-12)).sum()) if has.any() else 0.0
    var = np.append(done.loc[has, "image_blocked_share_used_var"].to_numpy(float), var_star)
    providers = done.loc[has, "provider"].tolist() + ["*"]
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = 1.0 / (1.0 - b)
        var_w = var / (1.0 - b) ** 4
    weight = np.where(np.isfinite(weight), weight, 1.0)
    var_w = np.where(np.isfinite(var_w), var_w, 0.0)
    weights = dict(zip(providers, weight.astype(float)))
    variances = dict(zip(providers, var_w.astype(float)))
    return weights, variances, done


def blocked_share_by_stratum(db_path, date_from, date_to, account_id: str | None = None) -> pd.DataFrame:
    """The strata of the read estimator (metrics.read_strata): one row per provider x reading device with
    its human clickers, clickers without an open, own share, the share used (shrunk toward its provider's,
    with its bootstrap interval), the weight of the provider's share in it, ``small_cell`` (fewer than
    30 human clickers) and ``share_basis`` (own, mostly its provider's, its provider's, the overall)."""
    period = Period.parse(date_from, date_to)
    with readonly(db_path) as con:
        quiet(con)
        read = read_strata.prepare(con, period, account_id, with_recency=False)
    return read.cells


def hidden_images_by_device(db_path, date_from, date_to, account_id: str | None = None, *,
                            providers: list[str] | None = None,
                            min_clickers: int = MIN_CLICKERS) -> pd.DataFrame:
    """Image-blocked share by the clicking device and OS (blocked readers show no open user agent).

    ``providers``: restrict to these (default: the measurable providers of the period).
    Columns: device_os, form_factor, measurable_human_clickers, measurable_clickers_without_open, share_of_clickers,
    image_blocked_share (+ interval), small_cell (fewer than ``min_clickers`` clickers).
    """
    period = Period.parse(date_from, date_to)
    with readonly(db_path) as con:
        if providers is None:
            providers = _measurable_providers(con, period, account_id)
        raw = db.query_df(con, "metrics/hidden_images_by_device", **period.params(), account_id=account_id,
                          providers=providers)
    return finish_rates(raw, ["image_blocked_share"], min_delivered=min_clickers, volume_column="measurable_human_clickers")


def opener_clients(db_path, date_from, date_to, account_id: str | None = None, *,
                   providers: list[str] | None = None, min_openers: int = MIN_CLICKERS) -> pd.DataFrame:
    """Mail clients of the human openers (only readers who opened can be broken down; proxies hide it)."""
    period = Period.parse(date_from, date_to)
    with readonly(db_path) as con:
        if providers is None:
            providers = _measurable_providers(con, period, account_id)
        raw = db.query_df(con, "metrics/hidden_images_opener_clients", **period.params(), account_id=account_id,
                          providers=providers)
    return finish_rates(raw, ["share_of_openers"], min_delivered=min_openers, volume_column="measurable_human_openers")


def estimator_checks(db_path, date_from, date_to, account_id: str | None = None, *,
                     providers: list[str] | None = None, min_readers: int = MIN_CLICKERS) -> pd.DataFrame:
    """The assumption behind the estimator (clickers load images like other readers), checked.

    One row per (evidence, provider): the share without a human open among messages proven read by
    a content click (what the estimator uses), by an unsubscribe click only (readers who are not
    engaged clickers), by click delay and by number of clicks. Under the assumption, the shares of
    one provider agree within their intervals; ``differs_from_estimator`` flags rows whose interval
    excludes the estimator's share of the same provider.
    """
    period = Period.parse(date_from, date_to)
    with readonly(db_path) as con:
        if providers is None:
            providers = _measurable_providers(con, period, account_id)
        raw = db.query_df(con, "metrics/hidden_images_checks", **period.params(), account_id=account_id,
                          providers=providers)
    df = finish_rates(raw, ["share_without_open"], min_delivered=min_readers, volume_column="readers")
    ref = df[df["evidence_order"] == 1].set_index("provider")["share_without_open"]
    reference = df["provider"].map(ref)
    df["estimator_share"] = reference
    df["differs_from_estimator"] = (reference < df["share_without_open_low"]) | (reference > df["share_without_open_high"])
    return df.drop(columns=["evidence_order"])


def _measurable_providers(con, period: Period, account_id) -> list[str]:
    """Providers whose opens are not mostly machine (the device, client and check tables use them all:
    pooled over providers, their precision is the pooled one)."""
    raw = _provider_frame(con, period, account_id, MAX_MACHINE_OPEN_SHARE)
    found = raw.loc[~raw["opens_mostly_machine"].astype(bool), "provider"].tolist()
    return found or ["__none__"]


TRAILING_MONTHS = 3


def trailing_hidden_images(db_path, date_to, account_id: str | None = None, *,
                           window_months: int = TRAILING_MONTHS, timezone: str = "UTC",
                           **options) -> pd.DataFrame:
    """``hidden_images`` over the ``window_months`` calendar months (in ``timezone``) before
    ``date_to``, with ``window_from``/``window_to`` (local days) on every row: one month often has too
    few human clickers for a provider's own blocked share, three months usually have enough. The
    month's own table stays the month's figures; this one is labelled with its window."""
    return over_trailing_months(hidden_images, db_path, date_to, account_id, window_months, timezone, **options)
