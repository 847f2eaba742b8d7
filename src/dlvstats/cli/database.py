"""The database commands: ``info``, ``classify``, ``providers``, ``forget``, ``migrate``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dlvstats.cli.common import PATH, Run, command, db_option, pairs
from dlvstats.exit_codes import EXIT_FAILED, EXIT_OK


@command("info", short_help="what the database holds: row counts, coverage, orphans, rejects",
         help="Row counts per table, date coverage, orphans (opens, clicks, complaints whose message has no "
         "send), rejects and the schema version.")
@db_option()
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table")
def info(run: Run, db: Path | None, output_format: str) -> int:
    from dlvstats import info as info_module

    report = info_module.database_info(db or run.settings.db_path)
    if output_format == "json":
        import json

        print(json.dumps(report, indent=2, default=str))
    else:
        print(info_module.format_info(report))
    return EXIT_OK


CLASSIFY_EPILOG = """\
examples:
  dlvstats classify --db data/dlvstats.duckdb
  echo '{"name": "strict", "scanner_seconds": 300}' > strict.json
  dlvstats classify --db data/dlvstats.duckdb --rules strict.json
"""


@command("classify", short_help="re-label opens and clicks as human or machine (after changing rules)",
         help="Rebuild the human/machine labels of every open and click and the per-message facts, with the "
         "default rules or a JSON rules file. No re-ingest needed. Then prints the count per rule and the drift "
         "alarms: a provider's machine-open share moving sharply month to month, machine events from networks in "
         "no list growing, an old networks snapshot.", epilog=CLASSIFY_EPILOG)
@db_option()
@click.option("--rules", type=PATH, default=None, help="JSON file overriding fields of the default RuleSet")
def classify(run: Run, db: Path | None, rules: Path | None) -> int:
    import json
    from dataclasses import replace

    from dlvstats import classify as classify_module
    from dlvstats import db as dbmod
    from dlvstats import drift

    ruleset = classify_module.DEFAULT_RULES
    if rules:
        overrides = json.loads(rules.read_text())
        ruleset = replace(ruleset, name=overrides.pop("name", str(rules)), **overrides)
    db_path = db or run.settings.db_path
    con = dbmod.connect(db_path, config=run.settings)
    try:
        dbmod.require_dlvstats_db(con, db_path)
        con.execute("BEGIN TRANSACTION")
        classify_module.classify(con, ruleset)
        con.execute("COMMIT")
        rows = con.execute(
            "SELECT 'opens', actor_rule, count(*) FROM opens GROUP BY ALL UNION ALL "
            "SELECT 'clicks', actor_rule, count(*) FROM clicks GROUP BY ALL ORDER BY 1, 2"
        ).fetchall()
        alarms = drift.alarms(con)
    finally:
        con.close()
    print(f"Re-labelled with rules '{ruleset.name}':")
    for kind, rule, n in rows:
        print(f"  {kind:<7}{rule:<22}{n:>12,}")
    print("Drift alarms (is a rule going stale? docs/classification.md):")
    for alarm in alarms or ["none"]:
        print(f"  {alarm}")
    return EXIT_OK


@command("providers", short_help="show or extend the domain -> mailbox provider mapping",
         help="Show the mapping, add entries (e.g. your B2B recipients' domains hosted by Google Workspace or "
         "Microsoft 365), or propose entries from MX records.")
@db_option()
@click.option("--add", multiple=True, metavar="DOMAIN=PROVIDER",
              help="add or replace a mapping, e.g. --add acme.fr=microsoft (repeatable)")
@click.option("--mx", is_flag=True,
              help="look up MX records of the most frequent 'other' domains (needs DNS; cached) and propose "
              "gmail/microsoft entries")
@click.option("--apply-mx", is_flag=True, help="with --mx: store the proposals")
@click.option("--top", type=int, default=200, help="with --mx: how many 'other' domains to look up")
def providers(run: Run, db: Path | None, add: tuple[str, ...], mx: bool, apply_mx: bool, top: int) -> int:
    from dlvstats import providers as providers_module

    result = providers_module.manage(db or run.settings.db_path, add=pairs(add, "--add", "DOMAIN=PROVIDER"),
                                     mx=mx, apply_mx=apply_mx, top=top,
                                     mx_cache=run.settings.data_dir / "mx_cache.json")
    if result.proposals is not None:
        print(f"MX proposals ({len(result.proposals)} of {result.looked_up} 'other' domains looked up):")
        for domain, provider, sends in result.proposals:
            print(f"  {domain:<40}{provider:<12}{sends:>10,} sends")
        if result.proposals and not apply_mx:
            print("Store them with --apply-mx.")
    print(f"{'domain or pattern':<32}{'provider':<12}source")
    for domain, provider, source in result.mapping:
        print(f"{domain:<32}{provider:<12}{source}")
    if result.sends_by_provider:
        print("\nsends by provider: " + ", ".join(f"{p} {n:,}" for p, n in result.sends_by_provider))
    return EXIT_OK


@command("forget", short_help="erase one recipient from every table and rewrite the file (GDPR erasure)",
         help="Remove every row about one recipient (sends, their opens, clicks and complaints, subscriptions, "
         "orders, rejected rows that quote the address, derived tables), erase the address from any other text, "
         "then rewrite the database into a fresh file so the old blocks are gone, and say what was removed. In a "
         "pseudonymised database, DLVSTATS_PSEUDONYM_KEY must be set. See docs/privacy.md.",
         epilog="Exit codes: 0 done (also when nothing matched), 4 database busy, 1 failure.",
         arguments={"ADDRESS": "the recipient's e-mail address"})
@click.argument("address", metavar="ADDRESS")
@db_option()
@click.option("--dry-run", is_flag=True, help="say what would be removed; change nothing")
def forget(run: Run, address: str, db: Path | None, dry_run: bool) -> int:
    from dlvstats import privacy

    db_path = db or run.settings.db_path
    try:
        report = privacy.forget(db_path, address, dry_run=dry_run, config=run.settings)
    except privacy.PrivacyError as exc:
        print(f"dlvstats forget: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(format_forget(report, db_path))
    return EXIT_OK


def format_forget(report, db_path) -> str:
    who = report.address if report.mode == "plain" else f"{report.address} (pseudonym {report.target})"
    verb = "would remove" if report.dry_run else "removed"
    lines = [f"{'Dry run: ' if report.dry_run else ''}{who} in {db_path} ({report.mode} recipients)"]
    if not report.removed and not report.erased_mentions:
        lines.append("  nothing about this recipient was found.")
    for table, n in sorted(report.removed.items()):
        lines.append(f"  {verb} {n:>10,} row(s) from {table}")
    for column, n in sorted(report.erased_mentions.items()):
        lines.append(f"  {'would erase' if report.dry_run else 'erased'} the address in {n:,} row(s) of {column}")
    if report.rewritten:
        lines.append(
            f"Rewrote the database into a fresh file ({report.size_before:,} -> {report.size_after:,} bytes): "
            "the deleted rows' old blocks are gone, and the address's bytes were checked absent from it."
        )
        lines.append("Backups, copies and exported reports made before today are not touched: erase them too.")
    return "\n".join(lines)


@command("migrate", short_help="upgrade an older database file to this version's schema",
         help="Upgrade an older database file to this version's schema.")
@db_option()
def migrate(run: Run, db: Path | None) -> int:
    from dlvstats import db as dbmod

    con = dbmod.connect(db or run.settings.db_path, config=run.settings)
    try:
        version = dbmod.migrate(con)
    finally:
        con.close()
    print(f"schema version {version}")
    return EXIT_OK
