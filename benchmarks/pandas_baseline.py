"""What an analyst would write by hand: the hidden-images and engagement-by-age tables in pandas.

    python benchmarks/pandas_baseline.py --db data/dlvstats.duckdb --from 2025-11-01 --to 2026-11-01 [--compare]

The baseline of goal 3 of the performance issue (docs/performance.md): read the tables into pandas,
merge, group by. It reads the *stored* tables of a dlvstats database (the human/machine labels of
opens and clicks included, so the baseline does not have to re-implement the classifier) with
DuckDB's ``.df()``, selecting only the columns it uses (kinder to pandas than ``SELECT *``), and
filters rows in pandas. Everything after the read is plain pandas: boolean columns, ``groupby``,
``merge``, no per-row Python. Definitions are those of docs/metrics.md, simplified:

- per message: ``has_open`` (any open), ``has_machine_open`` (an open labelled machine),
  ``has_human_open``, ``has_human_click`` (a human click on a link that is not unsubscribe/preferences);
  complaints are matched by ``message_id`` only (dlvstats also matches id-less complaints to the
  latest earlier message to the recipient, an as-of join);
- hidden-images, per provider, among delivered messages: ``machine_open_share`` = machine-opened /
  opened; among "measurable" messages (delivered, no machine open): ``measurable_human_openers``,
  ``measurable_human_clickers``, ``measurable_clickers_without_open``, ``image_blocked_share`` = clickers without open /
  clickers (with a recipient-clustered Wilson interval, as dlvstats does), ``measured_open_rate``,
  ``est_read_rate`` = measured_open_rate / (1 - image_blocked_share),
  ``hidden_reader_share_of_nonopens``; providers whose opens are more than 80 % machine, or with
  fewer than 30 clickers, or a blocked share known only to more than +-0.03, are "unmeasurable"
  (no delta-method intervals);
- engagement-by-age: ``collection_date`` = earliest of (first ``collected_at``, first subscribe,
  first send) per (account, recipient); ``age_years`` = floor(whole days / 365.25); per age:
  sends, delivered, hard_bounce_rate (per send), open_rate, human_open_rate, human_click_rate,
  complaint_rate, unsubscribe_rate (per delivered; unsubscribes from the campaign by the person:
  source link, user or none), est_read_rate (measurable human openers weighted by their provider's
  1 / (1 - image_blocked_share), the pooled share for unmeasurable providers, / measurable
  delivered). No intervals on this one.

``--compare`` prints dlvstats' tables beside these (the point estimates agree to rounding where the
definitions coincide).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

Z95 = 1.959963984540054
MAX_MACHINE_OPEN_SHARE = 0.8
MIN_CLICKERS = 30
MAX_HALFWIDTH = 0.03


def read_tables(db_path: str | Path) -> dict[str, pd.DataFrame]:
    """The stored tables the two metrics need, whole (rows), with the columns they use."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return {
            "sends": con.execute(
                "SELECT message_id, sent_at, account_id, campaign_id, recipient, provider, status, bounce_class "
                "FROM sends").df(),
            "opens": con.execute("SELECT message_id, actor FROM opens").df(),
            "clicks": con.execute("SELECT message_id, actor, is_unsubscribe_link FROM clicks").df(),
            "complaints": con.execute("SELECT message_id FROM complaints").df(),
            "subscriptions": con.execute(
                "SELECT ts, account_id, recipient, action, source, campaign_id, collected_at FROM subscriptions").df(),
        }
    finally:
        con.close()


def message_facts(t: dict[str, pd.DataFrame], date_from, date_to) -> pd.DataFrame:
    """One row per message sent in [date_from, date_to) with its per-message flags."""
    sends = t["sends"]
    period = sends[(sends["sent_at"] >= pd.Timestamp(date_from)) & (sends["sent_at"] < pd.Timestamp(date_to))]

    opens = t["opens"].assign(
        has_open=True,
        has_machine_open=lambda d: d["actor"] == "machine",
        has_human_open=lambda d: d["actor"] == "human",
    )
    open_flags = opens.groupby("message_id")[["has_open", "has_machine_open", "has_human_open"]].max()

    clicks = t["clicks"]
    human_clicks = clicks[(clicks["actor"] == "human") & ~clicks["is_unsubscribe_link"].fillna(False).astype(bool)]
    click_flags = human_clicks[["message_id"]].drop_duplicates().assign(has_human_click=True)

    complained = t["complaints"].dropna(subset=["message_id"]).drop_duplicates().assign(has_complaint=True)

    subs = t["subscriptions"]
    unsubs = subs[(subs["action"] == "unsubscribe") & subs["campaign_id"].notna()
                  & (subs["source"].isna() | subs["source"].isin(["link", "user"]))]
    unsubs = unsubs[["account_id", "campaign_id", "recipient"]].drop_duplicates().assign(has_unsubscribe=True)

    m = (period.merge(open_flags, on="message_id", how="left")
               .merge(click_flags, on="message_id", how="left")
               .merge(complained, on="message_id", how="left")
               .merge(unsubs, on=["account_id", "campaign_id", "recipient"], how="left"))
    for col in ("has_open", "has_machine_open", "has_human_open", "has_human_click", "has_complaint",
                "has_unsubscribe"):
        m[col] = m[col].fillna(False).astype(bool)
    m["provider"] = m["provider"].fillna("other")
    m["is_delivered"] = m["status"] == "delivered"
    m["is_hard_bounce"] = (m["status"] == "bounced") & (m["bounce_class"] == "hard")
    m["measurable"] = m["is_delivered"] & ~m["has_machine_open"]
    m["o"] = m["measurable"] & m["has_human_open"]
    m["c"] = m["measurable"] & m["has_human_click"]
    m["u"] = m["c"] & ~m["has_human_open"]
    return m


def _wilson_clustered(num, den, y2, yn, n2, k):
    """Wilson interval with the recipient-clustered effective sample size (as dlvstats.metrics.common)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = num / den
        var = (y2 - 2 * r * yn + r**2 * n2).clip(lower=0) / den**2 * k / (k - 1)
        design = (var / (r * (1 - r) / den)).where(lambda s: np.isfinite(s) & (s > 0), 1.0)
        n = (den / design.clip(lower=1e-12)).clip(lower=np.minimum(k, den), upper=den)
        centre = (r + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
        half = Z95 * np.sqrt(r * (1 - r) / n + Z95**2 / (4 * n**2)) / (1 + Z95**2 / n)
    return r, (centre - half).clip(0, 1), (centre + half).clip(0, 1)


def hidden_images_from_facts(m: pd.DataFrame) -> pd.DataFrame:
    d = m[m["is_delivered"]]
    per_person = d.groupby(["provider", "recipient"]).agg(
        delivered=("is_delivered", "sum"), opened=("has_open", "sum"), machine_opened=("has_machine_open", "sum"),
        measurable=("measurable", "sum"), o=("o", "sum"), c=("c", "sum"), u=("u", "sum"),
    ).reset_index()
    per_person["uu"] = per_person["u"] ** 2
    per_person["uc"] = per_person["u"] * per_person["c"]
    per_person["cc"] = per_person["c"] ** 2
    per_person["clicker"] = per_person["c"] > 0
    p = per_person.groupby("provider").agg(
        delivered=("delivered", "sum"), opened=("opened", "sum"), machine_opened=("machine_opened", "sum"),
        measurable_delivered=("measurable", "sum"), measurable_human_openers=("o", "sum"), measurable_human_clickers=("c", "sum"),
        measurable_clickers_without_open=("u", "sum"), uu=("uu", "sum"), uc=("uc", "sum"), cc=("cc", "sum"),
        k=("clicker", "sum"),
    )
    p = p.astype(float)
    p["machine_open_share"] = p["machine_opened"] / p["opened"]
    share, low, high = _wilson_clustered(p["measurable_clickers_without_open"], p["measurable_human_clickers"], p["uu"], p["uc"], p["cc"], p["k"])
    p["image_blocked_share"], p["image_blocked_share_low"], p["image_blocked_share_high"] = share, low, high
    p["measured_open_rate"] = p["measurable_human_openers"] / p["measurable_delivered"]
    p["est_read_rate"] = p["measured_open_rate"] / (1 - p["image_blocked_share"])
    readers = p["est_read_rate"] * p["measurable_delivered"]
    p["hidden_reader_share_of_nonopens"] = (readers - p["measurable_human_openers"]) / (p["measurable_delivered"] - p["measurable_human_openers"])
    p["is_measurable"] = ((p["machine_open_share"].fillna(0) <= MAX_MACHINE_OPEN_SHARE)
                          & (p["measurable_human_clickers"] >= MIN_CLICKERS) & ((high - low) / 2 <= MAX_HALFWIDTH))
    p.loc[~p["is_measurable"], ["est_read_rate", "hidden_reader_share_of_nonopens"]] = np.nan
    return p.drop(columns=["uu", "uc", "cc", "k"]).sort_values("delivered", ascending=False).reset_index()


def hidden_images(db_path, date_from, date_to, tables=None) -> pd.DataFrame:
    t = tables if tables is not None else read_tables(db_path)
    return hidden_images_from_facts(message_facts(t, date_from, date_to))


def engagement_by_age(db_path, date_from, date_to, tables=None) -> pd.DataFrame:
    t = tables if tables is not None else read_tables(db_path)
    m = message_facts(t, date_from, date_to)

    # read weights per provider from the hidden-images table of the same period
    hi = hidden_images_from_facts(m)
    measurable = hi[hi["is_measurable"]]
    pooled = measurable["measurable_clickers_without_open"].sum() / max(measurable["measurable_human_clickers"].sum(), 1)
    weights = (1 / (1 - measurable.set_index("provider")["image_blocked_share"])).rename("read_weight")

    # collection date per (account, recipient): first collected_at, first subscribe, first send
    subs = t["subscriptions"]
    keys = ["account_id", "recipient"]
    collected = subs.groupby(keys)["collected_at"].min().rename("first_collected_at")
    subscribed = subs[subs["action"] == "subscribe"].groupby(keys)["ts"].min().rename("first_subscribed_at")
    first_send = t["sends"].groupby(keys)["sent_at"].min().rename("first_sent_at")
    age = pd.concat([collected, subscribed, first_send], axis=1)
    age["collection_date"] = age.min(axis=1)

    m = m.merge(age["collection_date"].reset_index(), on=keys, how="left")
    m = m.merge(weights, left_on="provider", right_index=True, how="left")
    m["read_weight"] = m["read_weight"].fillna(1 / (1 - pooled))
    days = ((m["sent_at"] - m["collection_date"]).dt.total_seconds() // 86400).clip(lower=0)
    m["age_years"] = (days // 365.25).astype("int64")
    d = m["is_delivered"]
    m["d_open"] = d & m["has_open"]
    m["d_human_open"] = d & m["has_human_open"]
    m["d_click"] = d & m["has_human_click"]
    m["d_complaint"] = d & m["has_complaint"]
    m["d_unsub"] = d & m["has_unsubscribe"]
    m["est_reader"] = m["o"] * m["read_weight"]
    g = m.groupby("age_years").agg(
        sends=("message_id", "size"), delivered=("is_delivered", "sum"), hard_bounces=("is_hard_bounce", "sum"),
        opened=("d_open", "sum"), human_opened=("d_human_open", "sum"), human_clickers=("d_click", "sum"),
        complaints=("d_complaint", "sum"), unsubscribes=("d_unsub", "sum"), measurable=("measurable", "sum"),
        est_readers=("est_reader", "sum"),
    )
    out = pd.DataFrame({"sends": g["sends"], "delivered": g["delivered"]})
    out["hard_bounce_rate"] = g["hard_bounces"] / g["sends"]
    for rate, col in (("open_rate", "opened"), ("human_open_rate", "human_opened"), ("human_click_rate", "human_clickers"),
                      ("complaint_rate", "complaints"), ("unsubscribe_rate", "unsubscribes")):
        out[rate] = g[col] / g["delivered"]
    out["est_read_rate"] = g["est_readers"] / g["measurable"]
    return out.reset_index()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--from", dest="date_from", required=True)
    parser.add_argument("--to", dest="date_to", required=True)
    parser.add_argument("--compare", action="store_true", help="print dlvstats' tables too")
    args = parser.parse_args()
    pd.set_option("display.width", 200, "display.max_columns", 30)
    t = read_tables(args.db)
    print(hidden_images(args.db, args.date_from, args.date_to, t)[
        ["provider", "delivered", "machine_open_share", "measurable_human_openers", "measurable_human_clickers", "measurable_clickers_without_open",
         "image_blocked_share", "measured_open_rate", "est_read_rate"]].round(4).to_string())
    print(engagement_by_age(args.db, args.date_from, args.date_to, t).round(4).to_string())
    if args.compare:
        from dlvstats.metrics.engagement import engagement_by_age as ours_age
        from dlvstats.metrics.hidden_images import hidden_images as ours_hi

        print("\ndlvstats:")
        print(ours_hi(args.db, args.date_from, args.date_to)[
            ["provider", "delivered", "machine_open_share", "measurable_human_openers", "measurable_human_clickers", "measurable_clickers_without_open",
             "image_blocked_share", "measured_open_rate", "est_read_rate"]].round(4).to_string())
        print(ours_age(args.db, args.date_from, args.date_to)[
            ["age_years", "sends", "delivered", "hard_bounce_rate", "open_rate", "human_open_rate", "human_click_rate",
             "complaint_rate", "unsubscribe_rate", "est_read_rate"]].round(4).to_string())


if __name__ == "__main__":
    main()
