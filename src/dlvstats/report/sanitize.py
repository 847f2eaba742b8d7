"""Keeping report text from running as code: notebook HTML through an allowlist (disallowed markup
is escaped and shows as text), notebook markdown to HTML, plotly text escaped for plotly's own small
markup, and JSON safe inside a ``<script>`` element."""

from __future__ import annotations

import html as html_lib
import json
import math
import re
from html.parser import HTMLParser

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "div", "dl",
    "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "small",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
_ALLOWED_ATTRIBUTES = {
    "*": {"class", "title"}, "a": {"href", "title"}, "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align"}, "table": {"class"}, "col": {"span"},
}
_BLOCKS = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


class _EscapeDisallowed(HTMLParser):
    """Re-emits a fragment with every tag outside the allowlist escaped, so it shows as the text it is.

    This pass decides only *how* disallowed markup is shown (as text, not dropped); what may run is
    decided by nh3 afterwards, on the result: if this pass ever let a tag through, nh3 would strip it
    or its attributes, never let it run. Tokenising is the standard library's HTML parser.
    """

    CDATA_CONTENT_ELEMENTS = ()  # an unclosed <script>/<style> (the closed ones are gone): its text is text

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []

    def _tag(self, tag: str, text: str) -> None:
        self.out.append(text if tag in _ALLOWED_TAGS else html_lib.escape(text, quote=False))

    def handle_starttag(self, tag, attrs):
        self._tag(tag, self.get_starttag_text())

    def handle_startendtag(self, tag, attrs):
        self._tag(tag, self.get_starttag_text())

    def handle_endtag(self, tag):
        self._tag(tag, f"</{tag}>")

    def handle_data(self, data):
        self.out.append(html_lib.escape(data, quote=False))

    def handle_entityref(self, name):
        self.out.append(f"&{name};")

    def handle_charref(self, name):
        self.out.append(f"&#{name};")

    def handle_comment(self, data):
        pass  # comments are dropped

    def handle_decl(self, decl):
        self.out.append(html_lib.escape(f"<!{decl}>", quote=False))

    def handle_pi(self, data):
        self.out.append(html_lib.escape(f"<?{data}>", quote=False))

    def unknown_decl(self, data):
        self.out.append(html_lib.escape(f"<![{data}]>", quote=False))


def sanitize_html(fragment: str) -> str:
    """Keep a small allowlist of tags and attributes; everything else is escaped, so it shows as text.

    ``<style>``/``<script>`` blocks (pandas' scoped table styles, or anything a notebook printed) are
    dropped first, content included. Links keep only http(s) and mailto targets. The allowlist is
    enforced by nh3 (ammonia); nh3 would strip a disallowed tag, so ``_EscapeDisallowed`` escapes
    them first (docs/architecture.md).
    """
    import nh3

    escaper = _EscapeDisallowed()
    escaper.feed(_BLOCKS.sub("", fragment))
    escaper.close()
    return nh3.clean("".join(escaper.out), tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, strip_comments=True, link_rel=None,
                     clean_content_tags={"script", "style"})


def markdown_to_html(source: str) -> str:
    """Notebook markdown to HTML; raw HTML in it is escaped (shows as text), then sanitised."""
    import mistune

    render = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])
    return sanitize_html(render(source))


# Plotly draws text through its own small markup (<br>, <b>, <sup>, ...); any other tag is silently
# dropped rather than shown. Escaping every '<' that does not start one of the tags our figure
# builders use (and '&') makes hostile names show as the text they are, while plotly decodes the
# entities back for display.
_PLOTLY_TAG = re.compile(r"<(/?)(br|b|i|em|sup|sub|s|u|extra)\s*/?>", re.IGNORECASE)


def _escape_plotly_text(text: str) -> str:
    if "<" not in text and "&" not in text and ">" not in text:
        return text
    out, pos = [], 0
    for match in _PLOTLY_TAG.finditer(text):
        out.append(_entity_escape(text[pos:match.start()]))
        out.append(match.group(0))
        pos = match.end()
    out.append(_entity_escape(text[pos:]))
    return "".join(out)


def _entity_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_figure(value, key: str = ""):
    """Escape every string of a plotly figure spec for display (not the base64 arrays, ids or meta)."""
    if isinstance(value, str):
        return value if key in ("bdata", "dtype", "uid", "meta") else _escape_plotly_text(value)
    if isinstance(value, list):
        return [escape_figure(v, key) for v in value]
    if isinstance(value, dict):
        return {k: (v if k == "meta" else escape_figure(v, k)) for k, v in value.items()}
    return value


def json_for_script(value) -> str:
    """JSON that is safe inside ``<script type="application/json">``: no '<', '>', '&' or U+2028/9
    characters survive literally, so a ``</script>`` in the data cannot close the element."""
    text = json.dumps(value, separators=(",", ":"), allow_nan=False, default=_json_default)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _json_default(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


def _finite(value):
    """Plotly JSON may carry NaN; the browser's JSON.parse cannot."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


