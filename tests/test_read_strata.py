"""The stratified read estimator (metrics.read_strata): strata by reading device, post-stratification by
age, partial pooling, the person-level bootstrap; and the module boundary it relies on.

Exact values of the estimator on the hand-built drop are in test_metrics_engagement and
test_metrics_hidden_images (their docstrings work them by hand); here: the pieces on their own, and a
small simulated world where the provider-pooled estimator is biased (device_blocking: within Orange,
desktop clients block images and desktop readers click more often than mobile ones).
"""

from __future__ import annotations

import ast
from pathlib import Path

import duckdb
import numpy as np
import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "dlvstats"


def test_hidden_images_never_imports_engagement():
    """engagement builds on hidden_images; the reverse import (even inside a function) was a cycle."""
    tree = ast.parse((SRC / "metrics" / "hidden_images.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
            imported.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
    assert not any(m.startswith("dlvstats.metrics.engagement") for m in imported), imported


def test_shrink_within_hand_worked():
    """Cells 2/2 and 0/2 of one provider (target 1/3) and 0/2 of another (target 2/9): worked in
    test_metrics_engagement's docstring: gmail's tau^2 = 7/18, B = 2/9; microsoft has one usable cell:
    tau^2 = 0, its cell takes the provider's share."""
    from dlvstats.metrics.read_estimator import shrink_within

    shrunk, pull, tau2 = shrink_within([2, 0, 0, 0], [2, 2, 2, 0], [0, 0, 0, 0], [0, 0, 1, 1],
                                       [1 / 3, 1 / 3, 2 / 9, 2 / 9], [True, True, True, False])
    assert tau2 == pytest.approx([7 / 18, 7 / 18, 0, 0])
    assert pull == pytest.approx([2 / 9, 2 / 9, 1, 1])
    assert shrunk == pytest.approx([23 / 27, 2 / 27, 2 / 9, 2 / 9])


def test_shrink_within_without_replication_takes_the_provider_share():
    """One usable cell per provider: nothing tells cells apart (tau^2 = 0), every cell takes its target."""
    from dlvstats.metrics.read_estimator import shrink_within

    shrunk, pull, tau2 = shrink_within([5, 1], [10, 10], [0.01, 0.01], [0, 1], [0.3, 0.2], [True, True])
    assert (tau2 == 0).all() and shrunk == pytest.approx([0.3, 0.2]) and pull == pytest.approx([1, 1])


def test_bootstrap_weights_are_poisson_and_reproducible():
    """read_bootstrap.sql on 20,000 people with one message each: the replicate weights have mean ~1
    and variance ~1 (Poisson(1)), the same seed gives the same sums, another seed other sums."""
    from dlvstats import db

    con = duckdb.connect()
    con.execute("""CREATE TEMP TABLE __read_cells AS SELECT CAST(hash(range) AS UBIGINT) AS person,
                   'p' AS provider, 'mobile' AS device, 0 AS age_years, 1 AS d, 0 AS o, 0 AS c, 0 AS u
                   FROM range(20000)""")
    a = db.query_df(con, "metrics/read_bootstrap", replicates=40, seed=1)
    b = db.query_df(con, "metrics/read_bootstrap", replicates=40, seed=1)
    c = db.query_df(con, "metrics/read_bootstrap", replicates=40, seed=2)
    assert a.loc[a.rep == 0, "d"].item() == 20000
    reps = a.loc[a.rep > 0, "d"].to_numpy(float) / 20000  # mean weight per replicate
    assert abs(reps.mean() - 1) < 0.01 and 0.003 < reps.std() < 0.012  # sd of a mean of 20,000 Poisson(1)
    assert (a["d"].to_numpy() == b["d"].to_numpy()).all()
    assert not (a["d"].to_numpy() == c["d"].to_numpy()).all()
    weights = con.execute("""SELECT w FROM (SELECT CASE WHEN x < 0.36787944 THEN 0 WHEN x < 0.73575888 THEN 1
        WHEN x < 0.91969860 THEN 2 WHEN x < 0.98101184 THEN 3 ELSE 4 END AS w
        FROM (SELECT CAST(hash(person, 1::BIGINT, 1::BIGINT) >> 11 AS DOUBLE) / 9007199254740992.0 AS x
              FROM __read_cells))""").fetchnumpy()["w"]
    assert abs(np.mean(weights == 0) - np.exp(-1)) < 0.01


@pytest.fixture(scope="module")
def device_world(tmp_path_factory):
    import json

    from dlvstats.ingest import ingest_paths
    from dlvstats.simulate import simulate
    from dlvstats.simulate.worlds import parse_world

    out = tmp_path_factory.mktemp("device_world")
    simulate(out / "sim", seed=3, contacts=6000, months=6, world=parse_world("device_blocking"), fmt="parquet")
    db_path = out / "sim.duckdb"
    ingest_paths(db_path, sorted((out / "sim" / "drops").iterdir()))
    truth = json.loads((out / "sim" / "truth.json").read_text())
    return db_path, truth


def test_device_blocking_world_per_age_and_orange(device_world):
    """device_blocking: the provider-pooled share over-states Orange's readers (desktop blockers click
    more). Stratified by device: each age row that is 'ok' is within its tolerance of the truth, its
    interval covers the truth; Orange's est_read_rate is within 0.03 of the truth and its interval covers."""
    from dlvstats.metrics.engagement import engagement_by_age
    from dlvstats.metrics.hidden_images import hidden_images
    from dlvstats.metrics.read_estimator import age_tolerance

    db_path, truth = device_world
    start, end = truth["period"]["start"][:10], truth["period"]["end"][:10]
    by_age = engagement_by_age(db_path, start, end)
    world = truth["world"]
    checked = 0
    for r in by_age.itertuples(index=False):
        t = world["by_age_year"].get(str(int(r.age_years)))
        if r.estimate_status != "ok" or t is None:  # ok rows have few lower-bound ages (read_estimator)
            continue
        checked += 1
        rate = t["measurable_read_rate"]
        assert abs(r.est_read_rate - rate) <= age_tolerance(r.est_read_rate), r.age_years
        assert r.est_read_rate_low <= rate <= r.est_read_rate_high, r.age_years
    assert checked >= 3
    orange = hidden_images(db_path, start, end).set_index("provider").loc["orange"]
    t = world["by_provider"]["orange"]
    assert abs(orange.est_read_rate - t["measurable_read_rate"]) <= 0.03
    assert orange.est_read_rate_low <= t["measurable_read_rate"] <= orange.est_read_rate_high
    assert abs(orange.image_blocked_share_used - t["image_blocked_share"]) <= 0.04


def test_device_blocking_world_cells(device_world):
    """Orange's desktop and mobile cells find their own shares (truth about 0.44 and 0.03): desktop
    within 0.05 of the truth and inside its bootstrap interval, mobile within 0.05, and the two apart;
    every message's stratum is one of the cells."""
    from dlvstats.metrics import read_strata
    from dlvstats.metrics.common import Period, readonly

    db_path, truth = device_world
    period = Period.parse(truth["period"]["start"][:10], truth["period"]["end"][:10])
    with readonly(db_path) as con:
        read = read_strata.prepare(con, period, None, with_recency=False)
        strata = {k for (k,) in con.execute("SELECT DISTINCT weight_key FROM __eng_msg").fetchall()}
    cells = read.cells.set_index(["provider", "device"])
    t = truth["world"]["by_provider_device"]
    desktop, mobile = cells.loc[("orange", "desktop")], cells.loc[("orange", "mobile")]
    assert abs(desktop.image_blocked_share_used - t["orange/desktop"]["image_blocked_share"]) <= 0.05
    low, high = desktop.image_blocked_share_used_low, desktop.image_blocked_share_used_high
    assert low <= t["orange/desktop"]["image_blocked_share"] <= high
    assert abs(mobile.image_blocked_share_used - t["orange/mobile"]["image_blocked_share"]) <= 0.05
    assert desktop.image_blocked_share_used - mobile.image_blocked_share_used > 0.2
    assert strata <= {f"{p}|{d}" for p, d in cells.index}


def test_strata_table_tiny(tmp_path):
    """The strata of the hand-built drop (worked in test_metrics_engagement's docstring): gmail desktop
    2/2 -> 23/27, gmail mobile 0/2 -> 2/27, microsoft desktop 0/2 -> microsoft's 2/9 (one usable stratum),
    the unknown-device strata their provider's share; every stratum small and saying so."""
    from dlvstats.ingest import ingest_paths
    from dlvstats.metrics.hidden_images import blocked_share_by_stratum
    from test_metrics_hidden_images import PERIOD, build_tiny_drop

    db_path = tmp_path / "tiny.duckdb"
    ingest_paths(db_path, [build_tiny_drop(tmp_path / "drop")])
    df = blocked_share_by_stratum(db_path, *PERIOD, account_id="A").set_index(["provider", "device"])
    used = df["image_blocked_share_used"]
    assert used[("gmail", "desktop")] == pytest.approx(23 / 27)
    assert used[("gmail", "mobile")] == pytest.approx(2 / 27)
    assert used[("gmail", "unknown")] == pytest.approx(1 / 3)
    assert used[("microsoft", "desktop")] == pytest.approx(2 / 9)
    assert df.loc[("gmail", "unknown"), "share_basis"].startswith("provider share")
    assert df["small_cell"].all()
    assert (df["image_blocked_share_used_low"] <= used).all() and (used <= df["image_blocked_share_used_high"]).all()
