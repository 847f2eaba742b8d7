"""Human/machine classification scored against the simulator's truth.

The simulator lists every machine open and click by ``event_id`` in ``truth_machine_events.csv.gz``
(``kind,event_id,machine_type``: Apple MPP prefetches, scanner image fetches, scanner clicks and
re-scans); every other simulated event is a person's. The ingest of the ``sim`` fixture labelled the
events with the default rules (``classify.DEFAULT_RULES``). For opens and for clicks, and for each
class (machine and human), precision = correctly labelled / labelled that class and recall =
correctly labelled / truly that class; the target is 0.95 for all eight.

Also checked on a tiny drop: a stored database re-labels under new rules without re-ingest, and a
preview leaves stored labels untouched (it runs on a read-only connection).
"""

from __future__ import annotations

import duckdb
import pytest

TARGET = 0.95


def confusion(sim, kind: str) -> dict:
    """Counts of (truth, label) for one kind ('opens' or 'clicks'), joined on event_id."""
    truth_file = str(sim.out_dir / "truth_machine_events.csv.gz")
    con = duckdb.connect(str(sim.db_path), read_only=True)
    try:
        rows = con.execute(
            f"""
            WITH truth AS (
                SELECT event_id, machine_type FROM read_csv($truth_file, header = true)
                WHERE kind IN ($kind, rtrim($kind, 's'))
            )
            SELECT t.event_id IS NOT NULL AS truly_machine, e.actor = 'machine' AS labelled_machine, count(*)
            FROM {kind} AS e LEFT JOIN truth AS t USING (event_id)
            WHERE e.event_id IS NOT NULL
            GROUP BY ALL
            """,  # the table name comes from the fixed pair ('opens', 'clicks')
            {"truth_file": truth_file, "kind": kind},
        ).fetchall()
    finally:
        con.close()
    return {(bool(t), bool(m)): n for t, m, n in rows}


def scores(counts: dict) -> dict:
    tp = counts.get((True, True), 0)
    fp = counts.get((False, True), 0)
    fn = counts.get((True, False), 0)
    tn = counts.get((False, False), 0)
    return {
        "machine_precision": tp / (tp + fp), "machine_recall": tp / (tp + fn),
        "human_precision": tn / (tn + fn), "human_recall": tn / (tn + fp),
    }


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["opens", "clicks"])
def test_classification_against_truth(sim, kind):
    counts = confusion(sim, kind)
    assert counts.get((True, True), 0) > 100, f"too few machine {kind} in the simulation to score"
    result = scores(counts)
    print(kind, {k: round(v, 4) for k, v in result.items()}, counts)
    for name, value in result.items():
        assert value >= TARGET, f"{kind}: {name} = {value:.4f} < {TARGET} ({counts})"


def test_reclassify_and_preview_tiny(tmp_path):
    """m2's single click 60 s after delivery is human under the default rules and a scanner when timing
    alone decides; re-labelling the stored events needs no re-ingest, and a preview on a read-only
    connection changes nothing stored."""
    from dataclasses import replace

    from dlvstats import classify, db
    from dlvstats.ingest import ingest_paths
    from test_metrics_hidden_images import build_tiny_drop

    db_path = tmp_path / "tiny.duckdb"
    ingest_paths(db_path, [build_tiny_drop(tmp_path / "drop")])
    label = "SELECT actor_rule FROM clicks WHERE message_id = 'm2'"
    ro = db.connect(db_path, read_only=True)
    try:
        assert ro.execute(label).fetchone()[0] == "human"
        classify.classify_preview(ro, replace(classify.DEFAULT_RULES, scanner_min_links=1))
        preview = ro.execute("SELECT a.actor_rule FROM __click_actor a JOIN clicks USING (event_key) "
                             "WHERE message_id = 'm2'").fetchone()[0]
        assert preview == "scanner_timing"
        assert ro.execute(label).fetchone()[0] == "human"
    finally:
        ro.close()
    con = db.connect(db_path)
    try:
        classify.classify(con, replace(classify.DEFAULT_RULES, name="timing alone", scanner_min_links=1))
        assert con.execute(label).fetchone()[0] == "scanner_timing"
        assert con.execute("SELECT has_human_click FROM message_facts WHERE message_id = 'm2'").fetchone()[0] is False
        assert classify.stored_rules(con)["name"] == "timing alone"
    finally:
        con.close()
