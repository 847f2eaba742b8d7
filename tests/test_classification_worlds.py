"""Human/machine precision and recall in every simulated world, against its truth.

Each world of ``dlvstats.simulate.worlds`` alone at its default strength, ``realistic`` (every mechanism at
published strengths) and the default world are simulated small (4,000 contacts, 4 months, seed 7),
ingested into a real DuckDB file (the default rules label every event on ingest) and scored against
``truth_machine_events.csv.gz`` (tests/classification_scoring.py): machine and human precision and
recall, for opens and for clicks, each at least 0.95. The table in docs/classification.md comes from
benchmarks/classification_worlds.py with the same settings.
"""

from __future__ import annotations

import pytest

from classification_scoring import confusion, errors, scores

TARGET = 0.95
SLOW_WORLDS = ("default", "scanner_pools", "proxy_prefetch", "mpp_variants", "device_blocking",
               "blocked_click_ratio", "plain_text", "old_lists", "thin_providers")


def _simulate(spec: str, out):
    from dlvstats.ingest import ingest_paths
    from dlvstats.simulate import simulate
    from dlvstats.simulate.worlds import parse_world

    simulate(out, seed=7, contacts=4000, months=4, fmt="parquet",
             world=None if spec == "default" else parse_world(spec))
    db_path = out / "sim.duckdb"
    ingest_paths(db_path, sorted((out / "drops").iterdir()))
    return db_path


def _check(spec: str, tmp_path):
    db_path = _simulate(spec, tmp_path / "sim")
    for kind in ("opens", "clicks"):
        counts = confusion(db_path, tmp_path / "sim", kind)
        truly_machine = counts.get((True, True), 0) + counts.get((True, False), 0)
        assert truly_machine >= 300, f"{spec}: too few machine {kind} to score ({counts})"
        result = scores(counts)
        for name, value in result.items():
            assert value >= TARGET, (f"world {spec}, {kind}: {name} = {value:.4f} < {TARGET}; wrong labels by "
                                     f"(truth, rule): {errors(db_path, tmp_path / 'sim', kind)[:6]}")


def test_realistic_world(tmp_path):
    _check("realistic", tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("spec", SLOW_WORLDS)
def test_each_world(spec, tmp_path):
    _check(spec, tmp_path)
