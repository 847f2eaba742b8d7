"""Keeping report text from running as code: notebook HTML through an allowlist (disallowed markup
is escaped and shows as text), notebook markdown to HTML, plotly text escaped for plotly's own small
markup, and JSON safe inside a ``<script>`` element."""

from __future__ import annotations

import json
import math
import re

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "div", "dl",
    "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "small",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
_ALLOWED_ATTRIBUTES = {
    "*": ["class", "title"], "a": ["href", "title"], "td": ["colspan", "rowspan", "align"],
    "th": ["colspan", "rowspan", "align"], "table": ["class"], "col": ["span"],
}
_BLOCKS = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def sanitize_html(fragment: str) -> str:
    """Keep a small allowlist of tags and attributes; everything else is escaped, so it shows as text.

    ``<style>``/``<script>`` blocks (pandas' scoped table styles, or anything a notebook printed) are
    dropped first, content included. Links keep only http(s) and mailto targets.
    """
    import bleach

    cleaner = bleach.Cleaner(tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES,
                             protocols={"http", "https", "mailto"}, strip=False, strip_comments=True)
    return cleaner.clean(_BLOCKS.sub("", fragment))


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


