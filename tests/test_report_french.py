"""The French report as its readers see it: the simulated month rendered with
``dlvstats report --locale fr`` by the console script, opened in Debian's headless Chromium (offline),
read through the page's text: French headings (none left as in the English report), ``101 873``-style
numbers, ``98,12 %`` percentages, French month names; the dry-run e-mail in French with its alert
count first. The English report of the same month (test_report.render_sim_report) is the reference.
Screenshot: /tmp/report_fr_top.png.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import subprocess

import pytest

from dlvstats.i18n import Locale
from test_report import DLVSTATS, REPORT_TO, render_sim_report
from test_report_browser import Visit, browser  # noqa: F401  (the module's Chromium fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FRENCH_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
                 "octobre", "novembre", "décembre")
HEADINGS_JS = "() => [...document.querySelectorAll('h1, h2, h3, h4, th')].map(e => e.innerText.trim())"


def render_french(sim, tmp_path_factory):
    base = tmp_path_factory.getbasetemp() / "sim-report-fr"
    directory = base / "out" / "2026-10"
    if (directory / "report.json").exists():
        return directory
    base.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLVSTATS_SMTP") and k != "DLVSTATS_MAIL_FROM"}
    done = subprocess.run([DLVSTATS, "report", "--month", "2026-10", "--db", str(sim.db_path), "--out",
                           str(base / "out"), "--email", REPORT_TO, "--dry-run", "--locale", "fr", "-q"],
                          cwd=tmp_path_factory.mktemp("cwd-fr"), capture_output=True, text=True, timeout=900,
                          env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return directory


@pytest.fixture(scope="module")
def pages(sim, tmp_path_factory):
    english, _ = render_sim_report(sim, tmp_path_factory)
    return english, render_french(sim, tmp_path_factory)


def _texts(browser, directory, selector_js=HEADINGS_JS):  # noqa: F811
    visit = Visit(browser, (directory / "index.html").as_uri(), width=1400)
    texts = visit.page.evaluate(selector_js)
    return visit, texts


def test_french_page_reads_in_french(browser, pages):  # noqa: F811
    english_dir, french_dir = pages
    _, english = _texts(browser, english_dir)
    visit, french = _texts(browser, french_dir)
    assert visit.page.evaluate("() => document.documentElement.lang") == "fr"
    title = visit.page.locator("h1").inner_text()
    assert title.startswith("Rapport de délivrabilité") and "octobre 2026" in title, title
    # No heading or column header is left as the English report has it, unless French writes it the
    # same way (a catalogue entry whose translation is itself, a campaign id, a number, a month code).
    loc = Locale("fr")
    same_in_french = {t for t in set(english) if loc.has(t) and loc.gettext(t) == t}
    left = sorted({t for t in french if t in set(english)} - same_in_french
                  - {t for t in french if not re.search(r"[A-Za-z]{3,}", t)})
    assert left == [], f"English left in the French headings: {left}"
    assert not [t for t in french if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", t)], "raw snake_case header"
    assert "..." not in french, "a pandas-truncated table"
    headline_table = visit.page.locator("table.headlines").inner_text()
    assert re.search(r"Messages envoyés\s+\d{1,3}([\u202f\u00a0 ]\d{3})+\b", headline_table), headline_table
    assert re.search(r"\d+,\d{2}[\u202f\u00a0 ]%", headline_table), headline_table
    assert "oct. 2026" in headline_table and "sept. 2026" in headline_table
    # an English count ('101,873') is a whole cell; French decimals carry a unit ('0,013 pt', '0,030 %')
    assert not re.search(r"\b\d{1,3}(,\d{3})+(?=\t|\n|$)", headline_table), "an English thousands separator"
    tables = visit.page.evaluate("() => [...document.querySelectorAll('table')].map(t => t.innerText).join('\\n')")
    assert not re.search(r"\d\.\d+%", tables), "an English percentage in a table"
    assert any(m in visit.page.inner_text(".subtitle") for m in FRENCH_MONTHS)
    visit.page.screenshot(path="/tmp/report_fr_top.png")


PARAGRAPHS_JS = """() => [...document.querySelectorAll('section.analysis p, section.analysis li')].map(e => {
    const copy = e.cloneNode(true); copy.querySelectorAll('code').forEach(c => c.remove());
    return copy.innerText.replace(/\\s+/g, ' ').trim(); })"""


def test_french_page_paragraphs_are_french(browser, pages):  # noqa: F811
    """The notebooks' markdown paragraphs are translated: no paragraph of the English page (code
    spans aside) appears as it is on the French page, and the French ones read as French."""
    english_dir, french_dir = pages
    _, english = _texts(browser, english_dir, PARAGRAPHS_JS)
    _, french = _texts(browser, french_dir, PARAGRAPHS_JS)
    wordy = {p for p in english if len(re.findall(r"[A-Za-z]{3,}", p)) >= 4}
    assert len(wordy) >= 40, len(wordy)  # the five notebooks' paragraphs are there to compare
    left = sorted(wordy & set(french))
    assert left == [], f"English paragraphs left on the French page: {left}"
    assert len(french) == len(english)
    assert sum(1 for p in french if re.search(r"\b(les|des|du|est|une)\b", p)) >= 35
    assert any("taux de plainte" in p for p in french) and any("désinscription" in p for p in french)


def _figure_specs(directory):
    html = (directory / "index.html").read_text(encoding="utf-8")
    return [json.loads(s) for s in re.findall(
        r'<script type="application/json" class="plotly-figure"[^>]*>(.*?)</script>', html, re.DOTALL)]


def _title(layout, key="title"):
    title = layout.get(key, {})
    return title.get("text") if isinstance(title, dict) else title


def test_french_charts_have_french_titles_and_separators(pages):
    english_dir, french_dir = pages
    english, french = _figure_specs(english_dir), _figure_specs(french_dir)
    assert len(english) == len(french) > 0
    loc = Locale("fr")
    untranslated = []
    for en, fr in zip(english, french, strict=True):
        assert fr["layout"]["separators"] == ", "  # 1 234,5 on the axes
        for key in ("title", "xaxis", "yaxis"):
            en_text = _title(en["layout"]) if key == "title" else _title(en["layout"].get(key, {}))
            fr_text = _title(fr["layout"]) if key == "title" else _title(fr["layout"].get(key, {}))
            if not en_text:
                continue
            if loc.has(en_text):
                assert fr_text == loc.gettext(en_text) != en_text or loc.gettext(en_text) == en_text
            elif fr_text == en_text:
                untranslated.append(en_text)
    # Titles built from the data (a fitted half-life, a rate's name) are catalogue templates too.
    assert untranslated == [], untranslated


OUTPUTS_JS = "() => [...document.querySelectorAll('section.analysis div.stdout')].map(e => e.innerText.trim())"


def test_french_printed_sentences_are_french(browser, pages):  # noqa: F811
    """What the notebooks print from package code (how to read each chart, the hidden-images and
    sunset sentences) is French on the French page, with French numbers."""
    english_dir, french_dir = pages
    _, english = _texts(browser, english_dir, OUTPUTS_JS)
    _, french = _texts(browser, french_dir, OUTPUTS_JS)
    sentences = {t for t in english if len(re.findall(r"\b[a-z]{3,}\b", t)) >= 8 and t.endswith(".")}
    assert len(sentences) >= 20, len(sentences)  # the reading notes and plain-words sentences
    left = sorted(sentences & set(french))
    assert left == [], f"English sentences left on the French page: {left}"
    assert any(t.startswith("Sur ") and "non-ouvertures enregistrées" in t for t in french), french
    assert any("taux de lecture estimé" in t for t in french)
    assert not [t for t in french if re.search(r"\b\d+\.\d%", t)], "an English percentage in a sentence"


def test_french_email_has_its_alert_count_first_and_french_text(pages):
    _, french_dir = pages
    message = email.message_from_bytes((french_dir / "email.eml").read_bytes(), policy=email.policy.default)
    manifest = json.loads((french_dir / "report.json").read_text())
    alerts = sum(1 for a in manifest["alerts"] if a["level"] in ("critical", "warning"))
    subject = message["Subject"]
    assert "Rapport de délivrabilité" in subject and "octobre 2026" in subject
    if alerts:
        assert re.match(rf"{alerts} alertes? — ", subject), subject
    text = message.get_body(("plain",)).get_content()
    assert "Mois : octobre 2026" in text and "Messages envoyés" in text
    assert re.search(r"\d+,\d{2}\s%", text) and "Headline" not in text
    html = message.get_body(("html",)).get_content()
    assert 'lang="fr"' in html and "Indicateur" in html and "par rapport au mois précédent" in html
    assert len((french_dir / "email.eml").read_bytes()) < 1_000_000
