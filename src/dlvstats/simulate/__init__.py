"""Seeded, vectorised simulator of an e-mail service provider's logs, with the truth the logs hide.

What it does
    ``simulate(out_dir, ...)`` invents an ESP with a handful of client accounts, their lists and
    recipients, runs their campaigns month by month and writes one canonical drop per calendar month
    (``out_dir/drops/YYYY-MM/<kind>.<ext>``, format of ``docs/canonical-logs.md``) plus what
    the logs cannot show: ``truth.json`` (real read rates, image blocking, machine events, gift
    conversions, the stale client and the blocklisting), ``truth_machine_events.csv.gz`` (every
    machine open and click by ``event_id``) and ``truth_messages.parquet`` (latent flags per message).
    The model and every ``truth.json`` key are described in ``docs/simulator.md``; the numbers come
    from the "Simulator defaults" of ``shared/reference/published-figures.md`` (see ``Params``).

How
    Everything per recipient and per message is drawn with numpy on whole arrays; Python loops run
    only over months, accounts and campaigns. A month is one batch: candidate sends of all its
    campaigns, their outcomes and events, then the subscription changes they cause (unsubscribes,
    suppressions, gift moves) and the sends those changes cancel. Events land in the drop of the
    month of their timestamp (a message deferred over a month end appears as ``deferred`` in its
    send month and settled in the next). A writer thread renders and writes month k (pyarrow for
    CSV and Parquet, DuckDB for JSON lines) while month k+1 is simulated.

What it must not do
    It must not read real data, touch the network or any database other than a private in-memory
    DuckDB used for writing, nor depend on wall-clock time: the output is a function of the
    arguments only (same seed, same bytes). It must not import the CLI, ingest or metrics code: the
    estimators are validated against this truth, so the simulator may not share their logic. The
    one exception is ``esp``, which reads the drop the simulator wrote back with the canonical
    reader before rewriting it as an ESP's payloads; no truth passes through it. Import-linter
    checks both, and the layers inside the package (``pyproject.toml``).
    Recipients, domains of companies and sending IPs are synthetic (sending IPs are RFC 5737
    documentation addresses).

Where
    ``params`` (every behavioural number, the accounts), ``tables`` (providers, clients, user agents,
    IP blocks, bounce texts, the codes of coded columns), ``arrays`` (small vectorised helpers),
    ``population`` and ``campaigns`` (drawn once per run), ``state`` (what spans months, and what a
    world sees of one), ``month``, ``batch`` and ``events`` (one month of sends, the results of its
    steps, the rows it leaves), ``arrow`` (column chunks to canonical tables), ``writers`` (drop
    files, truth files), ``truth`` (``truth.json``), ``run`` (the driver and the CLI hook),
    ``worlds/`` (mechanisms on the driver's hooks) and ``esp`` (a canonical drop rewritten as an
    ESP's payloads, ``--as``).
"""

from __future__ import annotations

from dlvstats.simulate.arrays import run_tag
from dlvstats.simulate.params import ACCOUNTS, Params
from dlvstats.simulate.population import Contacts, Population
from dlvstats.simulate.run import main_from_args, simulate
from dlvstats.simulate.tables import CANONICAL_COLUMNS, FORMATS, KINDS, MACHINE_TYPES

__all__ = ["ACCOUNTS", "CANONICAL_COLUMNS", "FORMATS", "KINDS", "MACHINE_TYPES", "Contacts", "Params", "Population",
           "main_from_args", "run_tag", "simulate"]
