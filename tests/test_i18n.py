"""The report's languages: Babel formats, the French gettext catalogue, the column
dictionary, and the pieces of the page and the e-mail that use them. English stays as it was."""

from __future__ import annotations

import csv
import html
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
    assert column_label("human_click_rate") == "Click rate"
    assert column_label("human_click_rate_low") == "Click rate, 95% interval low"
    assert column_label("human_click_rate_high", Locale("fr")) == "Taux de clic, borne haute (IC 95 %)"
    assert column_label("no_such_column") is None


def test_a_french_table_has_french_headers_and_numbers():
    import pandas as pd

    frame = pd.DataFrame({"age_years": [0, 1], "sends": [20407.0, 1199175.0], "human_click_rate": [0.026255, 0.000049],
                          "half_life": [2.512345, 1.25]})
    out = report.show_table(frame, locale=Locale("fr")).html
    cells = [html.unescape(c) for c in re.findall(r"<t[dh](?:\s[^>]*)?>(.*?)</t[dh]>", out)]  # the text shown
    assert cells[:4] == ["Âge de l'adresse (ans)", "Messages envoyés", "Taux de clic", "Demi-vie (ans)"]
    assert cells[4:8] == ["0", f"20{NNBSP}407", "2,63\u00a0%", "2,51"]
    assert cells[8:12] == ["1", f"1{NNBSP}199{NNBSP}175", "0,005\u00a0%", "1,25"]
    english = report.show_table(frame).html
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


def test_every_notebook_takes_the_report_locale_and_prints_through_it():
    """The notebooks declare ``locale`` (the report passes its --locale: notebook_parameters only
    passes declared ones) and hand it to every sentence they print from package code."""
    sentences = 0
    for path in _shipped_notebooks():
        assert "locale" in report.declared_parameters(path), path.name
        code = "\n".join(report._joined(c.get("source")) for c in report.read_notebook(path)["cells"]
                         if c.get("cell_type") == "code")
        assert "reading_of(figure)" not in code, path.name
        calls = re.findall(r"in_plain_words\([^)]*\)", code)
        assert all("locale=locale" in call for call in calls), (path.name, calls)
        sentences += len(calls) + code.count("reading_of(figure, locale)")
    assert sentences >= 30  # the reading notes and the plain-words sentences of the five notebooks
    assert report.notebook_parameters(["db_path", "locale"], {"db_path": "x", "locale": "fr", "month": "m"}) == {
        "db_path": "x", "locale": "fr"}


def test_every_chart_reading_has_a_french_entry():
    """Each fixed 'how to read this chart' note of the plots package (a notebook prints it through
    reading_of) is in the catalogue; the ones built from data are templates, tested below."""
    import ast

    from dlvstats import plots

    fr = Locale("fr")
    readings = []
    sources = [path.read_text(encoding="utf-8") for path in sorted((report.PACKAGE_DIR / "plots").glob("*.py"))]
    sources += ["\n".join(report._joined(c.get("source")) for c in report.read_notebook(path)["cells"]
                          if c.get("cell_type") == "code") for path in _shipped_notebooks()]
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.keyword) and node.arg == "reading" and isinstance(node.value, ast.Constant):
                readings.append(node.value.value)
            elif (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_finish" and len(node.args) >= 5
                  and isinstance(node.args[4], ast.Constant)):
                readings.append(node.args[4].value)  # _finish(fig, title, x_title, y_title, reading)
            elif (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "gettext" and node.args
                  and isinstance(node.args[0], ast.Constant)):
                readings.append(node.args[0].value)  # a notebook's own printed sentence
    assert len(readings) >= 28
    assert [r for r in readings if not fr.has(r)] == []
    import plotly.graph_objects as go

    fig = plots.base._finish(go.Figure(), "t", "x", "y", readings[0])
    assert plots.reading_of(fig) == readings[0] and plots.reading_of(fig, "en") == readings[0]
    assert plots.reading_of(fig, "fr") == fr.gettext(readings[0]) != readings[0]


def _decay_inputs():
    import pandas as pd

    curve = pd.DataFrame({"t": [0.0, 5.0, 10.0], "fitted": [0.3, 0.2, 0.15], "fitted_low": [0.28, 0.18, 0.13],
                          "fitted_high": [0.32, 0.22, 0.17]})
    table = pd.DataFrame({"age_years": [0, 5, 10], "est_read_rate": [0.3, 0.2, 0.15], "est_read_rate_low": [0.29, 0.19, 0.14],
                          "est_read_rate_high": [0.31, 0.21, 0.16], "small_cell": [False, False, True]})
    fit = {"curve": curve, "half_life": 2.512, "half_life_low": 1.81, "half_life_high": 3.44, "plateau": 0.1254,
           "model": "fitted"}
    return table, fit


def test_data_built_chart_title_and_reading_in_french():
    from dlvstats.plots import engagement as engagement_plots
    from dlvstats.plots import reading_of

    table, fit = _decay_inputs()
    fig = engagement_plots.decay_chart(table, fit)
    english = fig.to_plotly_json()
    assert english["layout"]["title"]["text"] == (
        "Decay of estimated readers (images blocked included) with address age: half-life 2.5 years [1.8–3.4]")
    assert reading_of(fig) == ("The excess over the plateau (12.5%) halves every 2.5 years; the band is the 95% "
                               "bootstrap interval of the curve.")
    french = translate_figure(english, Locale("fr"))
    assert french["layout"]["title"]["text"] == ("Décroissance avec l'ancienneté de l'adresse (lecteurs estimés "
                                                  "(images bloquées incluses)) : demi-vie de 2,5 ans [1,8–3,4]")
    assert reading_of(fig, "fr") == ("L'excédent au-dessus du plateau (12,5\u00a0%) diminue de moitié tous les 2,5 ans ; "
                                     "la bande est l'intervalle de confiance à 95 % de la courbe, par bootstrap.")
    # the page never carries the templates
    page = report._without_templates(french)
    assert "i18n" not in page["layout"]["meta"] and page["layout"]["meta"]["reading"] == reading_of(fig)


def _hidden_table():
    import pandas as pd

    return pd.DataFrame({
        "estimate_status": ["ok", "unmeasurable", "imprecise"], "note": ["", "opens mostly machine open", ""],
        "image_blocked_share_used": [0.2, None, 0.1], "est_hidden_readers": [1234.4, 0.0, 10.0],
        "measurable_delivered": [20000, 100, 500], "measurable_human_openers": [5000, 10, 100],
        "provider": ["gmail", "apple", "orange"]})


def test_hidden_images_in_plain_words_in_french_and_english_as_before():
    from dlvstats.metrics import hidden_images

    table = _hidden_table()
    english = hidden_images.in_plain_words(table)
    assert english.startswith("Of 15,400 recorded non-opens (messages without a machine open), about 1,244 (8.1%) "
                              "were people who read the message with images off: opens under-count readers by "
                              "about 24%. No estimate for apple:")
    assert hidden_images.in_plain_words(table, locale="en") == english
    french = hidden_images.in_plain_words(table, locale="fr")
    assert french.startswith(f"Sur 15{NNBSP}400 non-ouvertures enregistrées (messages sans ouverture automatique), "
                             f"environ 1{NNBSP}244 (8,1\u00a0%) étaient des personnes qui ont lu le message avec les "
                             "images bloquées : les ouvertures sous-estiment les lecteurs d'environ 24\u00a0%.")
    # orange is imprecise: known only roughly (too few clickers is insufficient_data's reason)
    assert "Pas d'estimation pour apple" in french and "orange : connus seulement approximativement" in french
    assert not re.search(r"\b(the|of|were|readers)\b", french)


def test_checks_and_sunset_and_gift_sentences_in_french():
    import pandas as pd

    from dlvstats.metrics import engagement, gift, hidden_images

    checks = pd.DataFrame({
        "provider": ["all", "all"], "evidence": ["content click (the estimator)", "unsubscribe click only"],
        "share_without_open": [0.2512, 0.31], "share_without_open_low": [0.24, 0.22],
        "share_without_open_high": [0.26, 0.40], "readers": [900, 40], "differs_from_estimator": [False, False]})
    assert hidden_images.checks_in_plain_words(checks) == (
        "25.1% of content clickers showed no open; 31.0% for unsubscribe click only (within its interval "
        "22.0%-40.0%). Every group of proven readers agrees with the clickers: the data do not contradict the "
        "assumption.")
    assert hidden_images.checks_in_plain_words(checks, locale="fr") == (
        "25,1\u00a0% des cliqueurs sur le contenu n'avaient aucune ouverture ; 31,0\u00a0% pour « clic sur le lien "
        "de désinscription seulement » (dans son intervalle 22,0\u00a0%-40,0\u00a0%). Chaque groupe de lecteurs "
        "avérés concorde avec les cliqueurs : les données ne contredisent pas l'hypothèse.")
    sunset = pd.DataFrame({
        "recommended": [True], "recommendation_status": ["ok"], "recommendation_reason": [""],
        "threshold_months": [12], "sends_removed": [123456.0], "sends_removed_share": [0.123],
        "complaints_removed": [45.0], "complaints_removed_share": [0.3], "hard_bounces_removed": [1200.0],
        "hard_bounces_removed_share": [0.25], "human_clickers_removed": [310.0], "orders_removed": [12.0],
        "est_hidden_readers_removed": [87.4]})
    assert engagement.sunset_in_plain_words(sunset).startswith(
        "Suppress people with no human signal for 12 months or more. Over the period that would have removed "
        "123,456 sends (12%)")
    french = engagement.sunset_in_plain_words(sunset, locale="fr")
    assert french.startswith("Excluez les personnes sans signal humain depuis 12 mois ou plus. Sur la période, "
                             f"cela aurait retiré 123{NNBSP}456 envois (12\u00a0%), 45 plaintes (30\u00a0%)")
    assert french.endswith("environ 87 lecteurs estimés dont les images étaient bloquées.")
    assert gift.gift_in_plain_words(pd.DataFrame(), locale="fr").startswith(
        "Aucune campagne cadeau des 12 derniers mois")
    assert gift.gift_in_plain_words(pd.DataFrame()).startswith("No gift campaign of the last 12 months")
