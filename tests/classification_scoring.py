"""Scoring of stored human/machine labels against a simulation's truth (shared by the tests and
benchmarks/classification_worlds.py).

The simulator lists every machine open and click by ``event_id`` in ``truth_machine_events.csv.gz``
(``kind,event_id,machine_type``); every other simulated event is a person's. For opens and for
clicks, and for each class (machine and human), precision = correctly labelled / labelled that class
and recall = correctly labelled / truly that class.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

_TRUTH = """
    WITH truth AS (
        SELECT event_id, machine_type FROM read_csv($truth_file, header = true)
        WHERE kind IN ($kind, rtrim($kind, 's'))
    )
"""


def confusion(db_path: Path, out_dir: Path, kind: str) -> dict:
    """Counts of (truly machine, labelled machine) for one kind ('opens' or 'clicks'), on event_id."""
    assert kind in ("opens", "clicks")
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        rows = con.execute(
            _TRUTH + f"""
            SELECT t.event_id IS NOT NULL AS truly_machine, e.actor = 'machine' AS labelled_machine, count(*)
            FROM {kind} AS e LEFT JOIN truth AS t USING (event_id)
            WHERE e.event_id IS NOT NULL
            GROUP BY ALL
            """,
            {"truth_file": str(out_dir / "truth_machine_events.csv.gz"), "kind": kind},
        ).fetchall()
    finally:
        con.close()
    return {(bool(t), bool(m)): n for t, m, n in rows}


def errors(db_path: Path, out_dir: Path, kind: str) -> list[tuple]:
    """The wrong labels, counted by (true machine type or 'human', actor_rule)."""
    assert kind in ("opens", "clicks")
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(
            _TRUTH + f"""
            SELECT coalesce(t.machine_type, 'human') AS truly, e.actor_rule, count(*) AS n
            FROM {kind} AS e LEFT JOIN truth AS t USING (event_id)
            WHERE e.event_id IS NOT NULL AND (t.event_id IS NOT NULL) <> (e.actor = 'machine')
            GROUP BY ALL ORDER BY n DESC
            """,
            {"truth_file": str(out_dir / "truth_machine_events.csv.gz"), "kind": kind},
        ).fetchall()
    finally:
        con.close()


def scores(counts: dict) -> dict:
    tp = counts.get((True, True), 0)
    fp = counts.get((False, True), 0)
    fn = counts.get((True, False), 0)
    tn = counts.get((False, False), 0)

    def ratio(a, b):
        return a / b if b else float("nan")
    return {
        "machine_precision": ratio(tp, tp + fp), "machine_recall": ratio(tp, tp + fn),
        "human_precision": ratio(tn, tn + fn), "human_recall": ratio(tn, tn + fp),
    }
