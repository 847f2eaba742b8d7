"""The mechanism contract: what a world may change in the simulator, and through which hooks.

A mechanism is a small class with a ``name``, a one-line ``summary``, the public ``source`` that
documents the behaviour, and a ``strength`` (its meaning is stated by each mechanism). The simulator
calls, when a world is given:

- ``setup(ctx)`` once, after the population is drawn: alter the contacts (images, devices, click
  propensity, MPP), register user agents and address pools (``ctx.add_ua``, ``ctx.add_pool``);
- ``opens(view, o)`` and ``clicks(view, q)`` each month, with the month's candidate sends
  (``view``) and its open or click events (dict of equal-length arrays: send, ts, ua, ip, type
  [, url]); they return the events, altered or extended. Machine events carry a machine type from
  ``simulate.MACHINE_TYPES``, so the truth lists every one of them by event_id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlvstats.simulate.arrays import ips_in_blocks
from dlvstats.simulate.params import Params
from dlvstats.simulate.population import Population


@dataclass
class SetupContext:
    rng: np.random.Generator
    pop: Population
    uas: list
    ua_index: dict
    params: Params
    bounds: np.ndarray

    def add_ua(self, ua: str) -> int:
        """Index of ``ua`` in the run's user-agent table (added if new)."""
        if ua in self.uas:
            return self.uas.index(ua)
        self.uas.append(ua)
        return len(self.uas) - 1

    def add_pool(self, name: str, blocks, size: int, weights=None) -> None:
        """A fleet of ``size`` addresses drawn from ``blocks`` (CIDR strings), named ``name``."""
        pop = self.pop
        if name in pop.ip_pools:
            return
        ips = ips_in_blocks(self.rng, blocks, size, weights=weights)
        pop.ip_pools[name] = (len(pop.ip_table), size)
        pop.ip_table = np.concatenate([pop.ip_table, ips])


def pool_ips(view, name: str, n: int) -> np.ndarray:
    """``n`` addresses of pool ``name``, each drawn independently (a pool, not one address)."""
    off, size = view.pop.ip_pools[name]
    return off + view.rng.integers(0, size, n)


def append_events(ev: dict, **new) -> dict:
    """``ev`` with the rows of ``new`` (same keys) appended."""
    return {key: np.concatenate([ev[key], np.asarray(new[key]).astype(ev[key].dtype, copy=False)]) for key in ev}


def delivered_kept(view) -> np.ndarray:
    """Candidate sends that were kept and delivered to a mailbox in the data window."""
    return np.nonzero(view.keep & view.alive)[0]


class Mechanism:
    name = "base"
    summary = ""
    source = ""
    default_strength = 1.0
    strength_meaning = ""

    def __init__(self, strength: float | None = None):
        self.strength = self.default_strength if strength is None else float(strength)
        if not 0 <= self.strength <= 10:
            raise ValueError(f"world {self.name}: strength must be between 0 and 10, got {self.strength}")

    def setup(self, ctx: SetupContext) -> None:
        pass

    def opens(self, view, o: dict) -> dict:
        return o

    def clicks(self, view, q: dict) -> dict:
        return q

    def describe(self) -> dict:
        return {"name": self.name, "strength": self.strength, "strength_meaning": self.strength_meaning,
                "summary": self.summary, "source": self.source}
