"""Notebooks 02 (gift campaigns) and 04 (sender health) run under papermill against the simulated
database, with non-default parameters, and fail the test on any error.

Also checked: the committed notebooks carry no outputs, their parameters cell is literal and typed,
no recipient address reaches an output, and one account's run of 04 names no other account.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NAMES = ["02_gift_campaigns.ipynb", "04_sender_health.ipynb"]


def _run(name: str, tmp_path: Path, parameters: dict) -> nbformat.NotebookNode:
    import papermill

    output = tmp_path / name
    papermill.execute_notebook(str(NOTEBOOKS / name), str(output), parameters=parameters, kernel_name="python3",
                               cwd=str(NOTEBOOKS), progress_bar=False, request_save_on_cell_execute=False)
    return nbformat.read(output, as_version=4)


def _outputs_text(nb: nbformat.NotebookNode) -> str:
    """Everything a reader sees: text, HTML tables and the figures' JSON."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "text" in out:
                parts.append(out["text"])
            for value in out.get("data", {}).values():
                parts.append(value if isinstance(value, str) else json.dumps(value))
    return "\n".join(parts)


def _figures(nb: nbformat.NotebookNode) -> list[dict]:
    figures = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {}).get("application/vnd.plotly.v1+json")
            if data:
                figures.append(data)
    return figures


@pytest.mark.parametrize("name", NAMES)
def test_committed_without_outputs_and_literal_parameters(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") and not c.get("execution_count") for c in code)
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    tree = ast.parse(tagged[0].source)
    for node in tree.body:
        assert isinstance(node, ast.AnnAssign), ast.dump(node)  # typed
        assert isinstance(node.value, ast.Constant), ast.dump(node)  # literal
    for line in tagged[0].source.splitlines():
        assert "  # " in line, f"parameter without a help comment: {line}"
    names = {node.target.id for node in tree.body}
    assert {"db_path", "date_from", "date_to", "account_id"} <= names
    for cell in code:
        assert "def " not in cell.source and "SELECT" not in cell.source.upper().split("#")[0]
        assert "os.environ" not in cell.source and "datetime.now" not in cell.source
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


@pytest.mark.slow
def test_gift_notebook_runs(sim, tmp_path):
    nb = _run("02_gift_campaigns.ipynb", tmp_path, {
        "db_path": str(sim.db_path), "date_from": "2026-01-01", "date_to": "2026-10-01",
        "min_delivered": 500, "min_reregistered": 20,
    })
    figures = _figures(nb)
    assert len(figures) >= 8
    for figure in figures:
        layout = figure["layout"]
        assert layout["title"]["text"] and layout["xaxis"]["title"]["text"] and layout["yaxis"]["title"]["text"]
        assert layout["meta"]["reading"]
    assert "@" not in _outputs_text(nb).replace("@media", "")


@pytest.mark.slow
def test_sender_health_notebook_runs(sim, tmp_path):
    nb = _run("04_sender_health.ipynb", tmp_path, {
        "db_path": str(sim.db_path), "date_from": "2026-06-01", "date_to": "2026-10-01", "grain": "day",
        "complaint_target": 0.0015, "honour_hours": 72, "old_years": 2.0,
    })
    figures = _figures(nb)
    assert len(figures) >= 7
    for figure in figures:
        layout = figure["layout"]
        assert layout["title"]["text"] and layout["xaxis"]["title"]["text"] and layout["yaxis"]["title"]["text"]
        assert layout["meta"]["reading"]
    text = _outputs_text(nb)
    assert "@" not in text.replace("@media", "")
    listing = sim.truth.get("blocklist_listing")
    if listing:
        assert listing["target"] in text


@pytest.mark.slow
def test_sender_health_notebook_for_one_account_names_no_other(sim, tmp_path):
    stale = (sim.truth.get("stale_account") or {}).get("account_id")
    accounts = list(sim.truth.get("accounts", {}))
    assert stale and len(accounts) >= 2, "the simulator's truth names no stale account among several"
    nb = _run("04_sender_health.ipynb", tmp_path, {
        "db_path": str(sim.db_path), "date_from": "2026-07-01", "date_to": "2026-09-01", "account_id": stale,
        "grain": "week",
    })
    text = _outputs_text(nb)
    assert stale in text
    for other in accounts:
        if other != stale:
            assert other not in text, f"{other} appears in {stale}'s own sender-health notebook"
