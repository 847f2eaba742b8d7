"""Apply the pending column renames of docs/column-renames.csv to the repository, in place.

    python tools/apply_renames.py            # rewrite, then mark the renames applied
    python tools/apply_renames.py --dry-run  # say what would change, write nothing
    python tools/apply_renames.py --root DIR # another checkout (a scratch copy, a worktree)

One quantity has one name: docs/columns.csv already uses the new names; this script brings the code,
the tests, the notebooks, the docs, the French catalogue and the column labels
(src/dlvstats/data/columns.csv) to them. A name is replaced only as a whole identifier, alone or
with the suffixes the metrics derive from it (``_low``, ``_high``, ``_change``, ``__num`` ... ``__k``,
``_removed``), never inside a longer name: ``click_rate`` becomes ``human_click_rate`` in
``click_rate_low`` and ``click_rate__num`` but not in ``human_click_rate`` or ``click_rate_removed_x``.

Where an old name means another quantity in another table (``human_openers`` counts messages in the
headline tables, measurable messages in hidden-images and recipients in gift-campaigns) a rename is
scoped: to files, to a markdown section, or to the lines that match a pattern (mixed files such as
docs/metrics.md and the French catalogue). Before writing anything, every scope must find the old name at least once: a scope that finds
nothing (a file moved, a heading or a line reworded meanwhile) stops the run (exit 1) so it is
looked at, not silently skipped; after writing, the old names kept outside the scopes (another
table's quantity) are listed for review. Running twice changes nothing: applied renames
are marked ``applied`` in docs/column-renames.csv and skipped.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path

#: The list (and changelog) of column renames: old,new,tables,status,reason.
RENAMES_CSV = Path("docs/column-renames.csv")
#: Files never rewritten: they already use the new names, or list the old ones on purpose.
NEVER = {"docs/columns.csv", "docs/column-renames.csv", "tools/apply_renames.py", "tests/test_columns_doc.py",
         "src/dlvstats/data/columns.csv"}  # the labels: rewritten as a table (_labels)
#: Where a column name may be written (the whole-repository scope).
EVERYWHERE = ("src/**/*.py", "src/**/*.sql", "src/**/*.ipynb", "src/**/*.po", "src/dlvstats/data/columns.csv",
              "tests/**/*.py", "notebooks/*.ipynb", "docs/**/*.md", "benchmarks/**/*.py", "README.md")
#: What the metrics append to a column name (intervals, cluster sums, sensitivity deltas, sunset counts).
SUFFIXES = ("_low", "_high", "_change", "__num", "__den", "__y2", "__yn", "__n2", "__k", "_removed")
LABELS = Path("src/dlvstats/data/columns.csv")
CATALOGUE = Path("src/dlvstats/locale/fr/LC_MESSAGES/dlvstats.po")


@dataclass(frozen=True)
class Scope:
    """Files (globs from the root); within them, optionally only a markdown ``section`` (a regex on its
    heading line: up to the next heading of the same or a higher level) or only the ``lines`` that
    match a regex."""

    globs: tuple[str, ...]
    section: str | None = None
    lines: str | None = None


@dataclass(frozen=True)
class Rule:
    old: str
    new: str
    scopes: tuple[Scope, ...]
    #: src/dlvstats/data/columns.csv when both names have a label: keep the "old" row's or the "new" one's
    keep_label: str = "new"
    #: (English label, French translation) to add when the new name has no label yet
    add_label: tuple[str, str] | None = None


_HIDDEN_FILES = ("src/dlvstats/sql/metrics/hidden_images.sql", "src/dlvstats/sql/metrics/hidden_images_by_device.sql",
                 "src/dlvstats/sql/metrics/hidden_images_opener_clients.sql", "src/dlvstats/metrics/hidden_images.py",
                 "src/dlvstats/metrics/read_estimator.py", "src/dlvstats/metrics/read_strata.py",
                 "tests/test_metrics_hidden_images.py", "tests/test_read_strata.py",
                 "notebooks/03_hidden_images.ipynb")
_HIDDEN = (
    Scope(_HIDDEN_FILES),
    Scope(("docs/metrics.md",), section=r"^## `hidden-images`"),
    Scope(("tests/test_i18n.py",), lines=r'"measurable_delivered"'),  # the hidden-images frame of the French tests
    # the notebook 03 paragraph (English) and its French entry
    Scope((str(CATALOGUE),), lines=r"count messages without a machine open|comptent les messages sans ouverture"),
    # the pandas baseline of hidden-images (not its engagement part: d_click, click_rate)
    Scope(("benchmarks/pandas_baseline.py",), lines=r"^(?!.*(d_click|click_rate)).*$"),
)
_GIFT = (
    Scope(("src/dlvstats/sql/metrics/gift_campaigns.sql", "src/dlvstats/metrics/gift.py",
           "tests/test_metrics_gift.py")),
    Scope(("docs/metrics_gift_health.md",), section=r"^### `gift-campaigns`"),
    Scope(("docs/metrics_gift_health.md",), lines=r"below the truth"),  # the accuracy note on the gift table
)

_COMPLIANCE = (
    Scope(("src/dlvstats/sql/metrics/sender_health_compliance.sql", "src/dlvstats/metrics/sender_health.py")),
    Scope(("tests/test_metrics_sender_health.py",), lines=r'"unsubscribes":'),  # the compliance row's counts
    Scope(("docs/metrics_gift_health.md",), section=r"^### `compliance`"),
)
_PURCHASE_WINDOW = (
    Scope(("src/dlvstats/sql/metrics/gift_campaigns.sql",)),
    Scope(("docs/metrics_gift_health.md",), section=r"^### `gift-campaigns`"),
)

#: old -> new, with where each applies (docs/column-renames.csv says which tables and why).
RULES: tuple[Rule, ...] = (
    Rule("click_rate", "human_click_rate", (Scope(EVERYWHERE),), keep_label="old"),
    Rule("clickers_without_open", "measurable_clickers_without_open", (Scope(EVERYWHERE),), keep_label="new"),
    Rule("human_openers", "measurable_human_openers", _HIDDEN),
    Rule("human_clickers", "measurable_human_clickers", _HIDDEN),
    Rule("human_openers", "human_opener_recipients", _GIFT,
         add_label=("Recipients with a human open", "Destinataires avec une ouverture humaine")),
    Rule("human_clickers", "human_clicker_recipients", _GIFT,
         add_label=("Recipients with a human click", "Destinataires avec un clic humain")),
    Rule("unsubscribes", "unsubscribe_events", _COMPLIANCE,
         add_label=("Unsubscribe events", "Événements de désinscription")),
    Rule("window_end_at", "purchase_window_end_at", _PURCHASE_WINDOW,
         add_label=("Purchase window end", "Fin de la fenêtre d'achat")),
)


def pattern(old: str) -> re.Pattern:
    """``old`` as a whole identifier, alone or followed by one of ``SUFFIXES``."""
    suffixes = "|".join(re.escape(s) for s in SUFFIXES)
    return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(old)}(?=(?:{suffixes})?(?![A-Za-z0-9_]))")


def files_of(root: Path, scope: Scope) -> list[Path]:
    """The scope's files as real paths under ``root`` (resolved: src/dlvstats/notebooks is a link to
    notebooks/, one file under two names must be rewritten once)."""
    found = set()
    for glob in scope.globs:
        found.update(path.resolve() for path in root.glob(glob)
                     if path.is_file() and ".ipynb_checkpoints" not in path.parts)
    return sorted(p for p in found if p.relative_to(root).as_posix() not in NEVER)


def _section_lines(lines: list[str], heading: str) -> set[int]:
    """Indices of the lines of the markdown sections whose heading matches ``heading``."""
    inside, level, chosen = False, 0, set()
    for i, line in enumerate(lines):
        m = re.match(r"^(#+)\s", line)
        if m and inside and len(m.group(1)) <= level:
            inside = False
        if m and re.search(heading, line):
            inside, level = True, len(m.group(1))
        if inside:
            chosen.add(i)
    return chosen


def rewrite(text: str, rule: Rule, scope: Scope) -> tuple[str, int]:
    """``text`` with ``rule`` applied inside ``scope``; and the number of replacements."""
    lines = text.splitlines(keepends=True)
    if scope.section is not None:
        chosen = _section_lines(lines, scope.section)
    elif scope.lines is not None:
        chosen = {i for i, line in enumerate(lines) if re.search(scope.lines, line.rstrip("\n"))}
    else:
        chosen = set(range(len(lines)))
    regex, count = pattern(rule.old), 0
    for i in chosen:
        lines[i], n = regex.subn(rule.new, lines[i])
        count += n
    return "".join(lines), count


def _labels(root: Path, rule: Rule) -> tuple[str | None, str | None]:
    """data/columns.csv after ``rule``, and the label it no longer has. The old key's row is renamed;
    when the new key has a row already, one of the two is kept (``keep_label``: its label goes under
    the new name, the other label is dropped); ``add_label`` when the new name has none. A scoped
    rename keeps the old row (the old name stays in the other tables)."""
    with (root / LABELS).open(encoding="utf-8", newline="") as handle:
        by_name = {r["column"]: r for r in csv.DictReader(handle)}
    scoped = any(s.globs != EVERYWHERE for s in rule.scopes)
    changed, dropped = False, None
    if not scoped and rule.old in by_name:
        old_row = by_name.pop(rule.old)
        if rule.new in by_name:
            dropped = by_name[rule.new]["label"] if rule.keep_label == "old" else old_row["label"]
        if rule.new not in by_name or rule.keep_label == "old":
            by_name[rule.new] = {"column": rule.new, "label": old_row["label"]}
        changed = True
    if rule.add_label and rule.new not in by_name:
        by_name[rule.new] = {"column": rule.new, "label": rule.add_label[0]}
        changed = True
    if not changed:
        return None, None
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["column", "label"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(sorted(by_name.values(), key=lambda r: r["column"]))
    return out.getvalue(), dropped


def _catalogue(root: Path, rule: Rule, dropped: str | None) -> str | None:
    """The French catalogue with an entry for ``add_label`` (when it has none), and without the entry of
    the ``dropped`` column label when nothing else (code, notebooks, templates) uses that text."""
    text = original = (root / CATALOGUE).read_text(encoding="utf-8")
    if dropped is not None and not _used_elsewhere(root, dropped):
        entry = re.compile(r"#\. column label: [A-Za-z0-9_]+ \(data/columns\.csv\)\n"
                           rf"msgid {re.escape(_po(dropped))}\nmsgstr \"[^\n]*\"\n\n?")
        text = entry.sub("", text, count=1)
    if rule.add_label and f"msgid {_po(rule.add_label[0])}" not in text:
        english, french = rule.add_label
        text = text.rstrip("\n") + (f"\n\n#. column label: {rule.new} (data/columns.csv)\n"
                                    f"msgid {_po(english)}\nmsgstr {_po(french)}\n")
    return None if text == original else text


def _po(value: str) -> str:
    """A .po string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _used_elsewhere(root: Path, label: str) -> bool:
    """Whether ``label`` is written in src/ or notebooks/ outside the labels and the catalogue."""
    for glob in ("src/**/*.py", "src/**/*.html", "src/**/*.j2", "notebooks/*.ipynb"):
        for path in root.glob(glob):
            if path.is_file() and label in path.read_text(encoding="utf-8", errors="replace"):
                return True
    return False


def pending(root: Path) -> list[dict]:
    with (root / RENAMES_CSV).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _mark_applied(root: Path, rows: list[dict]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({**r, "status": "applied"} for r in rows)
    (root / RENAMES_CSV).write_text(out.getvalue(), encoding="utf-8")


def kept(root: Path, rule: Rule) -> list[str]:
    """Files of the rule's scopes that still hold the old name outside the scope (another table's
    quantity, by design): said, so that a reviewer can check them."""
    found = []
    for path in sorted({p for scope in rule.scopes for p in files_of(root, scope)}):
        count = len(pattern(rule.old).findall(path.read_text(encoding="utf-8")))
        if count:
            found.append(f"{path.relative_to(root)}: {count} x {rule.old} kept")
    return found


def plan(root: Path, rules: list[Rule]) -> tuple[dict[Path, str], list[str]]:
    """The rewritten text of every file the rules change, and what to look at before writing: the
    scopes in which no rule changed anything and the files a scope names that are not there (a file
    moved or split, a heading or a line reworded since the rules were written)."""
    edits: dict[Path, str] = {}
    done: dict[Scope, int] = {}
    missing = sorted({g for rule in rules for scope in rule.scopes for g in scope.globs
                      if not any(c in g for c in "*?[") and not (root / g).is_file()})
    for rule in rules:
        for scope in rule.scopes:
            done.setdefault(scope, 0)
            for path in files_of(root, scope):
                text = edits.get(path, path.read_text(encoding="utf-8"))
                after, count = rewrite(text, rule, scope)
                if count:
                    edits[path] = after
                    done[scope] += count
                    print(f"{path.relative_to(root)}: {rule.old} -> {rule.new} x {count}")
    idle = [", ".join(scope.globs) + (f" (section {scope.section})" if scope.section else "")
            + (f" (lines {scope.lines})" if scope.lines else "") for scope, count in done.items() if not count]
    return edits, idle + [f"{path} (no such file: moved or split? name its successors)" for path in missing]


def apply(root: Path, dry_run: bool = False) -> int:
    rows = [r for r in pending(root) if r["status"] == "pending"]
    todo = {(r["old"], r["new"]) for r in rows}
    rules = [rule for rule in RULES if (rule.old, rule.new) in todo]
    unknown = todo - {(rule.old, rule.new) for rule in RULES}
    if unknown:
        print(f"{RENAMES_CSV}: no rule for {sorted(unknown)}: add one to RULES", file=sys.stderr)
        return 2
    if not rules:
        print(f"nothing pending in {RENAMES_CSV}")
        return 0
    edits, idle = plan(root, rules)
    if idle:
        print("nothing written: these scopes rename nothing or name missing files (update RULES, then rerun):\n  " + "\n  ".join(idle),
              file=sys.stderr)
        return 1
    if dry_run:
        print(f"(dry run: {len(edits)} files would change)")
        return 0
    for path, text in edits.items():
        path.write_text(text, encoding="utf-8")
    for rule in rules:
        labels, dropped = _labels(root, rule)
        if labels is not None:
            (root / LABELS).write_text(labels, encoding="utf-8")
            print(f"{LABELS}: label of {rule.new}" + (f" (label {dropped!r} dropped)" if dropped else ""))
        catalogue = _catalogue(root, rule, dropped)
        if catalogue is not None:
            (root / CATALOGUE).write_text(catalogue, encoding="utf-8")
            print(f"{CATALOGUE}: entries for {rule.new}")
    for rule in rules:
        for line in kept(root, rule):
            print(line)
    _mark_applied(root, pending(root))
    print(f"{len(rows)} renames applied; {RENAMES_CSV} marks them applied")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    return apply(args.root.resolve(), args.dry_run)


if __name__ == "__main__":
    sys.exit(main())
