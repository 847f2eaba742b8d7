"""The notebooks' pandas tables made readable on the page, with the one number rule of
``dlvstats.formatting``: a default 0..n-1 index dropped, column labels from the column dictionary in
the reader's language, rates and shares as percentages, counts with separators, missing values as a
dash, an empty table saying so.

The tables arrive as the HTML pandas printed in the kernel (the executed notebook is the record of the
run); this module reads that HTML's cells and writes them again, formatted. Tables of another shape
(several header rows, a Styler) are left as they are. The result still goes through ``sanitize_html``.
"""

from __future__ import annotations

import html as html_lib
import re

from dlvstats.formatting import format_cell_text, is_plain_number_column, is_rate_column
from dlvstats.i18n import ENGLISH, Locale, column_label

_TABLE = re.compile(r'(<table[^>]*class="dataframe"[^>]*>)(.*?)(</table>)', re.DOTALL)
_ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.DOTALL)
_CELL = re.compile(r"<(th|td)([^>]*)>(.*?)</\1>", re.DOTALL)
_SECTION = re.compile(r"<(thead|tbody)>(.*?)</\1>", re.DOTALL)


def polish_dataframe_html(fragment: str, loc: Locale | None = None) -> str:
    """Make pandas tables readable on the page: drop a default 0..n-1 index, show rate and share
    columns as percentages (the naming rule export.to_table applies in the terminal), counts that
    pandas printed as floats as integers with separators, and missing values as a dash.
    Tables of another shape (several header rows, a Styler) are left as they are."""

    def one(match: re.Match) -> str:
        opening, body, closing = match.groups()
        sections = dict(_SECTION.findall(body))
        if set(sections) != {"thead", "tbody"}:
            return match.group(0)
        head_rows = _ROW.findall(sections["thead"])
        if len(head_rows) != 1:
            return match.group(0)
        header = [c[2] for c in _CELL.findall(head_rows[0])]
        rows = [_CELL.findall(r) for r in _ROW.findall(sections["tbody"])]
        if not rows:  # an empty table says so, rather than showing a bare header
            shown = header[1:] if header and not header[0].strip() else header
            return (opening + "<thead><tr>" + "".join(f"<th>{_header(h, loc)}</th>" for h in shown)
                    + "</tr></thead><tbody>"
                    f'<tr><td class="empty" colspan="{max(len(shown), 1)}">{(loc or ENGLISH).gettext("None.")}</td></tr>'
                    "</tbody>" + closing)
        if any(len(r) != len(header) for r in rows):
            return match.group(0)
        drop_index = header[0].strip() == "" and all(
            r[0][0] == "th" and r[0][2].strip() == str(i) for i, r in enumerate(rows))
        start = 1 if drop_index else 0
        names = [html_lib.unescape(h.strip()) for h in header]
        out = [opening, "<thead><tr>"]
        out += [f"<th>{_header(h, loc)}</th>" for h in header[start:]]
        out.append("</tr></thead><tbody>")
        for row in rows:
            out.append("<tr>")
            for (tag, attrs, text), name in list(zip(row, names))[start:]:
                plain = is_plain_number_column(name)  # 2026 is not 2,026
                value = format_cell_text(text, is_rate_column(name), plain, loc) if tag == "td" else text
                out.append(f"<{tag}{attrs}>{value}</{tag}>")
            out.append("</tr>")
        out.append("</tbody>" + closing)
        return "".join(out)

    return _TABLE.sub(one, fragment)


def _header(cell: str, loc: Locale | None) -> str:
    """A column's label from the column dictionary (data/columns.csv), in the reader's language;
    a name the dictionary lacks stays as it is."""
    label = column_label(html_lib.unescape(cell.strip()), loc or ENGLISH)
    return html_lib.escape(label, quote=False) if label is not None else cell

