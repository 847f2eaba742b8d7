"""docs/accuracy.md from a scored sweep: a summary per world, then every cell over seeds."""

from __future__ import annotations

import math

import pandas as pd

from dlvstats.accuracy.compare import AGE_MIN_DELIVERED, summarise, world_summary, wrong_while_ok


def _f(x, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:,.0f}" if digits == 0 else f"{x:.{digits}f}"


def _pct(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.0%}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


EXPLAIN = f"""\
How to read it. Each world is the default simulated ESP with one mechanism of `dlvstats.simulate.worlds`
added (`default`: none; `realistic`: the mix of docs/simulator.md). Truth: the simulator's latent
figures (`truth.json`, its `world` section when there is one) — for the read estimators, the read rate
and the share of readers whose pixel never loaded among delivered messages without a true machine
open. Estimate: the mean over seeds of what the project reports. Error = estimate − truth; *worst*
is the signed error of largest magnitude over seeds. Coverage: the share of seeds whose 95 % interval
holds the truth (a calibrated interval: about 95 %). Statuses: the `estimate_status` the project gave
the cell in each seed. Tolerances: image_blocked_share 0.04 and est_read_rate 0.03 per provider;
est_read_rate per age year min(0.03, max(0.01, 0.2 × truth)) when the age year has
{AGE_MIN_DELIVERED:,}+ delivered (smaller ones unscored); classification precision and recall 0.05
below 1; gift re-registrations exact; gift buyer rates unscored. **Wrong while ok**: seeds where the
error exceeds the tolerance while the status says `ok` — the promise `ok` breaks.

In the summary, *worst error* is taken over the scored cells (those a tolerance applies to: every
provider, age years with {AGE_MIN_DELIVERED:,}+ delivered); the per-cell tables below show the rest.
For classification, *delivered* is the denominator (events truly or labelled of the class). The gift
buyer rates' truth is the realised rate of the same people, so their coverage checks the counting,
not the interval's calibration; re-registrations are counts (error 0 = exact).
"""


def render(scored: pd.DataFrame, command: str, header_note: str = "") -> str:
    ws = world_summary(scored)
    cells = summarise(scored)
    bad = wrong_while_ok(scored)
    seeds = scored.groupby("world", sort=False)["seed"].nunique()
    out = ["# Accuracy of the estimators across simulated worlds", "",
           "Produced by the harness (`dlvstats.accuracy`), not edited by hand:", "", "```", command, "```", ""]
    if header_note:
        out += [header_note, ""]
    worlds = ", ".join(f"{w} ({n} seeds)" for w, n in seeds.items())
    total = int(scored["wrong_while_ok"].sum())
    out += [f"Worlds: {worlds}. Wrong while ok, in all: **{total}** cells.", "", EXPLAIN, ""]
    out += ["## Summary per world and quantity", ""]
    out += _table(["world", "table", "quantity", "worst error", "worst cell", "coverage", "scored",
                   "over tol.", "ok", "wrong while ok"],
                  [[r.world, r.table, f"`{r.quantity}`", _f(r.worst_error), r.worst_cell,
                    f"{_pct(r.coverage)} of {r.intervals}" if r.intervals else "–", str(r.scored),
                    str(r.over_tolerance), str(r.ok), f"**{r.wrong_while_ok}**" if r.wrong_while_ok else "0"]
                   for r in ws.itertuples(index=False)])
    out += ["", "## Coverage per quantity (all worlds)", ""]
    cov = scored[scored["covered"].notna()].groupby(["table", "quantity"], sort=False)["covered"].agg(["mean", "size"])
    out += _table(["table", "quantity", "coverage", "intervals"],
                  [[t, f"`{q}`", _pct(r["mean"]), str(int(r["size"]))] for (t, q), r in cov.iterrows()])
    out += ["", "## Wrong while ok", ""]
    if bad.empty:
        out += ["None: no cell was off by more than its tolerance while its status said `ok`."]
    else:
        out += _table(["world", "seed", "table", "quantity", "cell", "delivered", "truth", "estimate", "error",
                       "tolerance"],
                      [[r.world, str(r.seed), r.table, f"`{r.quantity}`", r.cell, _f(float(r.delivered), 0),
                        _f(r.truth), _f(r.estimate), _f(r.error), _f(r.tolerance)]
                       for r in bad.itertuples(index=False)])
    out += ["", "## Every cell, over seeds", ""]
    for world, g in cells.groupby("world", sort=False):
        out += [f"### {world}", ""]
        out += _table(["table", "quantity", "cell", "delivered", "truth", "estimate", "mean abs err", "worst",
                       "tol.", "coverage", "statuses", "wrong while ok"],
                      [[r.table, f"`{r.quantity}`", r.cell, _f(r.delivered, 0), _f(r.truth), _f(r.estimate),
                        _f(r.mean_abs_error), _f(r.worst_error), _f(r.tolerance, 3),
                        _pct(r.coverage) if r.intervals else "–", r.statuses, str(r.wrong_while_ok)]
                       for r in g.itertuples(index=False)])
        out += [""]
    return "\n".join(out).rstrip() + "\n"
