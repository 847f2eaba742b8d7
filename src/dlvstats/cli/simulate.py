"""``dlvstats simulate``: a realistic simulated drop, with its latent truth, for demos and tests."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from dlvstats.cli.common import PATH, Progress, Run, command, usage
from dlvstats.exit_codes import EXIT_OK, EXIT_USAGE

#: ``dlvstats simulate --as``: the writers of ``dlvstats.simulate.esp`` (its ``FORMATS``;
#: not imported here, to keep the CLI's start light; a test checks the two agree)
ESP_WRITERS = ("ses", "sendgrid", "brevo", "mailjet", "mandrill", "mailchimp", "sparkpost", "exim")

EPILOG = """\
worlds (mechanisms on top of the default world, to test estimators on logs they were not designed for):
  dlvstats simulate --list-worlds                     what each mechanism does, where it is documented
  dlvstats simulate --out w1 --world scanner_pools     gateways with address pools (default strength)
  dlvstats simulate --out w2 --world scanner_pools:0.8,proxy_prefetch:0.5
  dlvstats simulate --out w3 --world realistic         every mechanism at published strengths
truth.json then gains a "world" section: true read rate and pixel-never-loaded share per provider,
age year, device and client; truth_machine_events.csv.gz lists every machine open and click.
"""


@command(
    "simulate", short_help="write a realistic simulated drop (with its latent truth) for demos and tests",
    help="Simulate an ESP's month-by-month logs: several clients, lists collected over 13 years, image "
    "blocking, Apple MPP, link scanners, gift campaigns, a stale list and a blocklisting. Writes canonical "
    "drops DIR/drops/YYYY-MM/ and DIR/truth.json.",
    epilog=EPILOG,
)
@click.option("--out", type=PATH, default=None, help="output directory (created; required unless --list-worlds)")
@click.option("--world", metavar="NAME[:STRENGTH][,...]", default=None,
              help="compose simulated-world mechanisms, e.g. scanner_pools:0.5,mpp_variants or realistic "
              "(default: the default world, unchanged)")
@click.option("--list-worlds", is_flag=True, help="list the world mechanisms and exit")
@click.option("--seed", type=int, default=0, help="random seed: the same seed gives the same files")
@click.option("--contacts", type=int, default=20000,
              help="addresses in the population (default 20000, about 1M sends over 12 months)")
@click.option("--months", type=int, default=12, help="months of sending to simulate (default 12)")
@click.option("--end-month", default="2026-10", help="last simulated month, YYYY-MM (default 2026-10)")
@click.option("--format", "fmt", default="csv.gz", type=click.Choice(["csv", "csv.gz", "parquet", "jsonl", "jsonl.gz"]),
              help="file format of the canonical drop (default csv.gz)")
@click.option("--as", "as_format", default="canonical", type=click.Choice(["canonical", *ESP_WRITERS]),
              help="canonical (default); " + ", ".join(ESP_WRITERS) + " also writes the same logs as that "
              "ESP's event payloads (or Exim's main log) in DIR/drops-<format>/YYYY-MM/, to try the adapters")
def simulate(run: Run, out: Path | None, world: str | None, list_worlds: bool, seed: int, contacts: int,
             months: int, end_month: str, fmt: str, as_format: str) -> int:
    if list_worlds:
        from dlvstats.simulate.worlds import list_worlds as describe

        print(describe())
        return EXIT_OK
    if out is None:
        return usage("error: --out DIR is required (or --list-worlds)")
    world_obj = None
    if world:
        from dlvstats.simulate.worlds import parse_world

        try:
            world_obj = parse_world(world)
        except ValueError as exc:
            return usage(f"error: --world: {exc}")
    from dlvstats import simulate as simulator

    started = time.perf_counter()
    try:
        truth = simulator.simulate(out, seed=seed, contacts=contacts, months=months, end_month=end_month, fmt=fmt,
                                   as_format="canonical", progress=Progress(run.quiet), world=world_obj)
    except (ValueError, FileExistsError) as exc:
        print(f"dlvstats simulate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(format_summary(truth, out, contacts, fmt, time.perf_counter() - started))
    if as_format != "canonical":
        from dlvstats.simulate.esp import write_drops_as

        target = out / f"drops-{as_format}"
        write_drops_as(as_format, out / "drops", target)
        print(f"ESP payloads ({as_format}): {target}/YYYY-MM/  (load with: dlvstats ingest --format "
              f"{as_format} {target}/YYYY-MM)")
    return EXIT_OK


def format_summary(truth: dict, out: Path, contacts: int, fmt: str, seconds: float) -> str:
    """What was simulated: the period, the rows per kind, the headline truth, where the files are."""
    rows = truth["rows"]
    width = max(len(k) for k in rows)
    hl = truth["headline"]
    return "\n".join([
        (f"Simulated {truth['period']['start']} .. {truth['period']['end']} (seed {truth['seed']}, "
         f"{contacts:,} contacts at the start) in {seconds:.1f} s"),
        "Rows written, all months:",
        *(f"  {kind:<{width}}  {n:>12,}" for kind, n in rows.items()),
        (f"Messages {hl['messages']:,}, delivered {hl['delivered']:,}: measured open rate "
         f"{hl['measured_open_rate']:.1%}, true read rate {hl['true_read_rate']:.1%}, human click rate "
         f"{hl['human_click_rate']:.2%}, machine share of clicks {hl['machine_click_share']:.0%}"),
        f"Drops:  {out / 'drops'}/YYYY-MM/<kind>.{fmt} ({len(rows)} kinds a month)",
        f"Truth:  {out / 'truth.json'}, {out / 'truth_machine_events.csv.gz'}, {out / 'truth_messages.parquet'}",
    ])
