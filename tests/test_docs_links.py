"""Every relative link in the README and docs/ points to a file of the repository (a fresh clone
has nothing outside it), and nothing points outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


def _pages():
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def test_relative_links_resolve_inside_the_repository():
    broken, checked = [], 0
    for page in _pages():
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
                continue
            checked += 1
            resolved = (page.parent / target).resolve()
            if not resolved.exists() or ROOT not in resolved.parents and resolved != ROOT:
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert checked > 10 and broken == []


def test_no_reference_to_the_shared_spec_outside_the_clone():
    offenders = [str(p.relative_to(ROOT)) for p in [*_pages(), *(ROOT / "src").rglob("*.py"), *(ROOT / "src").rglob("*.sql")]
                 if "shared/spec" in p.read_text(encoding="utf-8", errors="replace")]
    assert offenders == []


#: 'issue 7, point 3', 'issue #15', '(#16)': pointers into a tracker a clone does not carry.
TRACKER_REFERENCE = re.compile(r"\bissues? ?#?\d+\b|\(#\d+\)|\bdone-when of #\d+", re.IGNORECASE)


def test_no_reference_to_an_issue_tracker_in_code_or_docs():
    """Code, tests and docs explain themselves; none sends the reader to a tracker outside the clone."""
    files = [*_pages(), ROOT / "Makefile"]
    for folder, patterns in (("src", ("*.py", "*.sql", "*.md", "*.toml", "*.ipynb")), ("tests", ("*.py", "*.md")),
                             ("benchmarks", ("*.py", "*.md")), ("notebooks", ("*.ipynb", "*.md"))):
        for pattern in patterns:
            files += sorted((ROOT / folder).rglob(pattern))
    offenders = [f"{path.relative_to(ROOT)}:{n}: {line.strip()[:80]}" for path in files
                 for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
                 if TRACKER_REFERENCE.search(line) and path.name != "test_docs_links.py"]
    assert len(files) > 100 and offenders == [], "\n".join(offenders)
