"""docs/columns.csv, the dictionary of every output column of every metric table, against the tables.

Every registered metric (and the report's two headline tables) runs on the session's small simulated
database (``lake_sim``: three months with complaints, orders, a blocklisting and provider signals, so
the tables have rows); each column it writes must be listed for its table, and each listed column
must be written. A column added, dropped or renamed in a metric's SQL or Python fails here until the
dictionary says what it is.

The dictionary uses the names of docs/column-renames.csv; while a rename there is still ``pending``
(tools/apply_renames.py not run yet), the table may write the old name in its place, nothing else.

The dictionary's own rules: one name has one meaning (and unit) in every table, and one meaning has
one name, but for the exceptions listed below, each with its reason.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from dlvstats.cli import main
from dlvstats.metrics import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ROOT / "docs" / "columns.csv"
RENAMES = ROOT / "docs" / "column-renames.csv"
#: Tables the report computes that `dlvstats metrics` does not register: name -> "module:function".
REPORT_TABLES = {
    "headline-rates": "dlvstats.metrics.headlines:headline_rates",
    "headline-trend": "dlvstats.metrics.headlines:headline_trend",
}
UNITS = {"messages", "recipients", "events", "count", "share 0-1", "rate points (0-1 scale)", "currency (the account's)",
         "currency per message", "hours", "years", "score", "rank", "flag", "text", "date", "timestamp UTC"}
#: The suffixes a rename carries along (an interval's ends, a sensitivity delta).
RENAMED_SUFFIXES = ("_low", "_high", "_change")

#: One name, two meanings, on purpose or until a later rename: column -> the tables whose meaning
#: differs from the others', and why.
SAME_NAME_EXCEPTIONS = {
    # gift tables count people: a campaign's rate is recipients with a human open (click) over delivered
    # messages, which equals the message rate only when the campaign sent each recipient one message.
    # gift_campaigns.sql would have to count messages (as gift-grey-list does) to make it the same quantity.
    "human_open_rate": {"gift-campaigns", "reengagement-campaigns"},
    "human_click_rate": {"gift-campaigns", "reengagement-campaigns"},
    # campaign-kinds groups by kind and has an 'unknown' kind for campaigns without a campaigns row; the
    # gift tables' kind is their campaigns' own. Proposed with campaigns' campaign_kind: one name, campaign_kind.
    "kind": {"campaign-kinds"},
}
#: One meaning, two names: (meaning, unit) -> why. None today; a new one must say why here.
SAME_MEANING_EXCEPTIONS: dict[tuple[str, str], str] = {}


def _dictionary() -> list[dict]:
    with COLUMNS.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _pending() -> list[dict]:
    with RENAMES.open(encoding="utf-8", newline="") as handle:
        return [r for r in csv.DictReader(handle) if r["status"] == "pending"]


def _written_name(table: str, column: str, pending: list[dict]) -> str:
    """The name the table writes for a documented column while its rename is pending."""
    for rename in pending:
        if table not in rename["tables"].split():
            continue
        new, old = rename["new"], rename["old"]
        if column == new:
            return old
        for suffix in RENAMED_SUFFIXES:
            if column == new + suffix:
                return old + suffix
    return column


@pytest.fixture(scope="module")
def written(lake_sim, tmp_path_factory) -> dict[str, list[str]]:
    """Table name -> the header of the CSV file `dlvstats metrics all --out DIR` writes (and the
    columns of the report's headline tables)."""
    import importlib

    out = tmp_path_factory.mktemp("columns_doc")
    period = ["--from", lake_sim.date_from, "--to", lake_sim.date_to]
    assert main(["-q", "metrics", "all", "--db", str(lake_sim.db_path), *period, "--out", str(out)]) == 0
    tables = {}
    for path in sorted(out.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            tables[path.stem] = next(csv.reader(handle))
    for name, target in REPORT_TABLES.items():
        module, func = target.split(":")
        frame = getattr(importlib.import_module(module), func)(lake_sim.db_path, lake_sim.date_from, lake_sim.date_to)
        tables[name] = list(frame.columns)
    return tables


def test_every_table_is_in_the_dictionary(written):
    documented = {r["metric"] for r in _dictionary()}
    assert set(written) == set(REGISTRY) | set(REPORT_TABLES)
    assert documented == set(written), (sorted(set(written) - documented), sorted(documented - set(written)))


def test_every_written_column_is_listed_and_every_listed_column_is_written(written):
    pending = _pending()
    listed = defaultdict(list)
    for row in _dictionary():
        listed[row["metric"]].append(_written_name(row["metric"], row["column"], pending))
    problems = []
    for table, columns in sorted(written.items()):
        unlisted = [c for c in columns if c not in listed[table]]
        absent = [c for c in listed[table] if c not in columns]
        if unlisted:
            problems.append(f"{table}: written but not in docs/columns.csv: {unlisted}")
        if absent:
            problems.append(f"{table}: in docs/columns.csv but not written: {absent}")
    assert not problems, "\n".join(problems)


def test_the_dictionary_rows_are_complete():
    rows = _dictionary()
    assert rows and list(rows[0]) == ["metric", "column", "meaning", "unit", "grain"]
    keys = [(r["metric"], r["column"]) for r in rows]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    assert all(r["meaning"].strip() and r["grain"].strip() for r in rows), [k for k, r in zip(keys, rows)
                                                                            if not r["meaning"].strip()]
    assert {r["unit"] for r in rows} <= UNITS, {r["unit"] for r in rows} - UNITS
    grains = defaultdict(set)
    for r in rows:
        grains[r["metric"]].add(r["grain"])
    assert all(len(g) == 1 for g in grains.values()), {t: g for t, g in grains.items() if len(g) > 1}


def test_one_name_has_one_meaning():
    meanings = defaultdict(lambda: defaultdict(set))
    for r in _dictionary():
        if r["metric"] not in SAME_NAME_EXCEPTIONS.get(r["column"], set()):
            meanings[r["column"]][(r["meaning"], r["unit"])].add(r["metric"])
    several = {c: {m[0]: sorted(t) for m, t in found.items()} for c, found in meanings.items() if len(found) > 1}
    assert not several, several
    # each exception still names a real difference (an exception that no longer differs is removed)
    for column, tables in SAME_NAME_EXCEPTIONS.items():
        rows = [r for r in _dictionary() if r["column"] == column]
        inside = {(r["meaning"], r["unit"]) for r in rows if r["metric"] in tables}
        outside = {(r["meaning"], r["unit"]) for r in rows if r["metric"] not in tables}
        assert inside and outside and not inside & outside, column


def test_one_meaning_has_one_name():
    names = defaultdict(set)
    for r in _dictionary():
        names[(r["meaning"], r["unit"])].add(r["column"])
    several = {m[0]: sorted(n) for m, n in names.items() if len(n) > 1 and m not in SAME_MEANING_EXCEPTIONS}
    assert not several, several


def test_every_pending_rename_names_documented_tables_and_its_new_name():
    rows = _dictionary()
    with RENAMES.open(encoding="utf-8", newline="") as handle:
        renames = list(csv.DictReader(handle))
    assert renames and {r["status"] for r in renames} <= {"pending", "applied"}
    for rename in renames:
        for table in rename["tables"].split():
            columns = {r["column"] for r in rows if r["metric"] == table}
            assert rename["new"] in columns and rename["old"] not in columns, (rename["old"], table)


def _renamer():
    """tools/apply_renames.py as a module (tools/ is no package)."""
    if "apply_renames" not in sys.modules:
        spec = importlib.util.spec_from_file_location("apply_renames", ROOT / "tools" / "apply_renames.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["apply_renames"] = module  # dataclasses look their module up while it loads
        spec.loader.exec_module(module)
    return sys.modules["apply_renames"]


def test_the_rename_script_replaces_whole_names_with_their_suffixes_only():
    tool = _renamer()
    rule = tool.Rule("click_rate", "human_click_rate", (tool.Scope(("x",)),))
    text = ("RATES = ['click_rate', 'human_click_rate']\nsum(y) AS click_rate__num, df.click_rate_low\n"
            "click_rate_removed, click_rates, my_click_rate, `click_rate`\n")
    after, count = tool.rewrite(text, rule, tool.Scope(("x",)))
    assert after == ("RATES = ['human_click_rate', 'human_click_rate']\nsum(y) AS human_click_rate__num, "
                     "df.human_click_rate_low\nhuman_click_rate_removed, click_rates, my_click_rate, `human_click_rate`\n")
    assert count == 5
    again, count = tool.rewrite(after, rule, tool.Scope(("x",)))
    assert (again, count) == (after, 0)  # nothing left to rename: running twice changes nothing
    measurable = tool.Rule("clickers_without_open", "measurable_clickers_without_open", (tool.Scope(("x",)),))
    assert tool.rewrite("measurable_clickers_without_open, clickers_without_open", measurable,
                        tool.Scope(("x",)))[0] == "measurable_clickers_without_open, measurable_clickers_without_open"


def test_the_rename_script_keeps_to_its_section_and_lines():
    tool = _renamer()
    rule = tool.Rule("human_openers", "measurable_human_openers", (tool.Scope(("x",)),))
    doc = ("# Metrics\n## `engagement-by-age`\nhuman_openers: messages\n## `hidden-images`\nhuman_openers\n"
           "### helpers\nhuman_openers\n## `classification-sensitivity`\nhuman_openers\n")
    after, count = tool.rewrite(doc, rule, tool.Scope(("x",), section=r"^## `hidden-images`"))
    assert count == 2
    assert after.splitlines()[2] == "human_openers: messages" and after.splitlines()[-1] == "human_openers"
    assert after.splitlines()[4] == after.splitlines()[6] == "measurable_human_openers"
    lines = 'a = {"human_openers": 1}\nb = {"measurable_delivered": 2, "human_openers": 3}\n'
    after, count = tool.rewrite(lines, rule, tool.Scope(("x",), lines=r'"measurable_delivered"'))
    assert (after, count) == ('a = {"human_openers": 1}\nb = {"measurable_delivered": 2, "measurable_human_openers": 3}\n', 1)


def test_every_rename_has_a_rule_and_every_rule_a_row():
    tool = _renamer()
    with RENAMES.open(encoding="utf-8", newline="") as handle:
        listed = {(r["old"], r["new"]) for r in csv.DictReader(handle)}
    assert listed == {(rule.old, rule.new) for rule in tool.RULES}
