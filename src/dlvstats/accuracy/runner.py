"""The sweep: for each world x seed, simulate (cached), ingest into a real DuckDB file, run every
estimator and score it against the truth.

Simulated drops are cached under ``cache_dir/<key>/`` where the key hashes the world, the seed, the
scale (contacts, months) and the simulator's code (the simulate package, its worlds included, and
the packaged data it reads): a rerun after an estimator change re-ingests and re-scores, and only re-simulates
when the simulator changed. The database is rebuilt every time (ingest and classification are part
of what is measured).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dlvstats.accuracy.compare import CELL_COLUMNS
from dlvstats.accuracy.estimates import estimate_cells
from dlvstats.ingest import ingest_paths
from dlvstats.simulate import simulate
from dlvstats.simulate.worlds import MECHANISMS, parse_world

#: The default world (no mechanism) is scored too, under this name.
DEFAULT_WORLD = "default"
#: ``--scale 1`` is the demo's size: 20,000 contacts.
CONTACTS_AT_SCALE_1 = 20000
_PACKAGE = Path(__file__).resolve().parent.parent


def all_worlds() -> list[str]:
    return [DEFAULT_WORLD, *MECHANISMS, "realistic"]


def parse_worlds(text: str) -> list[str]:
    """``all`` or a comma list of world names (each a ``parse_world`` spec without commas, or
    ``default``). Raises ValueError naming an unknown one."""
    if text.strip() == "all":
        return all_worlds()
    names = [s.strip() for s in text.split(",") if s.strip()]
    for name in names:
        if name != DEFAULT_WORLD:
            parse_world(name)  # raises ValueError with the known names
    if not names:
        raise ValueError("--worlds needs 'all' or at least one world name")
    return names


def simulator_hash() -> str:
    """Hash of the code and data the simulator runs on."""
    files = [*sorted((_PACKAGE / "simulate").rglob("*.py")),
             *sorted(p for p in (_PACKAGE / "data").rglob("*") if p.is_file())]
    h = hashlib.sha256()
    for f in files:
        h.update(f.relative_to(_PACKAGE).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class Run:
    world: str
    seed: int
    contacts: int
    months: int
    cache_dir: Path
    code_hash: str

    @property
    def key(self) -> str:
        spec = f"{self.world}|{self.seed}|{self.contacts}|{self.months}|{self.code_hash}"
        return f"{self.world.replace(':', '_')}-s{self.seed}-{hashlib.sha256(spec.encode()).hexdigest()[:12]}"


def simulated(run: Run) -> tuple[Path, bool]:
    """The cached simulation's directory (simulated now if absent) and whether it was cached."""
    target = run.cache_dir / run.key
    if (target / "truth.json").exists():
        return target, True
    tmp = run.cache_dir / f".{run.key}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    world = None if run.world == DEFAULT_WORLD else parse_world(run.world)
    simulate(tmp, seed=run.seed, contacts=run.contacts, months=run.months, fmt="parquet", world=world)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target, False


def run_one(run: Run, work_dir: Path) -> tuple[pd.DataFrame, str]:
    """The cells of one world x seed, and a line saying what was done."""
    started = time.monotonic()
    sim_dir, cached = simulated(run)
    db_path = work_dir / f"{run.key}.duckdb"
    for p in (db_path, Path(f"{db_path}.wal")):
        p.unlink(missing_ok=True)
    try:
        ingest_paths(db_path, sorted((sim_dir / "drops").iterdir()))
        truth = json.loads((sim_dir / "truth.json").read_text(encoding="utf-8"))
        cells = estimate_cells(db_path, truth, sim_dir / "truth_machine_events.csv.gz")
    finally:
        for p in (db_path, Path(f"{db_path}.wal")):
            p.unlink(missing_ok=True)
    cells.insert(0, "seed", run.seed)
    cells.insert(0, "world", run.world)
    note = f"{run.world} seed {run.seed}: {'cached' if cached else 'simulated'}, scored " \
           f"{len(cells)} cells in {time.monotonic() - started:.1f}s"
    return cells[CELL_COLUMNS], note


def sweep(worlds: list[str], seeds: list[int], *, contacts: int, months: int, cache_dir: Path, work_dir: Path,
          jobs: int = 1, progress=None) -> pd.DataFrame:
    """Every world x seed (``jobs`` processes); ``progress(done, total, line)`` after each run."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    work_dir.mkdir(parents=True, exist_ok=True)
    code = simulator_hash()
    runs = [Run(w, s, contacts, months, cache_dir, code) for w in worlds for s in seeds]
    parts = []
    if jobs <= 1:
        for i, run in enumerate(runs, start=1):
            cells, note = run_one(run, work_dir)
            parts.append(cells)
            if progress:
                progress(i, len(runs), note)
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(run_one, run, work_dir) for run in runs]
            for i, fut in enumerate(as_completed(futures), start=1):
                cells, note = fut.result()
                parts.append(cells)
                if progress:
                    progress(i, len(runs), note)
    order = {w: i for i, w in enumerate(worlds)}
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["world", "seed"], key=lambda c: c.map(order) if c.name == "world" else c,
                           kind="stable").reset_index(drop=True)
