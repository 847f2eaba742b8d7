"""Simulated worlds: named mechanisms composed on top of the simulator's default world.

    from dlvstats.simulate.worlds import parse_world
    world = parse_world("scanner_pools:0.5,proxy_prefetch")
    simulate(out, seed=1, world=world)

``dlvstats simulate --list-worlds`` prints every mechanism with its public source.
"""

from __future__ import annotations

import numpy as np

from dlvstats.simulate.worlds.base import Mechanism, SetupContext
from dlvstats.simulate.worlds.clients import BlockedClickRatio, DeviceBlocking, PlainTextReaders
from dlvstats.simulate.worlds.lists import OldLists, ThinProviders
from dlvstats.simulate.worlds.machines import MppVariants, ProxyPrefetch, ScannerPools
from dlvstats.simulate.worlds.truth import WorldTruth

MECHANISMS: dict[str, type[Mechanism]] = {m.name: m for m in (
    ScannerPools, ProxyPrefetch, MppVariants, DeviceBlocking, BlockedClickRatio, PlainTextReaders, OldLists,
    ThinProviders)}

# strengths justified in docs/simulator.md ("The realistic world") from published figures. Calibrated
# on 20,000 contacts x 6 months (seed 1): machine share of clicks 22% overall, B2C accounts 6-14%,
# B2B 59% (published: B2C 5-15%, B2B/media 30-65%); scanner_pools:1 gave 85%.
REALISTIC = (("scanner_pools", 0.01), ("proxy_prefetch", 0.15), ("mpp_variants", 0.3), ("device_blocking", 0.43),
             ("blocked_click_ratio", 1.2), ("plain_text", 0.04), ("old_lists", 0.5), ("thin_providers", 0.7))
REALISTIC_SUMMARY = "a mix of every mechanism at strengths taken from published figures (docs/simulator.md)"


class World:
    """Mechanisms applied in order; each draws from its own random stream, so the default world's
    streams (and output) are untouched."""

    def __init__(self, spec: str, mechanisms: list[Mechanism]):
        self.spec, self.mechanisms = spec, mechanisms
        self.seed = 0
        self._truth = WorldTruth()

    def setup(self, seed: int, pop, uas, ua_index, p, bounds) -> None:
        self.seed = seed
        for i, m in enumerate(self.mechanisms):
            m.setup(SetupContext(np.random.default_rng([seed, 50, i]), pop, uas, ua_index, p, bounds))

    def month_rng(self, mi: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, 51, mi])

    def opens(self, view, o: dict) -> dict:
        for m in self.mechanisms:
            o = m.opens(view, o)
        return o

    def clicks(self, view, q: dict) -> dict:
        for m in self.mechanisms:
            q = m.clicks(view, q)
        return q

    def add_truth(self, part: dict, C) -> None:
        self._truth.add(part, C)

    def truth(self) -> dict:
        return {"spec": self.spec, "mechanisms": [m.describe() for m in self.mechanisms], **self._truth.result()}


def parse_world(spec: str) -> World:
    """``name[:strength][,name[:strength]...]``; ``realistic`` expands to its mix. Raises ValueError
    naming the unknown mechanism or bad strength."""
    mechanisms: list[Mechanism] = []
    for item in [s.strip() for s in spec.split(",") if s.strip()]:
        name, _, strength = item.partition(":")
        if name == "realistic":
            if strength:
                raise ValueError("world realistic takes no strength; compose mechanisms instead")
            mechanisms += [MECHANISMS[n](s) for n, s in REALISTIC]
            continue
        if name not in MECHANISMS:
            raise ValueError(f"unknown world {name!r}; run `dlvstats simulate --list-worlds` (known: "
                             f"{', '.join(list(MECHANISMS) + ['realistic'])})")
        try:
            value = float(strength) if strength else None
        except ValueError:
            raise ValueError(f"world {name}: strength must be a number, got {strength!r}") from None
        mechanisms.append(MECHANISMS[name](value))
    if not mechanisms:
        raise ValueError("--world needs at least one name; run `dlvstats simulate --list-worlds`")
    return World(spec, mechanisms)


def list_worlds() -> str:
    lines = []
    for name, cls in MECHANISMS.items():
        lines.append(f"{name:<20} {cls.summary}")
        lines.append(f"{'':<20}   strength (default {cls.default_strength:g}): {cls.strength_meaning}")
        lines.append(f"{'':<20}   documented: {cls.source}")
    lines.append(f"{'realistic':<20} {REALISTIC_SUMMARY}")
    lines.append(f"{'':<20}   = {','.join(f'{n}:{s:g}' for n, s in REALISTIC)}")
    return "\n".join(lines)
