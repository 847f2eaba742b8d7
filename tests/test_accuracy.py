"""The accuracy harness (dlvstats.accuracy): its scoring logic on hand-built frames, and the CI part of
the sweep: one seed, small scale, the worlds that matter most, where no estimate may be off by more
than its tolerance while its estimate_status says ``ok``.

The full sweep (10+ seeds, every world) is ``benchmarks/accuracy.py``; its output is docs/accuracy.md.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dlvstats.accuracy import compare, markdown, runner

# ---------------------------------------------------------------------------------------------
# Scoring logic on hand-built cells (fast; fails if the comparison, tolerance or status logic breaks)
# ---------------------------------------------------------------------------------------------


def _cell(seed, table, quantity, cell, truth, estimate, low=np.nan, high=np.nan, status="ok", delivered=10000,
          world="w"):
    return {"world": world, "seed": seed, "table": table, "quantity": quantity, "cell": cell, "delivered": delivered,
            "truth": truth, "estimate": estimate, "low": low, "high": high, "status": status}


def _frame(rows):
    return pd.DataFrame(rows, columns=compare.CELL_COLUMNS)


def test_tolerances_follow_the_issue():
    t = compare.tolerance("hidden-images", "image_blocked_share", [0.2, 0.5], [100, 10])
    assert list(t) == [0.04, 0.04]
    assert list(compare.tolerance("hidden-images", "est_read_rate", [0.2], [1])) == [0.03]
    age = compare.tolerance("engagement-by-age", "est_read_rate", [0.30, 0.10, 0.02, 0.30], [5000, 9000, 6000, 4999])
    # min(0.03, max(0.01, 0.2 x truth)); unscored under 5,000 delivered
    assert age[:3] == pytest.approx([0.03, 0.02, 0.01])
    assert math.isnan(age[3])
    assert list(compare.tolerance("gift-campaigns", "reregistered", [3], [1])) == [0.0]
    assert math.isnan(compare.tolerance("gift-campaigns", "control_buyer_rate_90d", [0.1], [1])[0])
    assert list(compare.tolerance("classification", "machine_recall", [1.0], [1])) == [0.05]


def test_score_flags_wrong_while_ok_only_when_over_tolerance_and_ok():
    cells = _frame([
        _cell(1, "hidden-images", "est_read_rate", "gmail", 0.10, 0.14, 0.12, 0.16, "ok"),  # off, ok: wrong
        _cell(1, "hidden-images", "est_read_rate", "orange", 0.10, 0.14, 0.12, 0.16, "imprecise"),  # off, flagged
        _cell(1, "hidden-images", "est_read_rate", "free", 0.10, 0.125, 0.09, 0.16, "ok"),  # within 0.03
        _cell(1, "hidden-images", "image_blocked_share", "gmail", 0.10, 0.139, 0.05, 0.2, "ok"),  # within 0.04
        _cell(1, "engagement-by-age", "est_read_rate", "08", 0.026, 0.05, 0.04, 0.06, "ok", delivered=6000),
        _cell(1, "engagement-by-age", "est_read_rate", "15", 0.026, 0.05, 0.04, 0.06, "ok", delivered=800),
        _cell(1, "hidden-images", "est_read_rate", "apple", 0.03, np.nan, np.nan, np.nan, "unmeasurable"),
        _cell(1, "gift-campaigns", "reregistered", "gift 1", 30, 29, status="none"),
    ])
    s = compare.score(cells).set_index(["table", "quantity", "cell"])
    assert s.loc[("hidden-images", "est_read_rate", "gmail"), "wrong_while_ok"]
    assert not s.loc[("hidden-images", "est_read_rate", "orange"), "wrong_while_ok"]
    assert s.loc[("hidden-images", "est_read_rate", "orange"), "over_tolerance"]
    assert not s.loc[("hidden-images", "est_read_rate", "free"), "over_tolerance"]
    assert not s.loc[("hidden-images", "image_blocked_share", "gmail"), "over_tolerance"]
    # age 8: tolerance max(0.01, 0.2 x 0.026) = 0.01, error 0.024: wrong while ok; age 15 is too small to score
    assert s.loc[("engagement-by-age", "est_read_rate", "08"), "wrong_while_ok"]
    assert not s.loc[("engagement-by-age", "est_read_rate", "15"), "over_tolerance"]
    # no estimate: never over tolerance, no coverage
    assert not s.loc[("hidden-images", "est_read_rate", "apple"), "over_tolerance"]
    assert math.isnan(s.loc[("hidden-images", "est_read_rate", "apple"), "covered"])
    assert s.loc[("gift-campaigns", "reregistered", "gift 1"), "over_tolerance"]  # exact: one off is off
    assert not s.loc[("gift-campaigns", "reregistered", "gift 1"), "wrong_while_ok"]  # no estimate_status
    # coverage: gmail's interval 0.12-0.16 misses 0.10, free's 0.09-0.16 holds it
    assert s.loc[("hidden-images", "est_read_rate", "gmail"), "covered"] == 0.0
    assert s.loc[("hidden-images", "est_read_rate", "free"), "covered"] == 1.0
    bad = compare.wrong_while_ok(compare.score(cells))
    assert sorted(bad["cell"]) == ["08", "gmail"]


def test_summaries_over_seeds():
    cells = _frame([
        _cell(1, "hidden-images", "est_read_rate", "gmail", 0.10, 0.11, 0.08, 0.12, "ok"),
        _cell(2, "hidden-images", "est_read_rate", "gmail", 0.12, 0.07, 0.06, 0.09, "ok"),  # -0.05, missed
        _cell(3, "hidden-images", "est_read_rate", "gmail", 0.11, 0.12, 0.10, 0.14, "imprecise"),
    ])
    scored = compare.score(cells)
    row = compare.summarise(scored).iloc[0]
    assert row["seeds"] == 3
    assert row["truth"] == pytest.approx(0.11)
    assert row["estimate"] == pytest.approx(0.10)
    assert row["mean_abs_error"] == pytest.approx((0.01 + 0.05 + 0.01) / 3)
    assert row["worst_error"] == pytest.approx(-0.05)
    assert row["coverage"] == pytest.approx(2 / 3)
    assert row["statuses"] == "ok 2, imprecise 1"
    assert row["wrong_while_ok"] == 1
    ws = compare.world_summary(scored).iloc[0]
    assert ws["worst_cell"] == "gmail (seed 2)"
    assert (ws["ok"], ws["over_tolerance"], ws["wrong_while_ok"], ws["scored"]) == (2, 1, 1, 3)
    text = markdown.render(scored, "python benchmarks/accuracy.py --seeds 3")
    assert "python benchmarks/accuracy.py --seeds 3" in text
    assert "| w | 2 | hidden-images | `est_read_rate` | gmail |" in text  # the wrong-while-ok row
    assert "Wrong while ok, in all: **1** cells" in text


def test_world_summary_worst_error_is_among_scored_cells():
    cells = _frame([
        _cell(1, "engagement-by-age", "est_read_rate", "03", 0.20, 0.21, 0.18, 0.24, "ok", delivered=9000),
        _cell(1, "engagement-by-age", "est_read_rate", "19", 0.02, 0.30, 0.0, 0.6, "insufficient_data",
              delivered=300),  # too small to score: shown per cell, not the world's worst
    ])
    ws = compare.world_summary(compare.score(cells)).iloc[0]
    assert ws["worst_error"] == pytest.approx(0.01) and ws["worst_cell"] == "03 (seed 1)"
    assert ws["scored"] == 1 and ws["intervals"] == 2


def test_parse_worlds_and_cache_key(tmp_path):
    assert runner.parse_worlds("all")[0] == "default" and "realistic" in runner.parse_worlds("all")
    assert runner.parse_worlds("default, scanner_pools:0.2") == ["default", "scanner_pools:0.2"]
    with pytest.raises(ValueError, match="unknown world 'nope'"):
        runner.parse_worlds("realistic,nope")
    a = runner.Run("realistic", 1, 5000, 6, tmp_path, "abc")
    assert a.key != runner.Run("realistic", 1, 5000, 6, tmp_path, "abd").key  # simulator changed
    assert a.key != runner.Run("realistic", 2, 5000, 6, tmp_path, "abc").key
    assert a.key == runner.Run("realistic", 1, 5000, 6, tmp_path, "abc").key
    assert len(runner.simulator_hash()) == 16


def test_simulation_cache_is_reused(tmp_path):
    run = runner.Run("plain_text", 3, 500, 1, tmp_path, runner.simulator_hash())
    first, cached = runner.simulated(run)
    assert not cached and (first / "truth.json").exists()
    stamp = (first / "truth.json").stat().st_mtime_ns
    again, cached = runner.simulated(run)
    assert cached and again == first and (again / "truth.json").stat().st_mtime_ns == stamp


# ---------------------------------------------------------------------------------------------
# The CI part of the sweep
# ---------------------------------------------------------------------------------------------

CI_WORLDS = ["realistic", "scanner_pools", "proxy_prefetch", "device_blocking", "old_lists"]


@pytest.fixture(scope="module")
def ci_sweep(tmp_path_factory):
    base = tmp_path_factory.mktemp("accuracy")
    cells = runner.sweep(CI_WORLDS, [1], contacts=5000, months=6, cache_dir=base / "cache", work_dir=base / "work")
    return compare.score(cells)


@pytest.mark.slow  # the sweep: ~15 s of CPU for the five worlds
def test_sweep_scores_every_estimator_in_every_world(ci_sweep):
    for world in CI_WORLDS:
        w = ci_sweep[ci_sweep["world"] == world]
        tables = set(w["table"])
        assert tables == {"hidden-images", "engagement-by-age", "classification", "gift-campaigns"}, world
        hi = w[w["table"] == "hidden-images"]
        assert {"gmail", "microsoft", "orange", "other"} <= set(hi["cell"]), world
        assert hi["truth"].notna().all(), world  # every provider the table shows has a truth
        assert (w["table"].eq("engagement-by-age") & w["tolerance"].notna()).sum() >= 3, world  # ages scored
        cls = w[w["table"] == "classification"]
        assert len(cls) == 8 and cls["estimate"].between(0, 1).all(), world
        assert w.loc[w["table"] == "gift-campaigns", "truth"].notna().all(), world
        assert set(w["status"]) <= {"ok", "imprecise", "assumption_violated", "unmeasurable", "insufficient_data",
                                    "none", "is_immature", "small_cell_buyers"}


@pytest.mark.slow
def test_no_estimate_is_wrong_while_ok(ci_sweep):
    bad = compare.wrong_while_ok(ci_sweep)
    assert bad.empty, "off by more than the tolerance while estimate_status = ok:\n" + bad.to_string()
