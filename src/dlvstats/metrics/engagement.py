"""Engagement decay: engagement by the age of the address, by acquisition source, by recency, and the
sunset recommendation.

``engagement_by_age`` (CLI ``engagement-by-age``) is one row per ``age_years``; the notebook helpers
group the same per-message table (``sql/metrics/engagement_base.sql``) by other dimensions
(``sql/metrics/engagement_aggregate.sql``). Every rate comes with a 95 % interval clustered by
recipient; ``est_read_rate`` applies each provider's pooled image-blocked share (hidden-images, same
period) to the human openers of that provider, then sums (never a per-cell share).

The decay fit (``fit_decay``) and the sunset choice are small computations on the aggregated tables.
"""

from __future__ import annotations

import warnings

import duckdb
import numpy as np
import pandas as pd

from dlvstats import db
from dlvstats.config import MIN_CELL_DELIVERED
from dlvstats.i18n import DEFAULT_LOCALE, format_message, locale_of
from dlvstats.metrics import read_strata
from dlvstats.metrics.cache import db_identity, memo_get, memo_put, shared
from dlvstats.metrics.common import Z95, Period, cluster_rate, finish_rates, over_trailing_months, readonly
from dlvstats.metrics.decay import decay_summary, fit_decay  # noqa: F401  (engagement.fit_decay in notebooks)
from dlvstats.metrics.hidden_images import (
    MAX_BLOCKED_SHARE_HALFWIDTH,
    MAX_MACHINE_OPEN_SHARE,
    quiet,
)
from dlvstats.metrics.read_estimator import (
    CLICK_RATIO_HIGH,
    CLICK_RATIO_LOW,
    age_status,
    blocked_share_at_ratio,
    hidden_age_bound,
)

RATES = ["hard_bounce_rate", "open_rate", "human_open_rate", "human_click_rate", "complaint_rate",
         "unsubscribe_rate", "measured_open_rate", "image_blocked_share"]

_DIMENSIONS = {
    "age": ["age_years"],
    "age_band": ["age_band_start", "age_band"],
    "lower_bound": ["age_is_lower_bound"],
    "source": ["acquisition_source"],
    "recency": ["recency", "recency_order"],
    "cohort": ["signup_cohort", "months_since_signup"],
}
_ALL_KEYS = [k for keys in _DIMENSIONS.values() for k in keys]

#: The columns a notebook shows after the grouping columns (intervals of the main rates included).
DISPLAY_COLUMNS = [
    "sends", "delivered", "hard_bounce_rate", "open_rate", "human_open_rate", "human_click_rate", "human_click_rate_low",
    "human_click_rate_high", "complaint_rate", "complaint_rate_low", "complaint_rate_high", "unsubscribe_rate",
    "est_read_rate", "est_read_rate_low", "est_read_rate_high", "age_is_lower_bound_share", "small_cell",
    "est_read_rate_band_low", "est_read_rate_band_high", "age_unknown_share", "estimate_status", "status_reason",
]
SUNSET_COLUMNS = [
    "threshold_months", "sends_removed", "sends_removed_share", "complaints_removed", "complaints_removed_share",
    "hard_bounces_removed", "hard_bounces_removed_share", "human_clickers_removed", "human_clickers_removed_share",
    "orders_removed", "revenue_removed", "est_hidden_readers_removed", "machine_opened_removed", "net_value",
    "recommended", "recommendation_status", "recommendation_reason",
]

DEFAULT_AGE_BANDS = (0, 1, 2, 3, 5, 8, 12)
RECENCY_ORDER = ["0-2 months", "3-5 months", "6-11 months", "12-23 months", "24+ months",
                 "no signal yet", "unknown (machine opens only)"]


def _build_base(con, period: Period, account_id, *, cohort_unit: str = "quarter", attribution_days: int = 7,
                max_machine_open_share: float = MAX_MACHINE_OPEN_SHARE,
                max_blocked_share_halfwidth: float = MAX_BLOCKED_SHARE_HALFWIDTH,
                with_recency: bool = True) -> read_strata.StratifiedRead:
    """Create temp tables __reader_device, __address_age and __eng_msg on ``con``, run the stratified read
    estimator (metrics.read_strata) over them and give every message its stratum's read weight.

    ``max_machine_open_share`` and ``max_blocked_share_halfwidth`` are kept for callers of the former
    provider-level weights: the stratified estimator needs no cut-off (every provider's share among its
    messages without a machine open is shrunk by its precision), so they no longer change the weights.
    """
    quiet(con)
    return read_strata.prepare(con, period, account_id, cohort_unit=cohort_unit, attribution_days=attribution_days,
                               with_recency=with_recency)


def _band_weights(weights: dict, ratio: float) -> list[float]:
    """Read weights 1 / (1 - b(ratio)) from the weights 1 / (1 - b) (read_estimator.blocked_share_at_ratio)."""
    shares = 1 - 1 / np.array(list(weights.values()), dtype=float)
    return [float(w) for w in 1 / (1 - blocked_share_at_ratio(shares, ratio))]


def _aggregate(con, dims: list[str], read: read_strata.StratifiedRead, age_band_edges=DEFAULT_AGE_BANDS) -> pd.DataFrame:
    weights, variances = read.weights, read.weight_variances
    flags = {f"by_{name}": name in dims for name in _DIMENSIONS}
    raw = db.query_df(con, "metrics/engagement_aggregate", **flags, weight_providers=list(variances),
                      weight_variances=[variances[p] for p in variances],
                      band_low_weights=_band_weights(weights, CLICK_RATIO_HIGH),
                      band_high_weights=_band_weights(weights, CLICK_RATIO_LOW),
                      age_band_edges=[int(e) for e in age_band_edges])
    keep = [k for name in dims for k in _DIMENSIONS[name]]
    return raw.drop(columns=[k for k in _ALL_KEYS if k not in keep])


def _finish(raw: pd.DataFrame, min_delivered: int, bootstrap: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rates with cluster intervals; est_read_rate's interval also carries the pooled shares' error.

    est_read_rate is a ratio of weighted openers (weight 1/(1-b) of the provider) to measurable
    messages: its sampling interval is the cluster-robust one of that ratio, widened in quadrature by
    the pooled shares' own uncertainty (sum over providers of openers^2 * var(weight), / den^2).
    """
    df = raw.copy()
    cols = [f"est_read_rate__{s}" for s in ("num", "den", "y2", "yn", "n2", "k")]
    est, low, high = cluster_rate(*(df[c].to_numpy(float) for c in cols))
    den = df["est_read_rate__den"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        extra = np.sqrt(np.maximum(df["est_read_rate_wvar_term"].to_numpy(float), 0)) / den * Z95
    df["est_read_rate"] = est
    df["est_read_rate_low"] = np.clip(est - np.hypot(est - low, extra), 0, 1)
    df["est_read_rate_high"] = np.clip(est + np.hypot(high - est, extra), 0, 1)
    df = df.drop(columns=cols + ["est_read_rate_wvar_term"])
    if bootstrap is not None:  # by age: the interval of the person-level bootstrap (metrics.read_strata)
        df = _with_bootstrap(df, bootstrap)
    df = finish_rates(df, RATES, min_delivered=min_delivered)
    if "age_years" in df:  # older ages may miss addresses whose age is only a lower bound
        df["hidden_age_share"], df["hidden_age_read_rate"], df["hidden_age_bias"] = hidden_age_bound(
            df["age_years"], df["measurable_delivered"], df["lower_bound_measurable_delivered"],
            df["lower_bound_est_readers"], df["est_read_rate"])
    df["estimate_status"], df["status_reason"] = age_status(df)
    df = df.drop(columns=[c for c in _HELPER_COLUMNS if c in df])
    if "age_years" in df:
        df = _unknown_age(df)
    return df


#: Columns the status rules read that the tables do not show.
_HELPER_COLUMNS = ("lower_bound_measurable_delivered", "lower_bound_est_readers", "hidden_age_share",
                   "hidden_age_read_rate", "hidden_age_bias")


#: What an unknown age row says (its est_read_rate and rates stay: they are right for these addresses,
#: only their age is missing).
UNKNOWN_AGE_REASON = ("age unknown: nothing dates when these addresses were collected (no collected_at and no "
                      "sign-up in the data, only the first message sent to them); they are kept out of the ages "
                      "instead of being counted as age 0. Give collected_at with the subscriptions to place them")


def _unknown_age(df: pd.DataFrame) -> pd.DataFrame:
    """``age_bucket`` ('0', '1', ..., 'unknown') and the status of the unknown-age row (insufficient_data for
    an age analysis, whatever the precision of its rates)."""
    out = df.copy()
    unknown = out["age_years"].isna()
    out["age_years"] = out["age_years"].astype("Int64")
    out["age_bucket"] = out["age_years"].astype("string").fillna("unknown")
    out.loc[unknown, "estimate_status"] = "insufficient_data"
    out.loc[unknown, "status_reason"] = UNKNOWN_AGE_REASON
    return out


def _with_bootstrap(df: pd.DataFrame, bootstrap: pd.DataFrame) -> pd.DataFrame:
    """est_read_rate_low/high per age from the bootstrap replicates of the whole stratified estimator
    (shares, shrinkage and read rates recomputed per replicate, people resampled): wider than the
    delta-method interval where the shares are uncertain, and it covers (docs/metrics.md)."""
    cols = ["est_read_rate_low", "est_read_rate_high"]
    if "age_years" not in bootstrap:  # no measurable message in the period: nothing to resample
        return df
    boot = bootstrap.set_index("age_years")[cols]
    key = df["age_years"]
    found = key.isin(boot.index)
    out = df.copy()
    for col in cols:
        out.loc[found, col] = key[found].map(boot[col]).to_numpy(float)
    return out


def _order(df: pd.DataFrame, first: list[str]) -> pd.DataFrame:
    head = ["sends", "delivered", "hard_bounce_rate", "open_rate", "human_open_rate", "human_click_rate",
            "complaint_rate", "unsubscribe_rate", "est_read_rate"]
    cols = first + head
    rest = [c for c in df.columns if c not in cols]
    intervals = [c for c in rest if c.endswith(("_low", "_high"))]
    others = [c for c in rest if c not in intervals]
    return df[cols + others + intervals]


#: The tables of the notebook: name -> (dimensions, leading columns, sort keys).
TABLES: dict[str, tuple[list[str], list[str], list[str]]] = {
    "by_age": (["age"], ["age_years"], ["age_years"]),
    "by_age_and_bound": (["age", "lower_bound"], ["age_years", "age_is_lower_bound"],
                         ["age_years", "age_is_lower_bound"]),
    "by_source": (["source"], ["acquisition_source"], ["sends"]),
    "by_recency": (["recency"], ["recency", "recency_order"], ["recency_order"]),
    "surface": (["age_band", "recency"], ["age_band", "age_band_start", "recency", "recency_order"],
                ["age_band_start", "recency_order"]),
    "cohorts": (["cohort"], ["signup_cohort", "months_since_signup"], ["signup_cohort", "months_since_signup"]),
}


def _shape(name: str, df: pd.DataFrame, period: Period, cohorts_since=None) -> pd.DataFrame:
    _, first, keys = TABLES[name]
    if name == "cohorts":
        since = pd.Timestamp(cohorts_since) if cohorts_since is not None else (
            pd.Timestamp(period.start) - pd.DateOffset(years=2))
        df = df[pd.to_datetime(df["signup_cohort"] + "-01") >= since.normalize().replace(day=1)]
    df = df.sort_values(keys, ascending=name != "by_source").reset_index(drop=True)
    return _order(df, first)


def engagement_tables(db_path, date_from, date_to, account_id: str | None = None, *,
                      tables=("by_age", "by_source", "by_recency", "surface", "cohorts"),
                      min_delivered: int = MIN_CELL_DELIVERED, cohort_min_delivered: int = 200,
                      cohort_unit: str = "quarter", cohorts_since=None, age_band_edges=DEFAULT_AGE_BANDS,
                      attribution_days: int = 7, max_machine_open_share: float = MAX_MACHINE_OPEN_SHARE,
                      max_blocked_share_halfwidth: float = MAX_BLOCKED_SHARE_HALFWIDTH) -> dict[str, pd.DataFrame]:
    """Several engagement tables from one pass over the period's messages (what the notebook shows).

    ``tables``: names of ``TABLES`` (by_age, by_age_and_bound, by_source, by_recency, surface,
    cohorts); each is what the function of the same meaning returns (``engagement_by_age``, ...).
    The connection is held while the tables are computed (one base table, one aggregate per table).
    """
    period = Period.parse(date_from, date_to)
    unknown = set(tables) - set(TABLES)
    if unknown:
        raise ValueError(f"unknown engagement table(s) {sorted(unknown)}; choose among {', '.join(TABLES)}")
    with readonly(db_path) as con:
        needs_recency = any("recency" in TABLES[name][0] for name in tables)
        base = _build_base(con, period, account_id, cohort_unit=cohort_unit, attribution_days=attribution_days,
                                max_machine_open_share=max_machine_open_share,
                                max_blocked_share_halfwidth=max_blocked_share_halfwidth, with_recency=needs_recency)
        raw = {name: _aggregate(con, TABLES[name][0], base, age_band_edges) for name in tables}
        if needs_recency:  # the notebook's sunset table needs the same base: keep its (small) buckets
            memo_put(_sunset_key(db_path, period, account_id, attribution_days, max_machine_open_share,
                                 max_blocked_share_halfwidth), _sunset_buckets(con))
    return {name: _shape(name, _finish(frame, cohort_min_delivered if name == "cohorts" else min_delivered,
                                       base.by_age if name == "by_age" else None),
                         period, cohorts_since)
            for name, frame in raw.items()}


@shared
def engagement_by_age(db_path, date_from, date_to, account_id: str | None = None, *,
                      split_lower_bound: bool = False, min_delivered: int = MIN_CELL_DELIVERED,
                      max_machine_open_share: float = MAX_MACHINE_OPEN_SHARE,
                      max_blocked_share_halfwidth: float = MAX_BLOCKED_SHARE_HALFWIDTH) -> pd.DataFrame:
    """One row per ``age_years`` (with ``split_lower_bound``: per age_years and age_is_lower_bound).

    ``age_years`` = floor(days from the address's collection date to the send / 365.25); the
    collection date is the earliest ``collected_at`` for the address on the account, else its first
    subscription on the account (any list), never after the account's first message to it.
    Columns: ``age_years, sends, delivered, hard_bounce_rate`` (per send), ``open_rate``,
    ``human_open_rate, human_click_rate, complaint_rate, unsubscribe_rate, est_read_rate`` (per delivered;
    est_read_rate per delivered message without a machine open), their counts, ``_low``/``_high``
    95 % intervals, ``age_is_lower_bound_share`` (sends whose age rests only on an import date) and
    ``small_cell`` (fewer than ``min_delivered`` delivered). See sql/metrics/engagement_aggregate.sql.
    ``max_machine_open_share`` and ``max_blocked_share_halfwidth`` decide which providers use their
    own image-blocked share (as in ``hidden_images``); the others use the pooled share.
    """
    name = "by_age_and_bound" if split_lower_bound else "by_age"
    return engagement_tables(db_path, date_from, date_to, account_id, tables=[name], min_delivered=min_delivered,
                             max_machine_open_share=max_machine_open_share,
                             max_blocked_share_halfwidth=max_blocked_share_halfwidth)[name]


def engagement_by_source(db_path, date_from, date_to, account_id: str | None = None, *,
                         min_delivered: int = MIN_CELL_DELIVERED, **options) -> pd.DataFrame:
    """The engagement table by acquisition source (the ``source`` of the address's first subscription
    on the account: form, import, gift, ...; 'unknown' when none is recorded)."""
    return engagement_tables(db_path, date_from, date_to, account_id, tables=["by_source"],
                             min_delivered=min_delivered, **options)["by_source"]


def engagement_by_recency(db_path, date_from, date_to, account_id: str | None = None, *,
                          min_delivered: int = MIN_CELL_DELIVERED, **options) -> pd.DataFrame:
    """The engagement table by months since the last human signal (click, order, re-registration,
    human open). People whose only opens are machine opens are in 'unknown (machine opens only)'."""
    return engagement_tables(db_path, date_from, date_to, account_id, tables=["by_recency"],
                             min_delivered=min_delivered, **options)["by_recency"]


def engagement_surface(db_path, date_from, date_to, account_id: str | None = None, *,
                       age_band_edges=DEFAULT_AGE_BANDS, min_delivered: int = MIN_CELL_DELIVERED,
                       **options) -> pd.DataFrame:
    """Age band x recency: the engagement table for each combination (small cells flagged)."""
    return engagement_tables(db_path, date_from, date_to, account_id, tables=["surface"],
                             age_band_edges=age_band_edges, min_delivered=min_delivered, **options)["surface"]


def signup_cohorts(db_path, date_from, date_to, account_id: str | None = None, *,
                   cohort_unit: str = "quarter", cohorts_since=None,
                   min_delivered: int = 200, **options) -> pd.DataFrame:
    """Signup cohort (collection date truncated to ``cohort_unit``) x months since signup.

    ``cohorts_since`` (a date; default two years before ``date_from``) keeps the recent cohorts, whose
    first months fall in the data. Cells under ``min_delivered`` delivered are flagged small.
    """
    return engagement_tables(db_path, date_from, date_to, account_id, tables=["cohorts"], cohort_unit=cohort_unit,
                             cohorts_since=cohorts_since, cohort_min_delivered=min_delivered, **options)["cohorts"]


def hidden_images_by_age(db_path, date_from, date_to, account_id: str | None = None, **options) -> pd.DataFrame:
    """Image-blocked share (each age's own, for display) and est_read_rate (pooled shares) by age_years."""
    df = engagement_by_age(db_path, date_from, date_to, account_id, **options)
    keep = ["age_years", "delivered", "measurable_delivered", "measurable_human_openers",
            "measurable_human_clickers", "measurable_clickers_without_open",
            "image_blocked_share", "image_blocked_share_low", "image_blocked_share_high",
            "measured_open_rate", "measured_open_rate_low", "measured_open_rate_high",
            "est_read_rate", "est_read_rate_low", "est_read_rate_high", "est_readers",
            "age_is_lower_bound_share", "small_cell"]
    return df[keep]



# -------------------------------------------------------------------------------------------- sunset

DEFAULT_THRESHOLDS = (1, 2, 3, 4, 6, 9, 12, 18, 24)
#: The sunset recommendation weighs complaints against clicks and orders: with fewer than these in the
#: period, the balance is noise and no threshold is recommended (parameters of sunset_recommendation).
MIN_SUNSET_COMPLAINTS = 10
MIN_SUNSET_ORDERS = 10


def _sunset_key(db_path, period: Period, account_id, attribution_days, max_machine_open_share,
                max_blocked_share_halfwidth) -> tuple:
    try:
        identity = db_identity(db_path)
    except TypeError:  # an in-memory connection: no memo
        return None
    return ("engagement_sunset_buckets", identity, period.start, period.end, account_id,
            int(attribution_days), float(max_machine_open_share), float(max_blocked_share_halfwidth))


def _sunset_buckets(con):
    """The sunset buckets of __eng_msg (an Arrow table: its DECIMAL revenue stays exact)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DuckDB notes the extra copy of a few hundred rows
        return db.run(con, "metrics/engagement_sunset_buckets").to_arrow_table()


def sunset_recommendation(db_path, date_from, date_to, account_id: str | None = None, *,
                          thresholds=DEFAULT_THRESHOLDS, weight_click: float = 1.0, weight_order: float = 5.0,
                          weight_hidden_reader: float = 0.0, weight_complaint: float = 30.0,
                          weight_hard_bounce: float = 3.0, include_unknown: bool = False,
                          attribution_days: int = 7, min_complaints: int = MIN_SUNSET_COMPLAINTS,
                          min_orders: int = MIN_SUNSET_ORDERS, **estimator_options) -> pd.DataFrame:
    """What suppressing people inactive for at least T months would have removed, for each T.

    One row per threshold T (``threshold_months``): sends, delivered, complaints, hard bounces, human
    clickers, orders (last touch within ``attribution_days``), revenue, human openers and estimated
    hidden readers (readers with images blocked, from each provider's pooled share) that the
    suppression would have removed, their shares of the period's totals, and ``net_value`` =
    weight_click*clickers + weight_order*orders + weight_hidden_reader*hidden readers -
    weight_complaint*complaints - weight_hard_bounce*hard bounces over the removed mail.
    ``recommended`` marks the T whose removed mail has the lowest (most harmful) net value when it is
    negative: past that threshold complaints and bounces outweigh engagement. The default weights
    (a complaint costs as much as 30 clicks, a hard bounce 3, an order is worth 5 clicks) are a
    judgement: change them. People with machine opens only ('unknown') are kept unless
    ``include_unknown``. No threshold is recommended (``recommendation_status`` 'insufficient_data', with
    ``recommendation_reason``) when no orders were loaded for the account, or the period holds fewer than
    ``min_complaints`` complaints or ``min_orders`` orders: the table stays, the verdict is withheld.
    """
    period = Period.parse(date_from, date_to)
    key = _sunset_key(db_path, period, account_id, attribution_days,
                      estimator_options.get("max_machine_open_share", MAX_MACHINE_OPEN_SHARE),
                      estimator_options.get("max_blocked_share_halfwidth", MAX_BLOCKED_SHARE_HALFWIDTH))
    buckets = memo_get(key) if set(estimator_options) <= {"max_machine_open_share",
                                                           "max_blocked_share_halfwidth"} else None
    if buckets is None:
        with readonly(db_path) as con:
            _build_base(con, period, account_id, attribution_days=attribution_days, **estimator_options)
            buckets = _sunset_buckets(con)
        memo_put(key, buckets)
    con = duckdb.connect()
    try:
        con.register("__sunset_buckets", buckets)
        df = db.query_df(con, "metrics/engagement_sunset", thresholds=[int(t) for t in thresholds],
                         include_unknown=include_unknown, w_click=float(weight_click),
                         w_order=float(weight_order), w_hidden_reader=float(weight_hidden_reader),
                         w_complaint=float(weight_complaint), w_hard_bounce=float(weight_hard_bounce))
    finally:
        con.close()
    best = df["net_value"].idxmin() if len(df) else None
    df["recommended"] = False
    with readonly(db_path) as con:
        inputs = db.query_df(con, "metrics/sunset_inputs", **period.params(), account_id=account_id).iloc[0]
    status, reason = sunset_sufficiency(inputs, min_complaints, min_orders)
    df["recommendation_status"], df["recommendation_reason"] = status, reason
    if status == "ok" and best is not None and df.loc[best, "net_value"] < 0:
        df.loc[best, "recommended"] = True
    return df


def sunset_sufficiency(inputs, min_complaints: int = MIN_SUNSET_COMPLAINTS,
                       min_orders: int = MIN_SUNSET_ORDERS) -> tuple[str, str]:
    """(recommendation_status, recommendation_reason) from sunset_inputs.sql's counts: 'ok', or
    'insufficient_data' with the missing input said plainly (no orders loaded, too few complaints or orders)."""
    orders, in_period, complaints = (int(inputs[k]) for k in ("orders_loaded", "orders_in_period",
                                                                "complaints_in_period"))
    if orders == 0:
        reason = ("no orders were loaded for this account, so the revenue a suppression would lose cannot be "
                  "counted: no threshold is recommended (load the orders file to get one)")
    elif complaints < min_complaints:
        reason = (f"only {complaints:,} complaint(s) in the period (fewer than {min_complaints}): too few to weigh "
                  "against the clicks and orders of the people it would suppress; no threshold is recommended "
                  "(use a longer period)")
    elif in_period < min_orders:
        reason = (f"only {in_period:,} order(s) in the period (fewer than {min_orders}): the revenue a suppression "
                  "would lose is too uncertain; no threshold is recommended (use a longer period)")
    else:
        reason = ""
    if reason:
        return "insufficient_data", reason
    return "ok", (f"{complaints:,} complaints and {in_period:,} orders in the period; the weights are a judgement: "
                  "change them")


def sunset_in_plain_words(table: pd.DataFrame, locale: str = DEFAULT_LOCALE) -> str:
    """One or two sentences on the sunset recommendation, in the reader's language."""
    if locale != DEFAULT_LOCALE:
        return _sunset_in_plain_words_localized(table, locale)
    rec = table[table["recommended"]]
    if len(table) and "recommendation_status" in table and table["recommendation_status"].iat[0] != "ok":
        return "No suppression threshold is recommended: " + table["recommendation_reason"].iat[0] + "."
    if table.empty or table["sends_removed"].sum() == 0:
        return "No message of this period was sent to anyone past the shortest threshold: nothing to suppress."
    if rec.empty:
        return ("At these weights no inactivity threshold removes more harm than value: the mail sent to "
                "inactive people brought more clicks and orders than it cost in complaints and bounces.")
    r = rec.iloc[0]
    return (
        f"Suppress people with no human signal for {int(r['threshold_months'])} months or more. Over the period "
        f"that would have removed {r['sends_removed']:,.0f} sends ({r['sends_removed_share']:.0%}), "
        f"{r['complaints_removed']:,.0f} complaints ({r['complaints_removed_share']:.0%}) and "
        f"{r['hard_bounces_removed']:,.0f} hard bounces ({r['hard_bounces_removed_share']:.0%}), at the cost of "
        f"{r['human_clickers_removed']:,.0f} human clickers, {r['orders_removed']:,.0f} orders and about "
        f"{r['est_hidden_readers_removed']:,.0f} estimated readers whose images were blocked."
    )


def _sunset_in_plain_words_localized(table: pd.DataFrame, locale: str) -> str:
    """``sunset_in_plain_words`` through the catalogue (the sufficiency reason stays as the metric says it)."""
    loc = locale_of(locale)
    rec = table[table["recommended"]]
    if len(table) and "recommendation_status" in table and table["recommendation_status"].iat[0] != "ok":
        return format_message(loc, "No suppression threshold is recommended: {reason}.",
                              {"reason": str(table["recommendation_reason"].iat[0])})
    if table.empty or table["sends_removed"].sum() == 0:
        return format_message(loc, "No message of this period was sent to anyone past the shortest threshold: "
                                   "nothing to suppress.")
    if rec.empty:
        return format_message(loc, "At these weights no inactivity threshold removes more harm than value: the mail "
                                   "sent to inactive people brought more clicks and orders than it cost in complaints "
                                   "and bounces.")
    r = rec.iloc[0]

    def count(column):
        return ("integer", round(float(r[column])))

    return format_message(loc, (
        "Suppress people with no human signal for {months} months or more. Over the period that would have "
        "removed {sends} sends ({sends_share}), {complaints} complaints ({complaints_share}) and {bounces} hard "
        "bounces ({bounces_share}), at the cost of {clickers} human clickers, {orders} orders and about {readers} "
        "estimated readers whose images were blocked."), {
        "months": int(r["threshold_months"]), "sends": count("sends_removed"),
        "sends_share": ("percent", r["sends_removed_share"], 0), "complaints": count("complaints_removed"),
        "complaints_share": ("percent", r["complaints_removed_share"], 0), "bounces": count("hard_bounces_removed"),
        "bounces_share": ("percent", r["hard_bounces_removed_share"], 0), "clickers": count("human_clickers_removed"),
        "orders": count("orders_removed"), "readers": count("est_hidden_readers_removed")})


#: The trailing window, in months, of the monthly report's pooled engagement-by-age table.
TRAILING_MONTHS = 12


def trailing_engagement_by_age(db_path, date_to, account_id: str | None = None, *,
                               window_months: int = TRAILING_MONTHS, timezone: str = "UTC",
                               **options) -> pd.DataFrame:
    """``engagement_by_age`` over the ``window_months`` calendar months (in ``timezone``) before
    ``date_to``, with ``window_from``/``window_to`` (local days) on every row: one month leaves the old
    age years with a few thousand messages and wide intervals; a year gives each its volume. The
    month's own table stays the month's figures; this one is labelled with its window."""
    return over_trailing_months(engagement_by_age, db_path, date_to, account_id, window_months, timezone, **options)
