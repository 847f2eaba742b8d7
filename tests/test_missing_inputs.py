"""Missing inputs never become numbers: an address whose collection nothing dates has age 'unknown'
(not 0), and the sunset rule refuses to recommend from data that cannot support it.

Drops: the hand-built drop of test_metrics_hidden_images (1 complaint, 1 order in January), and the
same drop as an ESP export alone would give it (no subscriptions, no orders).
"""

from __future__ import annotations

import shutil

import pytest

from test_metrics_hidden_images import PERIOD, build_tiny_drop


@pytest.fixture(scope="module")
def dbs(tmp_path_factory):
    from dlvstats.ingest import ingest_paths

    root = tmp_path_factory.mktemp("missing_inputs")
    full = build_tiny_drop(root / "full")
    export = root / "export"
    shutil.copytree(full, export)
    for name in ("subscriptions.csv", "orders.csv"):
        (export / name).unlink()
    out = {}
    for name, drop in (("full", full), ("export", export)):
        out[name] = root / f"{name}.duckdb"
        ingest_paths(out[name], [drop])
    return out


def test_export_alone_has_unknown_age_not_zero(dbs):
    """Without subscriptions nothing dates the addresses: every January send is in the 'unknown' row
    (age_years NA, age_unknown_share 1, insufficient_data with the reason), none at age 0."""
    from dlvstats.metrics.engagement import engagement_by_age

    df = engagement_by_age(dbs["export"], *PERIOD, account_id="A")
    assert list(df["age_bucket"]) == ["unknown"]
    row = df.iloc[0]
    assert row.age_years is None or str(row.age_years) == "<NA>"
    assert row.sends == 21 and row.age_unknown_share == 1
    assert row.estimate_status == "insufficient_data" and "age unknown" in row.status_reason
    assert row.est_read_rate > 0  # the rates stay: only the age is missing


def test_dated_addresses_keep_their_age(dbs):
    """With subscriptions every address is dated (collected_at, import or form): no unknown row."""
    from dlvstats.metrics.engagement import engagement_by_age

    df = engagement_by_age(dbs["full"], *PERIOD, account_id="A")
    assert list(df["age_bucket"]) == ["0", "2", "3"] and (df["age_unknown_share"] == 0).all()


def test_sunset_refuses_without_orders(dbs):
    from dlvstats.metrics.engagement import sunset_in_plain_words, sunset_recommendation

    df = sunset_recommendation(dbs["export"], *PERIOD, account_id="A", thresholds=[1, 3, 4, 6], min_complaints=1)
    assert not df["recommended"].any()
    assert (df["recommendation_status"] == "insufficient_data").all()
    assert "no orders were loaded" in df["recommendation_reason"].iat[0]
    sentence = sunset_in_plain_words(df)
    assert sentence.startswith("No suppression threshold is recommended") and "Suppress" not in sentence


def test_sunset_refuses_on_too_few_complaints(dbs):
    """The full drop recommends T = 4 when one complaint is enough (test_metrics_engagement); at the default
    minimum (10 complaints) it refuses and says why."""
    from dlvstats.metrics.engagement import MIN_SUNSET_COMPLAINTS, sunset_recommendation

    df = sunset_recommendation(dbs["full"], *PERIOD, account_id="A", thresholds=[1, 3, 4, 6])
    assert MIN_SUNSET_COMPLAINTS == 10
    assert not df["recommended"].any()
    assert "only 1 complaint(s)" in df["recommendation_reason"].iat[0]
    enough = sunset_recommendation(dbs["full"], *PERIOD, account_id="A", thresholds=[1, 3, 4, 6], min_complaints=1,
                                   min_orders=1)
    assert enough["recommended"].sum() == 1 and (enough["recommendation_status"] == "ok").all()


def test_empty_period_gives_empty_tables(dbs):
    """A period without any message: empty tables, no error (the bootstrap has nothing to resample)."""
    from dlvstats.metrics.engagement import engagement_by_age
    from dlvstats.metrics.hidden_images import hidden_images

    assert engagement_by_age(dbs["full"], "2030-01-01", "2030-02-01").empty
    assert hidden_images(dbs["full"], "2030-01-01", "2030-02-01").empty


def test_gift_buyer_figures_without_orders_are_unknown_not_zero(tmp_path):
    """An account whose orders were never loaded: every buyer and revenue figure of its gift
    campaigns is missing (not 0), orders_loaded says why, and the plain words refuse the question."""
    from dlvstats.ingest import ingest_paths
    from dlvstats.metrics.gift import add_pooled, campaign_kinds, gift_campaigns, gift_in_plain_words
    from dlvstats.simulate import simulate

    out = tmp_path / "sim"
    simulate(out, seed=5, contacts=1500, months=5, end_month="2026-10", fmt="csv")
    db_path = tmp_path / "no-orders.duckdb"
    drops = sorted((out / "drops").iterdir())
    for drop in drops:
        (drop / "orders.csv").unlink(missing_ok=True)
        (drop / "orders.csv.gz").unlink(missing_ok=True)
    ingest_paths(db_path, drops)
    frame = gift_campaigns(db_path, "2026-01-01", "2026-11-01")
    assert len(frame) > 0 and not frame["orders_loaded"].any()
    for column in ("buyers_90d", "buyer_rate_90d", "control_buyer_rate_90d", "revenue_per_delivered"):
        assert frame[column].isna().all(), column
    assert frame["reregistered"].notna().all() and frame["reregistered"].sum() > 0  # the rest is still known
    pooled = add_pooled(frame.assign(is_immature=False))
    assert pooled["buyer_rate_90d"].isna().all()
    assert "no order is loaded" in gift_in_plain_words(pooled[pooled["campaign_id"].str.startswith("pooled")]
                                                        .assign(window_from="2026-01-01", window_to="2026-11-01",
                                                                campaigns_pooled=1))
    kinds = campaign_kinds(db_path, "2026-01-01", "2026-11-01")
    assert kinds["revenue_per_delivered"].isna().all() and not kinds["orders_loaded"].any()
