"""What spans months: the month buffers rows wait in until the drop of their month is written
(``MonthBuckets``), the run's counters and truth records (``RunState``), and what a world's
mechanism sees of one month (``MonthView``, the hook of ``dlvstats.simulate.worlds``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dlvstats.simulate.campaigns import Campaigns
from dlvstats.simulate.params import Params
from dlvstats.simulate.population import Population
from dlvstats.simulate.tables import KINDS


class MonthBuckets:
    """Column chunks per kind and per target month; a chunk is a dict of equal-length arrays."""

    def __init__(self, bounds: np.ndarray):
        self.bounds = bounds
        self.months = len(bounds) - 1
        self.chunks: dict[str, list[list[dict]]] = {k: [[] for _ in range(self.months)] for k in KINDS}

    def add(self, kind: str, ts: np.ndarray, cols: dict) -> None:
        """File rows by the month of ts; rows at or after the end of the period are dropped."""
        if len(ts) == 0:
            return
        cols = dict(cols, ts=np.asarray(ts, dtype=np.int64))
        month = np.searchsorted(self.bounds, ts, side="right") - 1
        ok = (month >= 0) & (month < self.months)
        if not ok.all():
            month = month[ok]
            cols = {k: v[ok] for k, v in cols.items()}
        if len(month) == 0:
            return
        order = np.argsort(month, kind="stable")
        month = month[order]
        cols = {k: v[order] for k, v in cols.items()}
        cuts = np.searchsorted(month, np.arange(self.months + 1))
        for mi in range(self.months):
            lo, hi = cuts[mi], cuts[mi + 1]
            if hi > lo:
                self.chunks[kind][mi].append({k: v[lo:hi] for k, v in cols.items()})

    def take(self, kind: str, mi: int) -> dict | None:
        parts = self.chunks[kind][mi]
        self.chunks[kind][mi] = []
        if not parts:
            return None
        return {k: np.concatenate([c[k] for c in parts]) for k in parts[0]}


@dataclass
class RunState:
    """Counters and records that span months (ids, truth accumulators)."""

    next_message: int = 0
    next_open: int = 0
    next_click: int = 0
    next_order: int = 0
    machine_kind: list = field(default_factory=list)  # 0 open, 1 click
    machine_num: list = field(default_factory=list)
    machine_type: list = field(default_factory=list)
    truth_parts: list = field(default_factory=list)
    orders_contact: list = field(default_factory=list)
    orders_ts: list = field(default_factory=list)
    gift_rereg: list = field(default_factory=list)  # (campaign, contact, ts)
    gift_clickers: list = field(default_factory=list)  # (campaign, contact, first click ts, reregistered)
    stale_sends: list = field(default_factory=list)
    listing: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)


@dataclass
class MonthView:
    """What a world's mechanism sees of one month's candidate sends (hook points of dlvstats.simulate.worlds).
    Arrays are per candidate send; events refer to sends by their position in these arrays."""

    mi: int
    rng: np.random.Generator
    p: Params
    pop: Population
    camps: Campaigns
    ua_index: dict
    c: np.ndarray
    prov: np.ndarray
    k: np.ndarray
    keep: np.ndarray
    alive: np.ndarray
    delivered_at: np.ndarray
    read: np.ndarray
    read_at: np.ndarray
    end: int
