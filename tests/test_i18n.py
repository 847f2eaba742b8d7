"""The report's languages: Babel formats, the French gettext catalogue, the column
dictionary, and the pieces of the page and the e-mail that use them. English stays as it was."""

from __future__ import annotations

import csv
import re
import subprocess
from datetime import date, datetime

import pytest

from dlvstats import i18n, mail, report
from dlvstats.i18n import Locale, column_label, translate_figure
from test_report import DLVSTATS

NNBSP = "\u202f"  # Babel's French thousands separator (narrow no-break space)


def test_french_and_english_formats():
    fr, en = Locale("fr"), Locale("en")
    assert fr.integer(102285) == f"102{NNBSP}285" and en.integer(102285) == "102,285"
    assert fr.percent(0.98237) == "98,24\u00a0%" and en.percent(0.98237) == "98.24%"
    assert fr.decimal(1234.5, 1) == f"1{NNBSP}234,5" and en.decimal(1234.5, 1) == "1,234.5"
    assert fr.points(0.04) == "+0,04\u00a0pt" and en.points(-1.2) == "-1.20 pp"
    assert fr.month_long(date(2026, 7, 1)) == "juillet 2026" and en.month_long(date(2026, 7, 1)) == "July 2026"
    assert fr.month_short(date(2026, 9, 1)) == "sept. 2026" and en.month_short(date(2026, 9, 1)) == "Sep 2026"
    assert fr.moment(datetime(2026, 10, 31, 23, 5)) == "31 octobre 2026 23:05"
    assert en.moment(datetime(2026, 10, 31, 23, 5)) == "2026-10-31 23:05"  # as before
    assert fr.percent(float("nan")) == "–" and en.integer(None) == "–"


def test_unknown_locale_is_refused_with_the_choices():
    assert i18n.check_locale("fr_FR") == "fr" and i18n.check_locale(None) == "en"
    with pytest.raises(ValueError, match="use one of en, fr"):
        i18n.check_locale("de")


def test_cli_locale_is_a_usage_error_when_unknown(tmp_path):
    done = subprocess.run([DLVSTATS, "report", "--month", "2026-10", "--db", str(tmp_path / "none.duckdb"),
                           "--locale", "klingon"], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert "--locale" in done.stderr and "en, fr" in done.stderr
    assert "--locale fr" in subprocess.run([DLVSTATS, "report", "--help"], capture_output=True, text=True,
                                           timeout=120, check=True).stdout


def test_the_catalogue_translates_every_string_the_report_prints():
    """Every column label, headline, and template string has a French entry (a missing one would
    leave English on the French page)."""
    fr = Locale("fr")
    with i18n.COLUMNS_FILE.open(encoding="utf-8") as handle:
        labels = [row["label"] for row in csv.DictReader(handle)]
    missing = [label for label in labels if not fr.has(label)]
    for _key, label, _kind, _good, _digits, note in report.HEADLINE_SPECS:
        missing += [s for s in (label, note) if s and not fr.has(s)]
    env = report._jinja_env(fr)
    source = (report.TEMPLATES_DIR / "report.html.j2").read_text(encoding="utf-8")
    template_strings = [m[2] for m in env.extract_translations(source)]
    assert len(template_strings) >= 15
    missing += [s for s in template_strings if isinstance(s, str) and not fr.has(s)]
    assert missing == []


def test_column_labels_come_from_the_dictionary():
    assert column_label("click_rate") == "Click rate"
    assert column_label("click_rate_low") == "Click rate, 95% interval low"
    assert column_label("click_rate_high", Locale("fr")) == "Taux de clic, borne haute (IC 95 %)"
    assert column_label("no_such_column") is None


def test_a_french_table_has_french_headers_and_numbers():
    import pandas as pd

    frame = pd.DataFrame({"age_years": [0, 1], "sends": [20407.0, 1199175.0], "click_rate": [0.026255, 0.000049],
                          "half_life": [2.512345, 1.25]})
    out = report.polish_dataframe_html(frame._repr_html_(), Locale("fr"))
    cells = re.findall(r"<t[dh](?:\s[^>]*)?>(.*?)</t[dh]>", out)
    assert cells[:4] == ["Âge de l'adresse (ans)", "Messages envoyés", "Taux de clic", "Demi-vie (ans)"]
    assert cells[4:8] == ["0", f"20{NNBSP}407", "2,63\u00a0%", "2,51"]
    assert cells[8:12] == ["1", f"1{NNBSP}199{NNBSP}175", "0,005\u00a0%", "1,25"]
    english = report.polish_dataframe_html(frame._repr_html_())
    assert "<th>Messages sent</th>" in english and "2.63%" in english and "1,199,175" in english


def test_figures_are_translated_and_use_french_separators():
    spec = {"data": [{"type": "bar", "name": "human open rate"}, {"type": "bar", "name": "acct_x"}],
            "layout": {"title": {"text": "Engagement by recency"}, "xaxis": {"title": {"text": "Mailbox provider"}},
                       "yaxis": {"title": "Share (%)"}}}
    out = translate_figure(spec, Locale("fr"))
    assert out["layout"]["title"]["text"] == "Engagement par ancienneté du dernier signal"
    assert out["layout"]["xaxis"]["title"]["text"] == "Fournisseur de messagerie"
    assert out["layout"]["yaxis"]["title"] == "Part (%)"
    assert [t["name"] for t in out["data"]] == ["taux d'ouverture humain", "acct_x"]  # names of data stay
    assert out["layout"]["separators"] == ", "
    assert translate_figure(spec, Locale("en")) is spec


def test_headlines_and_changes_in_french():
    now = {"sends": 101873, "delivery_rate": 0.98123, "delivery_rate_low": 0.9804, "delivery_rate_high": 0.982}
    before = {"sends": 104028, "delivery_rate": 0.97861}
    rows = {h.label: h for h in report.headlines(now, before, Locale("fr"))}
    assert rows["Messages envoyés"].value == f"101{NNBSP}873" and rows["Messages envoyés"].change == "-2,1\u00a0%"
    rate = rows["Taux de délivrance"]
    assert rate.value == "98,12\u00a0%" and rate.change == "+0,26\u00a0pt" and rate.tone == "good"
    assert rate.interval == "IC 95 % 98,04\u00a0% – 98,20\u00a0%" and rate.note == "délivrés / envoyés"
    english = {h.label: h for h in report.headlines(now, before)}
    assert english["Messages sent"].value == "101,873" and english["Messages sent"].change == "-2.1%"
    assert english["Delivery rate"].change == "+0.26 pp" and english["Delivery rate"].interval == "95% CI 98.04% – 98.20%"


def test_french_subject_and_e_mail_body():
    fr = Locale("fr")
    assert report.email_subject("2026-10", None, True, 2, fr) == "2 alertes — Rapport de délivrabilité — octobre 2026"
    assert report.email_subject("2026-10", "acme", False, 1, fr) == (
        "1 alerte — Rapport de délivrabilité — acme — octobre 2026 [données incomplètes]")
    assert report.email_subject("2026-10", None, True, 2) == "2 alerts — Deliverability report — October 2026"
    rows = [{"label": "Messages envoyés", "value": f"101{NNBSP}873", "change": "-2,1 %"}]
    text = mail.render_summary_text("Rapport", "octobre 2026", None, rows, [("warning", "Taux")], [], locale="fr")
    assert "Mois : octobre 2026 - Tous les comptes" in text and "AVERTISSEMENT: Taux" in text
    assert "par rapport au mois précédent" in text
    html = mail.render_summary_html("Rapport", "octobre 2026", None, rows, [], [], locale="fr")
    assert 'lang="fr"' in html and ">Indicateur</th>" in html and ">Valeur</th>" in html


def test_maturity_notes_in_french():
    notes = report.maturity_notes("2026-10", datetime(2026, 10, 31, 22, 0), loc=Locale("fr"))
    assert notes[0].startswith("Campagnes non matures : Les messages sont partis le 24 octobre 2026 ou après")
    assert "31 octobre 2026 22:00 UTC" in notes[0]
    assert report.maturity_notes("2026-10", datetime(2026, 9, 2), loc=Locale("fr"))[0].startswith(
        "Les données s'arrêtent le 2 septembre 2026 00:00 UTC, avant le début de octobre 2026")


def _shipped_notebooks():
    from dlvstats.config import PACKAGED_NOTEBOOKS_DIR

    paths = sorted(PACKAGED_NOTEBOOKS_DIR.glob("*.ipynb"))
    assert len(paths) >= 5, paths
    return paths


def test_every_markdown_block_of_every_shipped_notebook_has_a_french_entry():
    """A notebook edit that adds or rewords a heading, paragraph or list item fails here until the
    French catalogue has the new text (the report would show it in English)."""
    fr = Locale("fr")
    messages = [(path.name, m) for path in _shipped_notebooks() for m in report.notebook_messages(path)]
    assert len(messages) >= 80  # titles, headings and paragraphs of the five notebooks
    missing = [(name, m) for name, m in messages if not fr.has(m)]
    assert missing == [], "no French entry (add it to locale/fr/LC_MESSAGES/dlvstats.po):\n" + "\n".join(
        f"{name}: {m}" for name, m in missing)


def test_french_markdown_keeps_code_spans_and_numbers():
    """The translation of a notebook paragraph keeps its `code` spans as they are (column names,
    commands, files) and its numbers (0.3% becomes 0,3 %)."""
    fr = Locale("fr")
    wrong = []
    for path in _shipped_notebooks():
        for message in report.notebook_messages(path):
            french = fr.gettext(message)
            if sorted(re.findall(r"`[^`]+`", message)) != sorted(re.findall(r"`[^`]+`", french)):
                wrong.append(("code", message))
            outside = re.sub(r"`[^`]+`", "", message)
            numbers = [n.replace(".", ",") for n in re.findall(r"\d+(?:\.\d+)?", outside)]
            if not all(n in re.sub(r"`[^`]+`", "", french) for n in numbers):
                wrong.append(("number", message))
    assert wrong == []


def test_markdown_is_translated_by_paragraph_heading_and_list_item():
    fr = Locale("fr")
    heading = "## Rows and coverage"
    paragraph = "One row per table: how many rows and the first and\nlast timestamp (UTC)."  # re-wrapped
    code = "One row per table: how many rows and the first and last timestamp (UTC)."
    lines = [heading, "", paragraph, "", "- One row per table: how many rows and the first and last",
             "  timestamp (UTC).", "", "```", code, "```", "", "A paragraph nobody translated."]
    source = "\n".join(lines)
    out = report._translate_markdown(source, fr).split("\n")
    expected = "Une ligne par table : le nombre de lignes, le premier et le dernier horodatage (UTC)."
    assert out[0] == "## " + fr.gettext("Rows and coverage") != heading
    assert out[2] == expected
    assert out[4] == "- " + expected  # a list item is its own entry, continuation lines included
    assert out[6:9] == source.split("\n")[8:11]  # fenced code stays as it is
    assert out[-1] == "A paragraph nobody translated." and "A paragraph nobody translated." in fr.untranslated
    assert report._translate_markdown(source, Locale("en")) == source  # English: unchanged
    assert report.markdown_messages(source)[:3] == ["Rows and coverage", " ".join(paragraph.split()),
                                                     " ".join(paragraph.split())]
