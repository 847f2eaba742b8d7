"""The notebooks' tables rendered from data (``dlvstats.tables.show_table``): escaped, formatted by the
one rule of ``dlvstats.formatting`` in English and French, statuses and small cells shown, and the
report page keeping them as the notebook recorded them (sanitised, addresses scrubbed)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pandas as pd

from dlvstats import formatting
from dlvstats.i18n import Locale, column_label
from dlvstats.report.page import _output_html
from dlvstats.scrub import AddressScrubber
from dlvstats.tables import show_table

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NNBSP = "\u202f"  # Babel's French thousands separator (narrow no-break space)
NBSP = "\u00a0"
CELL = re.compile(r"<(t[dh])(?:\s[^>]*)?>(.*?)</\1>", re.DOTALL)


def texts(markup: str, tag: str | None = None) -> list[str]:
    """The text of each cell (th and td, or only ``tag``), as a reader sees it."""
    return [html.unescape(text) for kind, text in CELL.findall(markup) if tag in (None, kind)]


def test_markup_and_addresses_in_cells_are_escaped():
    frame = pd.DataFrame({"name": ["<script>alert(1)</script>", "Jo <jo.real@example.org>"],
                          "<b>col</b>": ['" onmouseover="x', "a & b"]})
    out = show_table(frame, caption="<i>caption</i>").html
    assert "<script" not in out and "<b>" not in out and "<i>" not in out and "<jo." not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out and "Jo &lt;jo.real@example.org&gt;" in out
    assert "&lt;b&gt;col&lt;/b&gt;" in out and "<caption>&lt;i&gt;caption&lt;/i&gt;</caption>" in out
    assert "&#34; onmouseover=&#34;x" in out and "a &amp; b" in out
    assert texts(out, "td") == ["<script>alert(1)</script>", '" onmouseover="x', "Jo <jo.real@example.org>",
                                "a & b"]
    # the page keeps it as text (sanitised again) and the scrubber hides the address
    page = _output_html({"output_type": "display_data", "data": {"text/html": out}}, AddressScrubber())
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "jo.real@example.org" not in page and "Jo &lt;" in page


def test_french_numbers_have_decimal_commas_and_narrow_spaces():
    fr = Locale("fr")
    frame = pd.DataFrame({"sends": [1234567, 20407], "delivered": [1199175.0, 987.0],
                          "human_click_rate": [0.123456, 0.000049], "half_life": [2.5, 12.25]})
    cells = texts(show_table(frame, locale="fr").html)
    assert cells[:4] == ["Messages envoyés", "Délivrés", "Taux de clic", "Demi-vie (ans)"]
    assert cells[4:8] == [f"1{NNBSP}234{NNBSP}567", f"1{NNBSP}199{NNBSP}175", f"12,35{NBSP}%", "2,50"]
    assert cells[8:] == [f"20{NNBSP}407", "987", f"0,005{NBSP}%", "12,25"]
    # the very formatter of the summary and the e-mail, in the same locale
    assert cells[4] == fr.integer(1234567) and cells[6] == fr.percent(0.123456, 2) and cells[7] == fr.decimal(2.5, 2)
    english = texts(show_table(frame).html)
    assert english[4:8] == ["1,234,567", "1,199,175", "12.35%", "2.50"]
    assert show_table(frame, locale=fr).html == show_table(frame, locale="fr").html


def test_interval_columns_are_shown_like_their_quantity():
    frame = pd.DataFrame({"human_click_rate": [0.02, 0.0004], "human_click_rate_low": [0.019, 0.0001],
                          "human_click_rate_high": [0.0213456, None], "half_life": [2.5016, 3.0],
                          "half_life_low": [2.159412, 2.5], "half_life_high": [2.721133, 3.5]})
    out = show_table(frame).html
    assert texts(out, "th")[:3] == ["Click rate", "Click rate, 95% interval low", "Click rate, 95% interval high"]
    assert texts(out, "td") == ["2.00%", "1.90%", "2.13%", "2.5016", "2.16", "2.72",
                                "0.040%", "0.010%", "–", "3.0000", "2.50", "3.50"]
    # each bound as the one rule writes it: the headline interval uses the same percentages
    low, high = frame.loc[0, "human_click_rate_low"], frame.loc[0, "human_click_rate_high"]
    assert formatting.format_interval(low, high, "rate") == "95% CI 1.90% – 2.13%"
    assert formatting.format_cell_text(f"{low}", rate=True) == "1.90%"


def test_a_status_column_shows_its_status_text_and_small_rows_are_marked():
    frame = pd.DataFrame({"provider": ["gmail", "apple", "gmx"], "estimate_status": ["ok", "unmeasurable",
                                                                                   "insufficient_data"],
                          "status_reason": [("within +-0.026; assumes blocked readers click as often as others "
                                            "(see est_read_rate_band_low/high for 0.6x-1.5x)"), None, "12 clickers"],
                          "small_cell": [False, pd.NA, True]})
    fr = Locale("fr")
    out = show_table(frame, locale=fr).html
    labels = [column_label(name, fr) or name for name in frame.columns]
    assert texts(out, "th") == labels and labels[1] != "estimate_status" and labels[1] != "Estimate status"
    reason = frame.loc[0, "status_reason"]
    assert texts(out, "td") == ["gmail", "ok", reason[:46] + "...", "False", "apple", "unmeasurable",
                                formatting.DASH, formatting.DASH, "gmx", "insufficient_data", "12 clickers", "True"]
    # a long reason is cut where pandas cut it (50 characters), and whole on hover
    assert out.count(' title="') == 1 and f' title="{html.escape(reason)}">' in out
    rows = re.findall(r"<tr(?: class=\"([^\"]*)\")?>", out.split("<tbody>")[1])
    assert rows == ["", "", "small-cell"]  # the row resting on too few messages, as the charts draw it hollow


def test_index_dates_missing_values_and_empty_tables():
    frame = pd.DataFrame({"kind": ["sends", "opens", "clicks"],
                          "row_count": [10, 20000, 3],
                          "last_at": pd.to_datetime(["2026-10-31 23:59:58.25", None, "2026-10-01 00:00:00.00"]),
                          "window_from": pd.to_datetime(["2026-10-01", "2026-09-01", None]),
                          "first_year": [2026, 2025, 2024]}).loc[[0, 2, 1]]  # not 0..n-1: still no index shown
    cells = texts(show_table(frame).html, "td")
    assert cells == ["sends", "10", "2026-10-31 23:59:58", "2026-10-01", "2026",
                     "clicks", "3", "2026-10-01 00:00:00", "–", "2024",
                     "opens", "20,000", "–", "2026-09-01", "2025"]
    aware = pd.DataFrame({"at": pd.to_datetime(["2026-10-31 23:59:58.9"]).tz_localize("UTC")})
    assert texts(show_table(aware).html, "td") == ["2026-10-31 23:59:58+00:00"]
    named = show_table(frame.set_index("kind"), locale="fr").html
    assert texts(named, "th")[0] == (column_label("kind", Locale("fr")) or "kind")
    assert texts(named, "th")[-3:] == ["sends", "clicks", "opens"]  # a real index stays, in th cells
    empty = show_table(frame.iloc[0:0], locale="fr").html
    assert '<td class="empty" colspan="5">' in empty and len(texts(empty, "th")) == 5  # the header, then "none"
    assert texts(empty, "td") == [Locale("fr").gettext("None.")] != ["None."]
    assert show_table(pd.DataFrame({"x": [float("inf"), None, float("nan")]})).html.count("<td>–</td>") == 3


def test_a_column_shares_its_decimals():
    frame = pd.DataFrame({"revenue": [3405.52, 78.3, 0.0], "ratio": [0.1234567, 0.00012, 1.5],
                          "flag": [True, False, True], "mixed": [1, "a", 2.5]})
    cells = texts(show_table(frame).html, "td")
    assert cells[0::4] == ["3,405.52", "78.30", "0.00"]  # money to the cent, alike down the column
    assert cells[1::4] == ["0.1235", "0.00012", "1.50"]  # long decimals: 4 significant digits, 2 decimals over 1
    assert cells[2::4] == ["True", "False", "True"] and cells[3::4] == ["1.0", "a", "2.5"]
    assert formatting.format_number(0.5, decimals=None) == "0.5"
    assert formatting.format_number(2026, plain=True) == "2026" and formatting.format_number(2026) == "2,026"


def test_a_polars_frame_renders_like_pandas():
    import polars
    frame = pd.DataFrame({"sends": [20407, 3], "human_click_rate": [0.026255, None], "name": ["a<b", None]})
    assert show_table(polars.from_pandas(frame)).html == show_table(frame).html
    assert show_table(frame["sends"]).html.count("<td>") == 2


def test_the_shipped_notebooks_show_their_tables_in_the_readers_language():
    """Every table of the analysis notebooks goes through show_table with the report's locale (the
    page no longer rewrites pandas' HTML): no code cell ends on a bare frame."""
    calls = 0
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] != "code" or "parameters" in cell["metadata"].get("tags", []):
                continue
            for call in re.findall(r"show_table\((.*?)\)\s*$", source, re.DOTALL):
                calls += 1
                assert call.endswith("locale=locale"), f"{path.name}: show_table without the locale"
            last = source.strip().splitlines()[-1] if source.strip() else ""
            tail = re.fullmatch(r"[A-Za-z_][\w.]*(\[.*\])?", last.strip())
            assert not tail or last.strip() == "figure", f"{path.name}: a bare frame shown: {last}"
    assert calls >= 40
