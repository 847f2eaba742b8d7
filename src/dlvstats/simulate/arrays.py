"""Small vectorised helpers of the simulator: random addresses in CIDR blocks, categorical and
log-normal draws, Europe/Paris offsets without a tz database, grouping and repeating rows, month
bounds, ISO strings and the run tag. Pure functions of their arguments (and of the generator given)."""

from __future__ import annotations

import hashlib

import numpy as np

from dlvstats.simulate.tables import HOUR


def _cidr(block: str) -> tuple[int, int]:
    net, bits = block.split("/")
    a, b, c, d = (int(x) for x in net.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d, 1 << (32 - int(bits))


def ips_in_blocks(rng: np.random.Generator, blocks, n: int, weights=None) -> np.ndarray:
    """n random IPv4 addresses (uint32) inside the given CIDR blocks, avoiding .0 and .255."""
    spans = [_cidr(b) for b in blocks]
    if weights is None:
        weights = np.array([s for _, s in spans], dtype=float)
    w = np.asarray(weights, dtype=float)
    which = rng.choice(len(spans), size=n, p=w / w.sum())
    base = np.array([b for b, _ in spans], dtype=np.int64)[which]
    size = np.array([s for _, s in spans], dtype=np.int64)[which]
    ip = base + (rng.random(n) * size).astype(np.int64)
    ip = (ip & ~np.int64(0xFF)) | (1 + (ip & 0xFF) % 254)
    return ip.astype(np.uint32)


def choice(rng: np.random.Generator, probs, n: int) -> np.ndarray:
    p = np.asarray(probs, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def lognormal(rng, median: float, sigma: float, n: int) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(n))


def _dst_bounds() -> np.ndarray:
    """UTC instants at which Europe/Paris switches to summer time and back, 1990-2100: the last
    Sunday of March and of October at 01:00 UTC. Computed once."""
    global _DST_BOUNDS
    if _DST_BOUNDS is None:
        bounds = []
        for y in range(1990, 2101):
            for month in (3, 10):
                last = np.datetime64(f"{y}-{month:02d}-31", "D")
                weekday = (last.astype(np.int64) - 4) % 7  # days since Sunday (1970-01-01 was a Thursday)
                bounds.append((last - np.timedelta64(int(weekday), "D")).astype("datetime64[s]").astype(np.int64) + HOUR)
        _DST_BOUNDS = np.array(bounds, dtype=np.int64)
    return _DST_BOUNDS


_DST_BOUNDS: np.ndarray | None = None


def paris_offset(ts: np.ndarray) -> np.ndarray:
    """UTC offset (s) of Europe/Paris at UTC instants ts (+2 h in summer time, else +1 h).
    Vectorised; no tz database needed."""
    idx = np.searchsorted(_dst_bounds(), ts, side="right")
    return np.where(idx % 2 == 1, 2 * HOUR, HOUR).astype(np.int64)


def first_per_group(keys: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Indices (into keys/ts) of the earliest row of each key."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((ts, keys))
    k = keys[order]
    first = np.ones(len(k), dtype=bool)
    first[1:] = k[1:] != k[:-1]
    return order[first]


def repeat_ranges(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts per row: (row index repeated, position 0..count-1 within the row)."""
    counts = counts.astype(np.int64)
    rows = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    pos = np.arange(len(rows)) - np.repeat(starts, counts)
    return rows, pos


def row_starts(counts: np.ndarray) -> np.ndarray:
    """Index of the first repeated row of each group made by repeat_ranges(counts)."""
    return (np.cumsum(counts) - counts).astype(np.int64)


def month_bounds(end_month: str, months: int) -> np.ndarray:
    end = np.datetime64(end_month, "M") + 1
    return np.arange(end - months, end + 1, dtype="datetime64[M]").astype("datetime64[s]").astype(np.int64)


def iso(ts: int) -> str:
    return str(np.datetime64(int(ts), "s")) + "Z"


def run_tag(seed: int, contacts: int, months: int, end_month: str) -> str:
    """A short tag in every id, so that two different simulated runs never share a natural key."""
    return hashlib.sha256(f"{seed}|{contacts}|{months}|{end_month}".encode()).hexdigest()[:6]


def local_to_utc(local: np.ndarray) -> np.ndarray:
    return local - paris_offset(local - HOUR)
