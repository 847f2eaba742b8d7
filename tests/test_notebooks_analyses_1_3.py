"""Notebooks 01 (engagement decay) and 03 (hidden images) run under papermill against the simulated
database with non-default parameters; any cell error fails the test.

Also checked on the executed notebooks: every plotly figure has a title and labelled axes, and no
output shows a recipient address. And, on the committed files: no outputs, one ``parameters`` cell
with typed, commented literal defaults, and no function definitions, SQL, environment or clock reads
in the code cells (the logic lives in the package).
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")

CASES = {
    "01_engagement_decay.ipynb": {
        "date_from": "2026-06-01", "date_to": "2026-11-01", "account_id": "acct_modeparis",
        "min_delivered": 500, "decay_rate": "human_click_rate", "cohort_unit": "month",
        "weight_complaint": 50.0, "weight_hidden_reader": 0.5,
    },
    "03_hidden_images.ipynb": {
        "date_from": "2026-04-01", "date_to": "2026-10-01", "min_delivered": 500,
        "max_machine_open_share": 0.85, "max_blocked_share_halfwidth": 0.05,
    },
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_committed_notebook_shape(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and nb.cells[1] is params[0]
    tree = ast.parse(params[0].source)
    declared = set()
    for node in tree.body:
        assert isinstance(node, ast.AnnAssign), "parameters are typed: name: type = literal"
        ast.literal_eval(node.value)
        declared.add(node.target.id)
    for line in params[0].source.splitlines():
        assert "  # " in line, f"parameter without a comment: {line}"
    assert {"db_path", "date_from", "date_to", "account_id"} <= declared
    assert set(CASES[name]) <= declared
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert not cell.outputs and cell.execution_count is None, "commit notebooks without outputs"
        for banned in ("def ", "SELECT ", "os.environ", "datetime.now", "import duckdb"):
            assert banned not in cell.source, f"{banned!r} in a code cell of {name}"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_notebook_runs_on_sim(sim, tmp_path, name):
    import papermill

    output = tmp_path / name
    papermill.execute_notebook(
        str(NOTEBOOKS / name), str(output), parameters={"db_path": str(sim.db_path), **CASES[name]},
        kernel_name="python3", cwd=str(NOTEBOOKS), progress_bar=False,
    )
    nb = nbformat.read(output, as_version=4)
    figures = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"{name}: {out.get('ename')}: {out.get('evalue')}"
            text = out.get("text", "") + json.dumps(out.get("data", {}).get("text/plain", ""))
            assert not ADDRESS.search(text), f"{name}: a recipient address in the output"
            spec = out.get("data", {}).get("application/vnd.plotly.v1+json")
            if spec:
                figures += 1
                layout = spec["layout"]
                assert layout["title"]["text"], f"{name}: a figure without a title"
                assert layout["xaxis"]["title"]["text"] and layout["yaxis"]["title"]["text"], \
                    f"{name}: unlabelled axes in {layout['title']['text']!r}"
                assert layout.get("meta", {}).get("reading"), "every chart says what to look at"
    assert figures >= 6


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_notebook_runs_on_an_empty_period(tmp_path, name):
    """A month with no message for the account (a client's report in a quiet month) must not stop the
    monthly report: every table is empty, the decay is 'not fitted', the charts are still drawn."""
    import papermill

    from dlvstats.ingest import ingest_paths
    from test_metrics_hidden_images import build_tiny_drop

    db_path = tmp_path / "tiny.duckdb"
    ingest_paths(db_path, [build_tiny_drop(tmp_path / "drop")])
    papermill.execute_notebook(
        str(NOTEBOOKS / name), str(tmp_path / name),
        parameters={"db_path": str(db_path), "date_from": "2026-03-01", "date_to": "2026-04-01"},
        kernel_name="python3", cwd=str(NOTEBOOKS), progress_bar=False,
    )
