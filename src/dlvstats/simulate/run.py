"""The driver: ``simulate()`` draws the population and the campaigns, runs the months (a writer
thread writes month k while month k+1 is simulated), writes the truth files and returns the truth;
``main_from_args`` runs it for ``dlvstats simulate`` (the CLI owns the parser)."""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dlvstats.simulate.arrays import month_bounds, run_tag
from dlvstats.simulate.arrow import Dictionaries, empty_chunk, to_table
from dlvstats.simulate.campaigns import schedule_campaigns
from dlvstats.simulate.month import simulate_month
from dlvstats.simulate.params import ACCOUNTS, SHARED_IP, STALE_ACCOUNT, STALE_SLOT, Params
from dlvstats.simulate.population import build_population, ua_table
from dlvstats.simulate.state import MonthBuckets, RunState
from dlvstats.simulate.tables import (
    DAY,
    FORMATS,
    KINDS,
    S_FORM,
    S_GIFT,
    S_IMPORT,
    ST_BOUNCED,
    ST_DELIVERED,
    SUB_SOURCES,
)
from dlvstats.simulate.truth import TruthAccumulator, TruthArgs, TruthInputs, build_truth
from dlvstats.simulate.writers import WRITERS, TruthMessagesWriter, write_machine_events

ProgressFn = Callable[[str, int, int], None]


def simulate(out_dir, seed: int = 0, contacts: int = 20000, months: int = 12, end_month: str = "2026-10",
             fmt: str = "csv.gz", as_format: str = "canonical", progress: ProgressFn | None = None,
             params: Params | None = None, world=None) -> dict:
    """Simulate ``months`` calendar months ending with ``end_month`` (inclusive) for an ESP whose
    accounts hold ``contacts`` addresses at the start (new sign-ups come on top), write the drops
    and the truth files under ``out_dir`` and return the truth dict (also in ``truth.json``).
    ``progress(stage, done, total)`` is called as the work advances."""
    t_start = time.perf_counter()
    p = params or Params()
    _check_arguments(contacts, months, end_month, fmt, as_format)
    report = progress or (lambda stage, done, total: None)
    out = Path(out_dir)
    _prepare_out_dir(out)
    run = _Run(out, TruthArgs(seed, p, contacts, months, end_month, fmt, as_format), world)
    report("population", 1, 1)
    run.all_months(report)
    truth = run.finish()
    truth["runtime_seconds"] = round(time.perf_counter() - t_start, 3)
    (out / "truth.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n")
    report("truth", 1, 1)
    return truth


def _check_arguments(contacts: int, months: int, end_month: str, fmt: str, as_format: str) -> None:
    if contacts < 100:
        raise ValueError("contacts must be at least 100")
    if months < 1:
        raise ValueError("months must be at least 1")
    if len(end_month) != 7 or end_month[4] != "-":
        raise ValueError(f"end_month must look like YYYY-MM, got {end_month!r}")
    try:
        np.datetime64(end_month, "M")
    except ValueError as exc:
        raise ValueError(f"end_month must look like YYYY-MM, got {end_month!r}") from exc
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if as_format not in WRITERS:
        raise ValueError(f"unknown output flavour {as_format!r}; available: {', '.join(WRITERS)}")


class _Run:
    """One simulation: the population and campaigns drawn from the seed (separate random streams:
    population 1, campaigns 2, listing 3, month k ``[seed, 4, k]``), the month buffers and the
    writers. A writer thread renders and writes month k while month k+1 is simulated."""

    def __init__(self, out: Path, args: TruthArgs, world=None):
        seed, p = args.seed, args.params
        self.args, self.world = args, world
        self.out = out
        self.tag = run_tag(seed, args.contacts, args.months, args.end_month)
        self.bounds = month_bounds(args.end_month, args.months)
        uas, self.ua_index = ua_table()
        self.pop = build_population(np.random.default_rng([seed, 1]), p, args.contacts, self.bounds, self.ua_index)
        if world is not None:  # hook: a world's mechanisms alter the population (own random streams)
            world.setup(seed, self.pop, uas, self.ua_index, p, self.bounds)
        self.camps = schedule_campaigns(np.random.default_rng([seed, 2]), p, self.bounds, self.pop.stale_import_at,
                                        self.tag)
        self.st = RunState()
        self.st.listing = _blocklisting(np.random.default_rng([seed, 3]), p, self.camps, self.bounds)
        self.buckets = _first_buckets(self.bounds, self.pop, self.camps, self.st.listing)
        self.dicts = Dictionaries(self.pop, self.camps, uas, self.tag)
        self.writer = WRITERS[args.as_format](out, args.fmt)
        self.agg = TruthAccumulator()
        self.truth_writer = TruthMessagesWriter(out / "truth_messages.parquet", self.dicts)

    def all_months(self, report: ProgressFn) -> None:
        """Simulate every month, one month in flight on the writer thread at most (bounded memory;
        a writer's error surfaces at the next month)."""
        from concurrent.futures import ThreadPoolExecutor

        months = self.args.months
        pending = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dlvstats-sim-writer") as pool:
            for mi in range(months):
                chunks, parts = self.month(mi)
                if pending is not None:
                    pending.result()
                    report("months", mi, months)
                pending = pool.submit(self.write_month, mi, chunks, parts)
            pending.result()
            report("months", months, months)

    def month(self, mi: int) -> tuple[dict, list]:
        """Simulate month mi; its rows (per kind) and truth parts, counted and accumulated."""
        st, world = self.st, self.world
        simulate_month(mi, np.random.default_rng([self.args.seed, 4, mi]), self.args.params, self.pop, self.camps,
                       self.bounds, self.buckets, st, self.ua_index, world)
        parts, st.truth_parts = st.truth_parts, []
        for part in parts:
            self.agg.add(part)
            if world is not None:  # hook: the world's own truth (per provider, age year, device)
                world.add_truth(part, self.pop.contacts)
        chunks = {kind: self.buckets.take(kind, mi) for kind in KINDS}
        for kind in KINDS:
            _count_rows(st.counts, kind, chunks[kind])
        return chunks, parts

    def write_month(self, mi: int, chunks: dict, truth_parts: list) -> None:
        """Runs on the writer thread: pyarrow, zlib and the Parquet writer release the GIL, so it
        overlaps with the simulation of the next month."""
        for part in truth_parts:
            self.truth_writer.write(part)
        tables = {kind: to_table(kind, chunks[kind] if chunks[kind] is not None else empty_chunk(kind), self.dicts,
                                 self.camps, self.st.listing) for kind in KINDS}
        self.writer.write_month(str(np.datetime64(int(self.bounds[mi]), "s").astype("datetime64[M]")), tables)

    def finish(self) -> dict:
        """Close the writers, write the machine events; the truth dict (without the runtime)."""
        self.truth_writer.close()
        written = self.writer.close()
        write_machine_events(self.out / "truth_machine_events.csv.gz", self.st, self.tag)
        truth = build_truth(TruthInputs(self.args, self.tag, self.bounds, self.pop, self.camps, self.st, self.agg,
                                        written))
        if self.world is not None:
            truth["world"] = self.world.truth()
        return truth


def _blocklisting(rng, p: Params, camps, bounds: np.ndarray) -> dict:
    """The listing of the shared IP a few days after the stale list's first campaign (none when
    the run ends before it)."""
    stale_camps = np.nonzero((camps.account == STALE_ACCOUNT) & (camps.slot == STALE_SLOT))[0]
    if not len(stale_camps):
        return {}
    first = int(camps.start[stale_camps[0]])
    listed = first + int(rng.uniform(*p.listing_delay_days) * DAY)
    delisted = listed + int(rng.uniform(*p.listing_duration_days) * DAY)
    if listed >= bounds[-1]:
        return {}
    return {"target": SHARED_IP, "blocklist": "trendmicro_ers", "listed_at": listed, "delisted_at": delisted,
            "trigger_account": ACCOUNTS[STALE_ACCOUNT].account_id, "trigger_campaign": camps.ids[stale_camps[0]]}


def _first_buckets(bounds: np.ndarray, pop, camps, listing: dict) -> MonthBuckets:
    """The month buffers, holding the rows known before any month runs: imports and sign-ups,
    campaigns, the listing and delisting."""
    buckets = MonthBuckets(bounds)
    buckets.add("subscriptions", pop.signup_rows["ts"], {k: v for k, v in pop.signup_rows.items() if k != "ts"})
    buckets.add("campaigns", camps.start, {"camp": np.arange(len(camps))})
    if listing:
        buckets.add("blocklists", np.array([listing["listed_at"], listing["delisted_at"]]), {"event": np.array([0, 1])})
    return buckets


def _prepare_out_dir(out: Path) -> None:
    """Replace a previous simulation in out; refuse to mix with anything else."""
    drops = out / "drops"
    if drops.exists() and any(drops.iterdir()):
        if not (out / "truth.json").exists():
            raise FileExistsError(f"{drops} exists and holds files that no simulation wrote; choose another --out")
        shutil.rmtree(drops)
    for name in ("truth.json", "truth_machine_events.csv.gz", "truth_messages.parquet"):
        (out / name).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def _count_rows(counts: dict, kind: str, ch: dict | None) -> None:
    if ch is None:
        return
    if kind == "subscriptions":
        for code in np.unique(ch["source"]):
            action = "subscribe" if code in (S_IMPORT, S_FORM, S_GIFT) else "unsubscribe"
            key = f"subscriptions:{SUB_SOURCES[code]}:{action}"
            counts[key] = counts.get(key, 0) + int((ch["source"] == code).sum())
    if kind == "sends":
        n_final = int(((ch["status"] == ST_DELIVERED) | (ch["status"] == ST_BOUNCED)).sum())
        counts["sends:settled_rows"] = counts.get("sends:settled_rows", 0) + n_final
        counts["sends:interim_rows"] = counts.get("sends:interim_rows", 0) + len(ch["status"]) - n_final


def main_from_args(args) -> int:
    """Run ``dlvstats simulate`` from parsed arguments; progress lines go to stderr (through
    ``args.progress`` when the CLI provides one), the summary to stdout. Returns the exit code."""
    started = time.perf_counter()
    progress = getattr(args, "progress", None)
    if progress is None:
        def progress(stage: str, done: int, total: int) -> None:
            print(f"[{time.perf_counter() - started:6.1f}s] {stage} {done}/{total}", file=sys.stderr, flush=True)

    try:
        truth = simulate(args.out, seed=args.seed, contacts=args.contacts, months=args.months,
                         end_month=args.end_month, fmt=args.fmt, as_format=args.as_format, progress=progress,
                         world=getattr(args, "world_obj", None))
    except (ValueError, FileExistsError) as exc:
        print(f"dlvstats simulate: error: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    rows = truth["rows"]
    print(f"Simulated {truth['period']['start']} .. {truth['period']['end']} (seed {truth['seed']}, "
          f"{args.contacts:,} contacts at the start) in {elapsed:.1f} s")
    print("Rows written, all months:")
    width = max(len(k) for k in rows)
    for kind, n in rows.items():
        print(f"  {kind:<{width}}  {n:>12,}")
    hl = truth["headline"]
    print(f"Messages {hl['messages']:,}, delivered {hl['delivered']:,}: measured open rate "
          f"{hl['measured_open_rate']:.1%}, true read rate {hl['true_read_rate']:.1%}, human click rate "
          f"{hl['human_click_rate']:.2%}, machine share of clicks {hl['machine_click_share']:.0%}")
    out = Path(args.out)
    print(f"Drops:  {out / 'drops'}/YYYY-MM/<kind>.{args.fmt} ({len(truth['rows'])} kinds a month)")
    print(f"Truth:  {out / 'truth.json'}, {out / 'truth_machine_events.csv.gz'}, {out / 'truth_messages.parquet'}")
    return 0
