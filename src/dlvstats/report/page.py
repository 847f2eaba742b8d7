"""The report page: each executed notebook turned into a section (markdown, tables, text and charts;
never code; the tables as ``dlvstats.tables.show_table`` rendered them in the kernel) and the page rendered from the Jinja template ``templates/report.html.j2`` with
autoescape on: the sanitised fragments and the escaped chart JSON are the only markup marked safe."""

from __future__ import annotations

import base64
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dlvstats.config import PACKAGE_DIR
from dlvstats.i18n import ENGLISH, Locale, translate_figure
from dlvstats.report.markdown import HIDE_CELL, _notebook_title, _translate_markdown
from dlvstats.report.notebooks import _joined, read_notebook
from dlvstats.report.sanitize import _finite, escape_figure, json_for_script, markdown_to_html, sanitize_html
from dlvstats.scrub import AddressScrubber

TEMPLATES_DIR = PACKAGE_DIR / "templates"
_HIDE_OUTPUT = {"remove-output", "remove_output", "hide-output", "hide_output"}
_HEADING = re.compile(r"<(/?)h([1-5])\b", re.IGNORECASE)
PLOTLY_MIME = "application/vnd.plotly.v1+json"


@dataclass
class Section:
    anchor: str
    title: str
    notebook: str
    blocks: list[dict] = field(default_factory=list)  # {"html": str} or {"figure": id}
    seconds: float = 0.0


@dataclass
class Figure:
    id: str
    spec_json: str


def _demote(html_text: str) -> str:
    return _HEADING.sub(lambda m: f"<{m.group(1)}h{int(m.group(2)) + 1}", html_text)


def _output_html(output: dict, scrubber: AddressScrubber, loc: Locale | None = None) -> str | None:
    """HTML for a non-figure output, or None when it shows nothing worth a reader's time."""
    import html as html_lib

    kind = output.get("output_type")
    if kind == "stream":
        if output.get("name") != "stdout":
            return None  # warnings on stderr stay in the executed notebook, not on the page
        text = scrubber.text("".join(output.get("text", "")) if isinstance(output.get("text"), list)
                             else str(output.get("text", ""))).strip()
        return f'<div class="stdout">{html_lib.escape(text)}</div>' if text else None
    if kind == "error":
        return f'<pre class="error">{html_lib.escape(scrubber.text(output.get("ename", "") + ": " + output.get("evalue", "")))}</pre>'
    data = output.get("data", {})

    def text_of(mime):
        value = data.get(mime, "")
        return scrubber.text("".join(value) if isinstance(value, list) else str(value))

    if "text/html" in data:
        # the notebooks' tables arrive rendered from their data (dlvstats.tables.show_table)
        return f'<div class="output">{sanitize_html(text_of("text/html"))}</div>'
    if "text/markdown" in data:
        return f'<div class="output">{markdown_to_html(text_of("text/markdown"))}</div>'
    for mime in ("image/png", "image/jpeg"):
        if mime in data:
            payload = re.sub(r"\s+", "", text_of(mime))
            if re.fullmatch(r"[A-Za-z0-9+/=]*", payload):
                return f'<div class="output"><img alt="" src="data:{mime};base64,{payload}"></div>'
    if "image/svg+xml" in data:  # as an <img>, an SVG cannot run script
        payload = base64.b64encode(text_of("image/svg+xml").encode()).decode()
        return f'<div class="output"><img alt="" src="data:image/svg+xml;base64,{payload}"></div>'
    if "text/plain" in data:
        text = text_of("text/plain").strip()
        if not text or re.fullmatch(r"<[\w.]+ (object|at) .*>", text):
            return None
        return f'<pre class="output">{html_lib.escape(text)}</pre>'
    return None


def _without_templates(spec: dict) -> dict:
    """A figure without the catalogue templates of its data-built title and reading (used by
    ``translate_figure``; not for the page)."""
    meta = (spec.get("layout") or {}).get("meta")
    if not (isinstance(meta, dict) and "i18n" in meta):
        return spec
    return {**spec, "layout": {**spec["layout"], "meta": {k: v for k, v in meta.items() if k != "i18n"}}}


def notebook_section(path: Path, index: int, scrubber: AddressScrubber,
                     figures: list[Figure], seconds: float = 0.0, loc: Locale | None = None) -> Section:
    """Turn an executed notebook into a section: markdown, tables, text and charts; never code."""
    loc = loc or ENGLISH
    nb = read_notebook(path)
    title = re.sub(r"^\d+_", "", path.stem).replace("_", " ").capitalize()
    blocks: list[dict] = []
    first_heading_done = False
    for cell in nb.get("cells", []):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & HIDE_CELL:
            continue
        if cell.get("cell_type") == "markdown":
            source = _joined(cell.get("source"))
            titled = None if first_heading_done else _notebook_title(source)
            if titled:
                # The notebook's own title names the section: "# 02 · Gift campaigns" -> "Gift campaigns"
                title, source = titled
            first_heading_done = first_heading_done or bool(titled) or bool(source.strip())
            if source.strip():
                blocks.append({"html": _demote(markdown_to_html(scrubber.text(_translate_markdown(source, loc))))})
            continue
        if cell.get("cell_type") != "code" or tags & _HIDE_OUTPUT:
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if PLOTLY_MIME in data:
                spec = _without_templates(translate_figure(dict(data[PLOTLY_MIME]), loc))
                spec = escape_figure(_finite(scrubber.deep(spec)))
                figure = Figure(id=f"chart-{len(figures) + 1}", spec_json=json_for_script(
                    {"data": spec.get("data", []), "layout": spec.get("layout", {})}))
                figures.append(figure)
                blocks.append({"figure": figure.id})
                continue
            fragment = _output_html(output, scrubber, loc)
            if fragment:
                blocks.append({"html": _demote(fragment)})
    anchor = f"s{index}-" + re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    return Section(anchor=anchor, title=loc.gettext(title), notebook=path.name, blocks=blocks, seconds=seconds)


def _jinja_env(loc: Locale | None = None):
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,  # every {{ value }} is escaped; only sanitised fragments are marked safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    loc = loc or ENGLISH
    env.install_gettext_callables(loc.gettext, loc.ngettext, newstyle=True)
    return env


def render_page(context: dict) -> str:
    import markupsafe
    import plotly.offline

    env = _jinja_env(context.get("loc"))
    # The sanitised fragments and the escaped JSON are the only markup marked safe.
    sections = []
    for section in context["sections"]:
        blocks = [
            {"figure": b["figure"]} if "figure" in b else {"html": markupsafe.Markup(b["html"])}
            for b in section.blocks
        ]
        sections.append({**asdict(section), "blocks": blocks})
    figures = [{"id": f.id, "spec_json": markupsafe.Markup(f.spec_json)} for f in context["figures"]]
    plotly_js = markupsafe.Markup(plotly.offline.get_plotlyjs()) if figures else ""
    return env.get_template("report.html.j2").render(
        **{**context, "sections": sections, "figures": figures, "plotly_js": plotly_js})


