"""Notebook markdown in the reader's language: a markdown cell is cut into the units the catalogue
translates (each heading, paragraph and list item), and each unit the catalogue holds is replaced;
what it lacks stays English and is listed in ``Locale.untranslated``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from dlvstats.i18n import ENGLISH, Locale
from dlvstats.report.notebooks import _joined, read_notebook

#: Cells never shown on the page (nor translated).
HIDE_CELL = {"parameters", "injected-parameters", "remove-cell", "remove_cell", "hide", "hide-cell"}

_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*$", re.MULTILINE)


def _translate_headings(source: str, loc: Locale) -> str:
    """The notebook's markdown headings in the reader's language (the catalogue holds each heading)."""
    return _MD_HEADING.sub(lambda m: f"{m.group(1)} {loc.gettext(m.group(2))}", source)


_MD_LIST_ITEM = re.compile(r"^([ \t]*(?:[-*+]|\d+[.)])[ \t]+)(\S.*)$")


def _markdown_units(source: str) -> Iterator[tuple[str, str, list[str]]]:
    """A markdown cell cut into the units the catalogue translates: ``("heading", "## ", [text])``,
    ``("item", "- ", lines)`` (one list item with its continuation lines), ``("paragraph", "", lines)``,
    and ``("raw", "", [line])`` for what is never translated (blank lines, fenced code)."""
    block: list[str] = []
    prefix, kind = "", "paragraph"
    fenced = False

    def flush():
        nonlocal block, prefix, kind
        if block:
            yield kind, prefix, block
        block, prefix, kind = [], "", "paragraph"

    for line in source.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            yield from flush()
            fenced = not fenced
            yield "raw", "", [line]
            continue
        if fenced or not line.strip():
            yield from flush()
            yield "raw", "", [line]
            continue
        heading = _MD_HEADING.fullmatch(line)
        if heading:
            yield from flush()
            yield "heading", heading.group(1) + " ", [heading.group(2)]
            continue
        item = _MD_LIST_ITEM.match(line)
        if item:
            yield from flush()
            kind, prefix, block = "item", item.group(1), [item.group(2)]
            continue
        block.append(line)
    yield from flush()


def _message_of(lines: list[str]) -> str:
    """A unit's catalogue entry: its lines joined by single spaces (re-wrapping a paragraph keeps it)."""
    return " ".join(" ".join(lines).split())


def markdown_messages(source: str) -> list[str]:
    """The catalogue entries of a notebook markdown cell: each heading, paragraph and list item."""
    return [_message_of(lines) for kind, _prefix, lines in _markdown_units(source) if kind != "raw"]


def _notebook_title(source: str) -> tuple[str, str] | None:
    """A markdown cell's leading ``# 02 · Gift campaigns`` as ("Gift campaigns", the rest of the cell)."""
    match = re.match(r"\s*#\s+(.+)", source)
    if not match:
        return None
    return re.sub(r"^\d+\s*[·.:\-–—]\s*", "", match.group(1).strip()), source[match.end():]


def notebook_messages(path: Path) -> list[str]:
    """Every string a notebook's markdown puts on the page, as the catalogue must hold it: the section
    title, then each heading, paragraph and list item (the report translates these units)."""
    messages: list[str] = []
    title_done = False
    for cell in read_notebook(path).get("cells", []):
        if cell.get("cell_type") != "markdown" or set(cell.get("metadata", {}).get("tags", [])) & HIDE_CELL:
            continue
        source = _joined(cell.get("source"))
        titled = None if title_done else _notebook_title(source)
        if titled:
            messages.append(titled[0])
            source = titled[1]
        title_done = title_done or bool(titled) or bool(source.strip())
        messages += markdown_messages(source)
    return messages


def _translate_markdown(source: str, loc: Locale) -> str:
    """A notebook markdown cell in the reader's language, unit by unit (heading, paragraph, list item):
    a unit the catalogue lacks stays English (and is listed in ``loc.untranslated``). English: the
    headings pass as before and nothing else changes."""
    if loc.code == ENGLISH.code:
        return _translate_headings(source, loc)
    out: list[str] = []
    for kind, prefix, lines in _markdown_units(source):
        if kind == "raw":
            out.extend(lines)
            continue
        message = _message_of(lines)
        if loc.has(message):
            out.append(prefix + loc.gettext(message))
        else:
            loc.gettext(message)  # recorded as untranslated
            out.append(prefix + "\n".join(lines) if kind != "heading" else prefix + lines[0])
    return "\n".join(out)


