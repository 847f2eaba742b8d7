"""The rendered report in a real browser: Debian's headless Chromium, driven by Playwright (never a
downloaded browser), with every request that is not a local file aborted, so the page must work
offline. Checks that every chart is drawn, that the console stays clean, and that hostile names
(an account called ``<img src=x onerror=alert(1)>``, a campaign called ``</script><script>...``, a
notebook printing raw HTML) show as text while no script of theirs runs.

At 400 and 1,400 px wide, the page never scrolls sideways and no chart's legend, title or axis title
overlaps another or leaves the chart; screenshots in /tmp/report-shots/ (DLVSTATS_SHOTS_DIR).

Screenshots for a human look: /tmp/report_page.png (the simulated month), /tmp/report_top.png (its
first screen), /tmp/report_hostile.png, /tmp/report_email.png (the e-mail body).
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import shutil
from pathlib import Path

import pytest

from dlvstats.report import ReportOptions, run_report
from test_report import (
    BREAKOUT,
    HOSTILE_ACCOUNT,
    build_tiny_db,
    probe_notebooks,
    render_sim_report,
)

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str:
    for candidate in (os.environ.get("DLVSTATS_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("Debian's chromium is needed for the report tests: `make browser` installs it when run as root, "
                "else `sudo apt-get install chromium` (or set DLVSTATS_CHROMIUM=/path/to/chromium)")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class Visit:
    """A page opened offline, with its console messages, page errors, dialogs and blocked requests."""

    def __init__(self, browser, url: str | None = None, html: str | None = None, width: int = 1200):
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        # A full-page screenshot of the month's report took 15-21 s with the machine's load at 8-10:
        # Playwright's 30 s default is too close under load, and a timeout is not what these tests check.
        self.page.set_default_timeout(180_000)
        self.console, self.errors, self.dialogs, self.blocked = [], [], [], []
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)

        def route(r):
            if r.request.url.startswith(("file:", "data:", "about:")):
                r.continue_()
            else:
                self.blocked.append(r.request.url)
                r.abort()

        self.page.route("**/*", route)
        if url:
            self.page.goto(url, wait_until="load")
        else:
            self.page.set_content(html, wait_until="load")

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def drawn_charts(self) -> int:
        return self.page.evaluate(
            "() => [...document.querySelectorAll('.js-plotly-plot')].filter(d => d.querySelector('svg.main-svg')).length")

    def wait_for_charts(self, expected: int) -> None:
        self.page.wait_for_function(
            "n => [...document.querySelectorAll('.js-plotly-plot')].filter(d => d.querySelector('svg.main-svg')).length >= n",
            arg=expected, timeout=60_000)

    def console_errors(self):
        return [text for kind, text in self.console if kind in ("error", "assert")] + self.errors


# --------------------------------------------------------------------------------------------------
# The simulated month with the shipped notebooks


@pytest.fixture(scope="module")
def sim_page(sim, tmp_path_factory):
    directory, _ = render_sim_report(sim, tmp_path_factory)
    return directory


@pytest.mark.slow
def test_every_chart_is_drawn_offline_with_a_clean_console(browser, sim_page):
    manifest = json.loads((sim_page / "report.json").read_text())
    figures = manifest["figures"]
    assert figures >= 1
    visit = Visit(browser, (sim_page / "index.html").as_uri())
    visit.wait_for_charts(figures)
    visit.page.wait_for_timeout(500)
    assert visit.drawn_charts() == figures == visit.page.locator(".chart, .chart-error").count()
    assert visit.page.locator(".chart-error").count() == 0
    assert visit.console_errors() == [] and visit.dialogs == []
    assert visit.blocked == [], "the page asked for something outside the file"
    visit.page.screenshot(path="/tmp/report_top.png")
    visit.page.screenshot(path="/tmp/report_page.png", full_page=True)
    visit.page.close()


@pytest.mark.slow
def test_email_body_renders_without_scripts_or_remote_content(browser, sim_page):
    message = email.message_from_bytes((sim_page / "email.eml").read_bytes(), policy=email.policy.default)
    html_body = message.get_body(("html",)).get_content()
    visit = Visit(browser, html=html_body, width=700)
    assert visit.page.locator("script").count() == 0
    assert visit.blocked == [] and visit.console_errors() == []
    text = visit.page.inner_text("body")
    assert "Deliverability report" in text and "October 2026" in text and "Messages sent" in text
    visit.page.screenshot(path="/tmp/report_email.png", full_page=True)
    visit.page.close()


# --------------------------------------------------------------------------------------------------
# Hostile names and outputs


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    db_path = build_tiny_db(base / "db")
    options = ReportOptions(db_path=db_path, out_dir=base / "out", month="2026-10",
                            notebooks_dir=probe_notebooks(base / "nb", hostile=True, overview=False),
                            email=["ops@example.net"], dry_run=True)
    return run_report(options)


def test_hostile_names_show_as_text_and_no_script_runs(browser, hostile_report):
    manifest = json.loads((hostile_report.directory / "report.json").read_text())
    visit = Visit(browser, hostile_report.index.as_uri())
    visit.wait_for_charts(manifest["figures"])
    visit.page.wait_for_timeout(500)
    page = visit.page
    assert visit.dialogs == [], f"a script ran: {visit.dialogs}"
    assert page.evaluate("() => [window.__xss_html, window.__xss_img]") == [None, None]
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.locator("script:not(.plotly-figure)").count() == 2  # plotly.js and the drawing script
    body = page.inner_text("body")
    assert HOSTILE_ACCOUNT in body  # in the alerts and the tables, as text
    assert BREAKOUT in body  # printed by the notebook, as text
    assert "bold kept" in body and "[address hidden #" in body and "someone.real@example.org" not in body
    # In the charts too: tick labels, titles and legends show the names rather than dropping them.
    chart_text = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot text')].map(t => t.textContent)")
    assert HOSTILE_ACCOUNT in chart_text and BREAKOUT in chart_text
    assert "Hostile <img src=x onerror=alert(7)> title" in chart_text
    assert visit.drawn_charts() == manifest["figures"] == 2
    assert visit.console_errors() == [] and visit.blocked == []
    page.screenshot(path="/tmp/report_hostile.png", full_page=True)
    page.close()


def test_hostile_names_in_the_email_body_are_text(browser, hostile_report):
    message = email.message_from_bytes((hostile_report.directory / "email.eml").read_bytes(),
                                       policy=email.policy.default)
    visit = Visit(browser, html=message.get_body(("html",)).get_content(), width=700)
    assert visit.dialogs == [] and visit.page.locator("img").count() == 0
    assert HOSTILE_ACCOUNT in visit.page.inner_text("body")
    visit.page.close()


#: Boxes measured in the page: the document's width, every element sticking out of the viewport (outside
#: a scroll box of its own), and, per chart, its title, legend and x-axis title.
LAYOUT_PROBE = """() => {
  const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const hit = (a, b) => a[0] < b[2] - 1 && b[0] < a[2] - 1 && a[1] < b[3] - 1 && b[1] < a[3] - 1;
  const out = {doc: document.documentElement.scrollWidth, view: window.innerWidth, problems: [], charts: 0};
  document.querySelectorAll('.js-plotly-plot').forEach(p => {
    out.charts += 1;
    const pb = box(p), parts = {};
    for (const [name, sel] of [['title', '.gtitle'], ['legend', 'g.legend'], ['x-axis title', '.xtitle']]) {
      const e = p.querySelector(sel);
      if (!e) continue;
      parts[name] = box(e);
      const b = parts[name];
      if (b[0] < pb[0] - 1 || b[2] > pb[2] + 1 || b[1] < pb[1] - 1 || b[3] > pb[3] + 1)
        out.problems.push(p.id + ': ' + name + ' leaves the chart');
    }
    const names = Object.keys(parts);
    for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++)
      if (hit(parts[names[i]], parts[names[j]])) out.problems.push(p.id + ': ' + names[i] + ' on ' + names[j]);
  });
  document.querySelectorAll('main *').forEach(e => {
    if (e.closest('.output, .table-wrap, .js-plotly-plot')) return;
    if (e.getBoundingClientRect().right > window.innerWidth + 1)
      out.problems.push(e.tagName.toLowerCase() + '.' + e.className + ' wider than the screen');
  });
  return out; }"""


def shots_dir() -> Path:
    directory = Path(os.environ.get("DLVSTATS_SHOTS_DIR", "/tmp/report-shots"))
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        directory = Path("/tmp/report-shots")
        directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.mark.slow
@pytest.mark.parametrize("width", [400, 1400])
def test_the_page_fits_the_screen_and_nothing_overlaps(browser, sim_page, width):
    figures = json.loads((sim_page / "report.json").read_text())["figures"]
    visit = Visit(browser, (sim_page / "index.html").as_uri(), width=width)
    visit.wait_for_charts(figures)
    visit.page.wait_for_timeout(500)
    found = visit.page.evaluate(LAYOUT_PROBE)
    assert found["charts"] == figures
    assert found["view"] == width and found["doc"] <= width, "the page scrolls sideways"
    assert found["problems"] == [], "\n".join(found["problems"])
    # the summary's tables (headlines, 12-month trend) scroll in their own boxes if they must; the page
    # itself does not
    wraps = visit.page.locator("#summary .table-wrap")
    assert wraps.count() == 2
    assert wraps.evaluate_all("es => es.map(e => getComputedStyle(e).overflowX)") == ["auto", "auto"]
    directory = shots_dir()
    visit.page.screenshot(path=str(directory / f"report-{width}-top.png"))
    visit.page.screenshot(path=str(directory / f"report-{width}-page.png"), full_page=True)
    for name in ("chart-4", "chart-9"):
        chart = visit.page.locator(f"#{name}")
        if chart.count():
            chart.screenshot(path=str(directory / f"report-{width}-{name}.png"))
    visit.page.close()
