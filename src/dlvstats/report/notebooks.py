"""Running the analysis notebooks: their parameters, a pool of papermill worker processes, and the
executed notebooks scrubbed of e-mail addresses.

The notebooks get their inputs only as papermill parameters (``metric_cache``, ``memory_limit``
among them: a notebook passes them to ``dlvstats.metrics.cache.configure``), never through the
environment. A notebook is read as plain JSON (nbformat's import costs seconds in the main process).
"""

from __future__ import annotations

import ast
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dlvstats.config import PACKAGED_NOTEBOOKS_DIR, project_root
from dlvstats.report.errors import ReportError
from dlvstats.scrub import AddressScrubber

log = logging.getLogger("dlvstats.report")

KERNEL_NAME = "python3"
#: A cell that runs longer than this (seconds) fails its notebook, so cron never hangs for ever.
CELL_TIMEOUT_SECONDS = 1800
#: Notebook parameters the runner knows how to fill; a notebook gets only those it declares.
KNOWN_PARAMETERS = ("db_path", "date_from", "date_to", "account_id", "month", "report_timezone", "locale",
                    "metric_cache", "memory_limit")


def default_notebooks_dir() -> Path:
    """The notebooks shipped in the package (in a checkout, the same files as ``notebooks/``)."""
    if any(PACKAGED_NOTEBOOKS_DIR.glob("*.ipynb")):
        return PACKAGED_NOTEBOOKS_DIR
    checkout = project_root() / "notebooks"
    if any(checkout.glob("*.ipynb")):
        return checkout
    return PACKAGED_NOTEBOOKS_DIR


def find_notebooks(directory: Path) -> list[Path]:
    """Every ``*.ipynb`` of the directory (not hidden, not ``_private``), analyses first, ``00_*`` last."""
    found = [p for p in Path(directory).glob("*.ipynb") if not p.name.startswith((".", "_"))]
    return sorted(found, key=lambda p: (p.name.startswith("00"), p.name))


# --------------------------------------------------------------------------------------------------
# Notebook parameters


def read_notebook(path: Path) -> dict:
    """A notebook as plain JSON. (nbformat would do, but importing it costs seconds here: its schema
    validator pulls in a grammar compiled at import time; the main process needs only the JSON.)"""
    with open(path, encoding="utf-8") as handle:
        nb = json.load(handle)
    if nb.get("nbformat") != 4:
        raise ReportError(f"{path}: notebook format {nb.get('nbformat')} is not supported (version 4 is)")
    return nb


def write_notebook(nb: dict, path: Path) -> None:
    """Write a notebook the way nbformat does (one-space indent, UTF-8, trailing newline)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(nb, handle, indent=1, ensure_ascii=False, sort_keys=True)
        handle.write("\n")
    os.replace(tmp, path)


def _joined(value) -> str:
    """Notebook text fields are a string or a list of lines."""
    return "".join(value) if isinstance(value, list) else str(value or "")


def declared_parameters(path: Path) -> list[str]:
    """Names assigned in the notebook's ``parameters`` cell.

    The cell is parsed with ``ast`` (papermill's own line parser gives up on some valid lines, e.g.
    a comment holding an ``=``); ``papermill.inspect_notebook`` answers when the cell is not plain
    Python (magics).
    """
    nb = read_notebook(path)
    names: list[str] = []
    parsed = False
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code" or "parameters" not in cell.get("metadata", {}).get("tags", []):
            continue
        try:
            tree = ast.parse(_joined(cell.get("source")))
        except SyntaxError:
            continue
        parsed = True
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            for target in targets:
                if isinstance(target, ast.Name) and target.id not in names:
                    names.append(target.id)
    if parsed:
        return names
    try:
        import papermill

        for name in papermill.inspect_notebook(str(path)):
            if name not in names:
                names.append(name)
    except Exception as exc:  # noqa: BLE001 - the ast answer stands on its own
        log.debug("papermill could not inspect %s: %s", path, exc)
    return names


def notebook_parameters(declared: Sequence[str], values: dict) -> dict:
    """Only the parameters the notebook declares (papermill would inject the others as new names)."""
    return {k: v for k, v in values.items() if k in declared}


@dataclass
class NotebookRun:
    name: str
    source: str
    output: str
    parameters: dict
    ok: bool = False
    skipped: str = ""
    seconds: float = 0.0
    error: str = ""


def _worker_init(env: dict[str, str], stderr_path: str | None = None) -> None:
    os.environ.update(env)
    logging.getLogger("papermill").setLevel(logging.ERROR)
    if stderr_path:
        # The kernels inherit this worker's stderr: their start-up chatter goes to the run's log file,
        # not into cron's mail; what matters (a failure) comes back in the outcome.
        fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 2)
        os.close(fd)


def execute_notebook(source: str, output: str, parameters: dict, cwd: str, timeout: int) -> dict:
    """Run one notebook with papermill (in a worker process); never raises, returns the outcome."""
    import papermill

    started = time.monotonic()
    try:
        papermill.execute_notebook(
            source, output, parameters=parameters, kernel_name=KERNEL_NAME, progress_bar=False,
            cwd=cwd, execution_timeout=timeout, log_output=False,
        )
    except papermill.PapermillExecutionError as exc:
        return {"ok": False, "seconds": time.monotonic() - started,
                "error": f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"}
    except Exception as exc:  # noqa: BLE001 - no kernel, dead kernel, timeout: all stop the report
        text = f"{type(exc).__name__}: {exc}"
        if "No such kernel" in text:
            text += (f" (install the kernel: {sys.executable} -m ipykernel install "
                     f"--sys-prefix --name {KERNEL_NAME})")
        return {"ok": False, "seconds": time.monotonic() - started, "error": text}
    return {"ok": True, "seconds": time.monotonic() - started, "error": ""}


def run_notebooks(runs: list[NotebookRun], jobs: int, env: dict[str, str],
                  while_running: Callable[[], object] | None = None,
                  stderr_path: Path | None = None) -> object:
    """Run the notebooks ``jobs`` at a time in worker processes; run ``while_running`` meanwhile, in a
    thread of this process (DuckDB releases the GIL while it computes).

    The first failure cancels the notebooks not started yet. Returns what ``while_running`` returned;
    its exception is re-raised once the notebooks are done, so no kernel is left behind.
    """
    import threading

    outcome_of_side: dict = {}

    def side() -> None:
        try:
            outcome_of_side["result"] = while_running()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            outcome_of_side["error"] = exc

    thread = threading.Thread(target=side, name="report-summary", daemon=True) if while_running else None
    if thread is not None:
        thread.start()
    todo = [r for r in runs if not r.skipped]
    try:
        if todo:
            _run_pool(todo, jobs, env, stderr_path)
    finally:
        if thread is not None:
            thread.join()
    if "error" in outcome_of_side:
        raise outcome_of_side["error"]
    return outcome_of_side.get("result")


def _run_pool(todo: list[NotebookRun], jobs: int, env: dict[str, str], stderr_path: Path | None) -> None:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # Not a plain fork of this process, which holds DuckDB threads: a fork server started fresh, that
    # imports papermill once (seconds: nbformat's schema validator) and forks the workers from there.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["papermill", "dlvstats.report.notebooks"])
    pool = ProcessPoolExecutor(max_workers=max(1, min(jobs, len(todo))), mp_context=ctx, initializer=_worker_init,
                      initargs=(env, str(stderr_path) if stderr_path else None))
    pending = {}
    try:
        for run in todo:
            log.info("running notebook %s", run.name)
            future = pool.submit(execute_notebook, run.source, run.output, run.parameters,
                                 str(Path(run.source).parent), CELL_TIMEOUT_SECONDS)
            pending[future] = run
        failed = False
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                run = pending.pop(future)
                if future.cancelled():
                    run.skipped = "not run: an earlier notebook failed"
                    continue
                outcome = future.result()
                run.ok, run.seconds, run.error = outcome["ok"], outcome["seconds"], outcome["error"]
                if run.ok:
                    log.info("notebook %s done in %.1f s", run.name, run.seconds)
                    continue
                log.error("notebook %s failed after %.1f s: %s", run.name, run.seconds, run.error)
                if not failed:
                    failed = True
                    for other in pending:
                        other.cancel()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------------------------------
# Privacy: no e-mail address leaves in a report (the scrubber: dlvstats.scrub)

def scrub_notebook_outputs(path: Path, scrubber: AddressScrubber) -> None:
    """Remove addresses from an executed notebook's outputs (the record stays, minus personal data)."""
    nb = read_notebook(path)
    before = scrubber.count
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = scrubber.deep(output["text"])
            if "data" in output:
                output["data"] = scrubber.deep(output["data"])
            if "evalue" in output:
                output["evalue"] = scrubber.text(output["evalue"])
            if "traceback" in output:
                output["traceback"] = scrubber.deep(output["traceback"])
    if scrubber.count != before:
        log.warning("%s: %d e-mail address(es) in the outputs were replaced by a pseudonym",
                    path.name, scrubber.count - before)
        nb.setdefault("metadata", {}).setdefault("dlvstats", {})["addresses_hidden"] = scrubber.count - before
        write_notebook(nb, path)


