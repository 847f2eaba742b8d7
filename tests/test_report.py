"""The monthly report (``dlvstats report``): notebooks run with papermill, one self-contained page,
CSV tables, data maturity, re-runs, failures, concurrent runs, account packs and privacy.

Two databases:
- a tiny hand-built one (``tiny_db``): three accounts, one of them named like an XSS payload, a
  campaign whose name breaks out of a <script> element and one that is a spreadsheet formula; it runs
  with small probe notebooks written here, so these tests do not depend on the analysis notebooks;
- the simulator's (``sim`` from conftest): the shipped notebooks, run the way cron runs them (the
  console script, from another directory, with the notebooks packaged in ``dlvstats/notebooks``).

Helpers here (``build_tiny_db``, ``probe_notebooks``, ``assert_no_addresses``) are also used by
test_report_browser.py and test_report_email.py.
"""

from __future__ import annotations

import html
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import nbformat
import pytest

from dlvstats import report
from dlvstats.report import ReportOptions, run_report

ROOT = Path(__file__).resolve().parents[1]
HOSTILE_ACCOUNT = "<img src=x onerror=alert(1)>"
BREAKOUT = "</script><script>alert(2)</script>"
FORMULA = '=HYPERLINK("http://evil.example/","click me")'
ACCOUNTS = ["acme", "globex", HOSTILE_ACCOUNT]
BIN = Path(sys.executable).parent
DLVSTATS = str(BIN / "dlvstats")
ADDRESS = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


# --------------------------------------------------------------------------------------------------
# A tiny database with hostile names


def build_tiny_db(root: Path, *, last_day: int = 31) -> Path:
    """Sep and Oct 2026, three accounts x 60 recipients x 3 campaigns a month.

    globex sends from the shared IP 192.0.2.10 (listed on 2026-10-20), bounces hard in October and
    draws Yahoo complaints; the hostile account complains too (so its name reaches the alerts);
    acme sends alone from 192.0.2.20. Data runs to ``last_day`` October (31 = a complete month).
    """
    sys.path.insert(0, str(Path(__file__).parent))
    from dlvstats.ingest import ingest_paths
    from helpers import write_drop

    rng = random.Random(4)
    domains = ["gmail.com", "yahoo.fr", "hotmail.fr", "orange.fr", "icloud.com", "acme-corp.example"]
    people = {a: [f"p{n}.{i}@{domains[i % len(domains)]}" for i in range(60)] for n, a in enumerate(ACCOUNTS)}
    sends, opens, clicks, complaints, campaigns, subs = [], [], [], [], [], []
    n = 0
    for month in ("2026-09", "2026-10"):
        year, mon = (int(x) for x in month.split("-"))
        for account in ACCOUNTS:
            for c, day in enumerate((3, 15, min(last_day, 30) if month == "2026-10" else 30)):
                cid = f"{account[:3].strip('<')}-{month}-{c}"
                sent = datetime(year, mon, day, 9, 0)
                name = {("acme", 1): BREAKOUT, ("acme", 2): FORMULA}.get((account, c), f"Newsletter {month} #{c}")
                campaigns.append([cid, account, "L1", sent.isoformat(), "gift" if c == 2 else "regular", name, "Hi"])
                for recipient in people[account]:
                    n += 1
                    mid = f"m{n}"
                    hard = rng.random() < (0.2 if (account == "globex" and month == "2026-10") else 0.01)
                    ip = "192.0.2.20" if account == "acme" else "192.0.2.10"
                    sends.append([mid, sent.isoformat(), account, "L1", cid, recipient,
                                  "bounced" if hard else "delivered",
                                  "" if hard else (sent + timedelta(minutes=1)).isoformat(),
                                  "hard" if hard else "", "550" if hard else "", "5.1.1" if hard else "",
                                  "", ip, "news.example"])
                    if hard:
                        continue
                    if rng.random() < 0.3:
                        at = sent + timedelta(hours=2)
                        opens.append([mid, at.isoformat(), "Mozilla/5.0 (Windows NT 10.0) Thunderbird", "198.51.100.7"])
                        if rng.random() < 0.4:
                            clicks.append([mid, (at + timedelta(minutes=1)).isoformat(), "https://shop.example/x",
                                           "Mozilla/5.0 (Windows NT 10.0)", "198.51.100.7"])
                    if account != "acme" and "yahoo" in recipient and rng.random() < 0.3:
                        complaints.append([(sent + timedelta(hours=5)).isoformat(), mid, account, "yahoo_cfl"])
    # Activity up to the last day, so that the month is complete when last_day is 31.
    n += 1
    tail = datetime(2026, 10, last_day, 22, 0)
    sends.append([f"m{n}", tail.isoformat(), "acme", "L1", "acm-2026-10-2", people["acme"][0], "delivered",
                  (tail + timedelta(minutes=1)).isoformat(), "", "", "", "", "192.0.2.20", "news.example"])
    for account in ACCOUNTS:
        for recipient in people[account]:
            subs.append(["2021-01-01T00:00:00", account, "L1", recipient, "subscribe", "form", "", ""])
    drop = write_drop(root / "drop", {
        "sends": (["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status",
                   "delivered_at", "bounce_class", "smtp_code", "enhanced_status", "bounce_reason",
                   "sending_ip", "sending_domain"], sends),
        "opens": (["message_id", "ts", "user_agent", "ip"], opens),
        "clicks": (["message_id", "ts", "url", "user_agent", "ip"], clicks),
        "complaints": (["ts", "message_id", "account_id", "source"], complaints),
        "campaigns": (["campaign_id", "account_id", "list_id", "sent_at", "kind", "name", "subject"], campaigns),
        "subscriptions": (["ts", "account_id", "list_id", "recipient", "action", "source", "campaign_id",
                           "collected_at"], subs),
        "blocklists": (["ts", "target", "blocklist", "action"],
                       [["2026-10-20T08:00:00", "192.0.2.10", "spamhaus_sbl", "listed"]]),
    })
    db_path = root / "tiny.duckdb"
    ingest_paths(db_path, [drop])
    return db_path


@pytest.fixture(scope="session")
def tiny_db(tmp_path_factory) -> Path:
    return build_tiny_db(tmp_path_factory.mktemp("tiny"))


# --------------------------------------------------------------------------------------------------
# Probe notebooks (small, fast, written like the analysis notebooks)

PARAMETERS = '''\
db_path: str = "../data/dlvstats.duckdb"  # DuckDB file
date_from: str = "2026-10-01"  # first day (UTC, inclusive)
date_to: str = "2026-11-01"  # end day (UTC, exclusive)
account_id: str | None = None  # one account, or None for all
month: str = "2026-10"  # YYYY-MM (informational; a = b; papermill's parser gives up on this line)
'''

PROBE_CELLS = [
    ("markdown", "# 10 · Sender health probe\n\nComplaint and bounce rates per account, from the metric."),
    ("code", ("from dlvstats.metrics import sender_health as sh\nfrom dlvstats.plots import rate_chart, reading_of\n"
             "from dlvstats.tables import show_table")),
    ("code", ('table = sh.sender_health(db_path, date_from, date_to, account_id, by="account", grain="period")\n'
              'show_table(table[["dimension_value", "sends", "delivered", "complaint_rate_fbl", "hard_bounce_rate"]])')),
    ("code", ('figure = rate_chart(table, "dimension_value", ["hard_bounce_rate"], title="Hard-bounce rate by account",\n'
              '                    x_title="Account", y_title="Hard-bounce rate", kind="bar",\n'
              '                    reading="Bars over 2% mean stale addresses.")\n'
              "print(reading_of(figure))\nfigure")),
    ("code", "import warnings\nwarnings.warn('stderr noise that the page must not show')"),
]

HOSTILE_CELLS = [
    ("markdown", "# 99 · Hostile outputs\n\nRaw HTML in markdown: <img src=x onerror=alert(8)> stays text."),
    ("code", ("from IPython.display import HTML, Markdown, display\n"
              "display(HTML('<script>window.__xss_html = 1; alert(3)</script><b>bold kept</b>"
              "<img src=x onerror=\"window.__xss_img = 1\">'))\n"
              "display(Markdown('**md** <img src=x onerror=alert(4)> [link](javascript:alert(5))'))")),
    ("code", f"print({BREAKOUT!r})"),
    ("code", ("import plotly.graph_objects as go\n"
              f"go.Figure(go.Bar(x=[{HOSTILE_ACCOUNT!r}, {BREAKOUT!r}], y=[1, 2], name='<b>ok</b> <img src=x onerror=alert(6)>'),\n"
              "          layout={'title': {'text': 'Hostile <img src=x onerror=alert(7)> title'}})")),
    ("code", f"import pandas as pd\npd.DataFrame({{'name': [{HOSTILE_ACCOUNT!r}, {BREAKOUT!r}], 'n': [1, 2]}})"),
    ("code", (f"from dlvstats.tables import show_table\nshow_table(pd.DataFrame({{'name': [{HOSTILE_ACCOUNT!r}], "
              f"{BREAKOUT!r}: [0.5]}}), caption={BREAKOUT!r})")),
    ("code", "print('contact: someone.real@example.org')  # an address that must not reach the page"),
]


def write_notebook(path: Path, cells, parameters: str | None = PARAMETERS) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    items = list(cells)
    if parameters is not None:
        items.insert(1, ("parameters", parameters))
    for kind, source in items:
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
        elif kind == "parameters":
            nb.cells.append(nbformat.v4.new_code_cell(source, metadata={"tags": ["parameters"]}))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(source))
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def probe_notebooks(directory: Path, *, hostile: bool = False, failing: bool = False,
                    overview: bool = True) -> Path:
    """A notebooks directory: 00_data_overview (the shipped one), a probe, optionally hostile/failing."""
    directory.mkdir(parents=True, exist_ok=True)
    if overview:
        shutil.copy(ROOT / "notebooks" / "00_data_overview.ipynb", directory)
    write_notebook(directory / "10_probe.ipynb", PROBE_CELLS)
    if hostile:
        write_notebook(directory / "99_hostile.ipynb", HOSTILE_CELLS)
    if failing:
        write_notebook(directory / "20_failing.ipynb",
                       [("markdown", "# 20 · Fails"), ("code", "raise RuntimeError('planted failure 4242')")])
    return directory


def db_strings(db_path: Path, sql: str) -> set[str]:
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return {row[0] for row in con.execute(sql).fetchall() if row[0]}
    finally:
        con.close()


def output_files(directory: Path) -> list[Path]:
    return [p for p in Path(directory).rglob("*") if p.is_file()]


def file_text(path: Path) -> str:
    """A file's text; for an .eml, its headers and every part decoded (base64 hides nothing)."""
    if path.suffix == ".eml":
        import email
        import email.policy

        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        chunks = [f"{k}: {v}" for k, v in message.items()]
        for part in message.walk():
            if part.is_multipart():
                continue
            chunks += [f"{k}: {v}" for k, v in part.items()]
            chunks.append(part.get_payload(decode=True).decode("utf-8", errors="replace"))
        return "\n".join(chunks)
    return path.read_bytes().decode("utf-8", errors="replace")


def output_tokens(path: Path) -> set[str]:
    """Every address-shaped or word-shaped token of a file, in its raw, HTML-unescaped and
    JSON-unescaped forms, so a recipient cannot hide behind an encoding."""
    raw = file_text(path)
    variants = {raw, html.unescape(raw)}
    variants.add(re.sub(r"\\u00([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), raw))
    tokens: set[str] = set()
    for text in variants:
        tokens.update(t.lower() for t in re.split(r"[^A-Za-z0-9._%+'@-]+", text) if t)
        tokens.update(m.group(0).lower() for m in ADDRESS.finditer(text))
    return tokens


def strip_plotly_js(text: str) -> str:
    import plotly.offline

    return text.replace(plotly.offline.get_plotlyjs(), "")


def assert_no_addresses(directory: Path, recipients: set[str], allowed: set[str] = frozenset()) -> None:
    """No recipient of the data in any output file, and no address-shaped text but ``allowed``."""
    recipients = {r.lower() for r in recipients}
    for path in output_files(directory):
        leaked = output_tokens(path) & recipients
        assert not leaked, f"{path.name} holds recipient addresses: {sorted(leaked)[:5]}"
        text = strip_plotly_js(file_text(path))
        found = {m.group(0).lower() for m in ADDRESS.finditer(text)} - {a.lower() for a in allowed}
        assert not found, f"{path.name} holds e-mail addresses: {sorted(found)[:5]}"


# --------------------------------------------------------------------------------------------------
# Units


def test_months():
    assert report.last_complete_month(datetime(2026, 11, 1, 6, 0)) == "2026-10"
    assert report.last_complete_month(datetime(2027, 1, 15)) == "2026-12"
    assert report.month_bounds("2026-12") == (datetime(2026, 12, 1), datetime(2027, 1, 1))
    assert report.previous_month("2026-01") == "2025-12"
    for bad in ("2026-13", "2026-1", "26-10", "2026/10", ""):
        with pytest.raises(report.ReportUsageError):
            report.parse_month(bad)


def test_report_dirs_and_account_slugs(tmp_path):
    assert report.report_dir(tmp_path, "2026-10") == tmp_path / "2026-10"
    assert report.report_dir(tmp_path, "2026-10", "acme") == tmp_path / "accounts" / "acme" / "2026-10"
    slug = report.account_slug(HOSTILE_ACCOUNT)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", slug) and slug != report.account_slug("img_src_x_onerror_alert_1")
    assert report.account_slug("../../etc") != ".." and "/" not in report.account_slug("../../etc")


def test_declared_parameters_include_lines_papermill_cannot_parse(tmp_path):
    path = write_notebook(tmp_path / "n.ipynb", [("markdown", "# t"), ("code", "x = 1")])
    declared = report.declared_parameters(path)
    assert declared == ["db_path", "date_from", "date_to", "account_id", "month"]
    only = write_notebook(tmp_path / "m.ipynb", [("markdown", "# t")],
                          parameters='db_path: str = "x"  # db\nmonth: str = ""  # YYYY-MM')
    values = {"db_path": "/d", "date_from": "2026-10-01", "date_to": "2026-11-01", "account_id": None,
              "month": "2026-10"}
    assert report.notebook_parameters(report.declared_parameters(only), values) == {"db_path": "/d", "month": "2026-10"}
    none = write_notebook(tmp_path / "p.ipynb", [("markdown", "# t")], parameters=None)
    assert report.declared_parameters(none) == []


def test_notebook_order_puts_the_overview_last(tmp_path):
    for name in ("00_data_overview", "02_b", "01_a", ".hidden", "_draft"):
        write_notebook(tmp_path / f"{name}.ipynb", [("markdown", "# x")])
    assert [p.name for p in report.find_notebooks(tmp_path)] == ["01_a.ipynb", "02_b.ipynb", "00_data_overview.ipynb"]


def test_script_json_cannot_close_its_element():
    text = report.json_for_script({"x": [BREAKOUT, "a & b", "\u2028"]})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"x": [BREAKOUT, "a & b", "\u2028"]}


def test_chart_text_is_escaped_but_plotly_markup_kept():
    spec = {"data": [{"x": [HOSTILE_ACCOUNT, "A & B"], "y": {"dtype": "f8", "bdata": "AAAA+/=="},
                      "hovertemplate": "%{x}<br>%{y:.2f}<extra>%{fullData.name}</extra>"}],
            "layout": {"title": {"text": "<b>Rates</b> for <script>x</script>"}, "meta": {"reading": "<i>keep</i>"}}}
    out = report.escape_figure(spec)
    assert out["data"][0]["x"] == ["&lt;img src=x onerror=alert(1)&gt;", "A &amp; B"]
    assert out["data"][0]["y"] == {"dtype": "f8", "bdata": "AAAA+/=="}
    assert out["data"][0]["hovertemplate"] == spec["data"][0]["hovertemplate"]
    assert out["layout"]["title"]["text"] == "<b>Rates</b> for &lt;script&gt;x&lt;/script&gt;"
    assert out["layout"]["meta"] == spec["layout"]["meta"]


def test_sanitize_html_keeps_tables_and_neutralises_the_rest():
    dirty = ('<div><style scoped>.x{}</style><table class="dataframe"><tr><td>&lt;img&gt;</td></tr></table>'
             '<script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">l</a>'
             '<b onclick="alert(1)">b</b></div>')
    clean = report.sanitize_html(dirty)
    assert '<table class="dataframe">' in clean and "<td>&lt;img&gt;</td>" in clean
    assert "<script" not in clean and "<style" not in clean and "<img" not in clean
    assert "onclick" not in clean and "javascript:" not in clean
    assert "&lt;img src=x onerror=alert(1)&gt;" in clean


def test_pandas_tables_are_made_readable():
    import pandas as pd

    frame = pd.DataFrame({"age_years": [0, 1], "sends": [20407.0, 1199175.0], "human_click_rate": [0.026255, 0.000049],
                          "name": [HOSTILE_ACCOUNT, None], "loaded_at": ["2026-11-27 21:36:12.192523", "x"]})
    out = report.sanitize_html(report.show_table(frame)._repr_html_())
    cells = re.findall(r"<t[dh](?:\s[^>]*)?>(.*?)</t[dh]>", out)
    # labels from the column dictionary (data/columns.csv); a name it lacks stays; no 0..n-1 index column
    assert cells[:5] == ["Address age (years)", "Messages sent", "Click rate", "name", "Loaded at"]
    assert cells[5:10] == ["0", "20,407", "2.63%", "&lt;img src=x onerror=alert(1)&gt;", "2026-11-27 21:36:12"]
    assert cells[10:13] == ["1", "1,199,175", "0.005%"] and cells[13] == "–"
    empty = report.show_table(pd.DataFrame(columns=["a", "b"])).html
    assert 'colspan="2">None.</td>' in empty
    indexed = frame.set_index("name")  # a real index stays
    assert "<th>name</th>" in report.show_table(indexed).html.replace(" ", "")


def test_markdown_raw_html_shows_as_text():
    out = report.markdown_to_html("**b** <img src=x onerror=alert(1)> [l](javascript:alert(1))")
    assert "<strong>b</strong>" in out and "<img" not in out and "javascript:" not in out


def test_address_scrubber_is_stable_within_a_run():
    scrub = report.AddressScrubber()
    text = scrub.text("from Alice.B@Example.org and alice.b@example.org, not @handle or a@b")
    assert "example.org" not in text.lower() and "@handle" in text and "a@b" in text
    tags = re.findall(r"\[address hidden #[0-9a-f]{8}\]", text)
    assert len(tags) == 2 and tags[0] == tags[1]
    assert report.AddressScrubber().text("x@example.org") != text.split(" and ")[0]  # new key per run


# --------------------------------------------------------------------------------------------------
# One report of the tiny database, inspected from every side


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, tiny_db):
    out = tmp_path_factory.mktemp("tiny-out")
    options = ReportOptions(db_path=tiny_db, out_dir=out, month="2026-10",
                            notebooks_dir=probe_notebooks(tmp_path_factory.mktemp("nb")))
    return run_report(options)


def test_report_layout_and_record(tiny, tiny_db):
    d = tiny.directory
    assert tiny.complete_data and d.name == "2026-10" and tiny.index == d / "index.html"
    names = {p.name for p in d.iterdir()}
    assert {"index.html", "report.json", "00_data_overview.ipynb", "10_probe.ipynb", "summary.csv"} <= names
    assert not [p for p in d.parent.iterdir() if p.name.startswith(".") and p.is_dir()], "build dirs left behind"
    manifest = json.loads((d / "report.json").read_text())
    assert manifest["status"] == "complete" and manifest["complete_data"] is True
    assert manifest["month"] == "2026-10" and manifest["account_id"] is None
    # Each executed notebook is the record of the run: parameters injected, kernel named.
    nb = nbformat.read(d / "10_probe.ipynb", as_version=4)
    assert nb.metadata.papermill.parameters == {
        "db_path": str(tiny_db.resolve()), "date_from": "2026-10-01", "date_to": "2026-11-01",
        "account_id": None, "month": "2026-10"}
    assert nb.metadata.kernelspec.name == "python3"
    overview = nbformat.read(d / "00_data_overview.ipynb", as_version=4)
    assert overview.metadata.papermill.parameters == {"db_path": str(tiny_db.resolve()), "month": "2026-10"}
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)


def test_page_is_self_contained_with_plotly_once(tiny):
    import plotly

    page = tiny.index.read_text(encoding="utf-8")
    manifest = json.loads((tiny.directory / "report.json").read_text())
    assert page.count(plotly.offline.get_plotlyjs()) == 1
    assert page.count("plotly.js v") == 1  # the library's banner, once
    assert manifest["figures"] == 2 == page.count('class="plotly-figure"') == page.count('<div class="chart"')
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", strip_plotly_js(page)), "an external resource"
    assert "cdn.plot.ly" not in strip_plotly_js(page)
    # No code: the notebooks' sources do not appear, their outputs and prose do.
    assert "sh.sender_health(" not in page and "import warnings" not in page
    assert "stderr noise" not in page
    assert "Bars over 2% mean stale addresses." in page
    assert "Sender health probe" in page and "Data overview" in page
    assert page.index("Sender health probe") < page.index("Data overview")  # analyses first


def test_summary_has_headlines_changes_and_alerts(tiny):
    page = tiny.index.read_text(encoding="utf-8")
    manifest = json.loads((tiny.directory / "report.json").read_text())
    labels = [h["label"] for h in manifest["headlines"]]
    assert labels[:4] == ["Messages sent", "Delivered", "Delivery rate", "Hard-bounce rate"]
    sent = manifest["headlines"][0]
    assert sent["value"] == "541" and sent["previous"] == "540" and sent["change"] == "+0.2%"
    bounce = next(h for h in manifest["headlines"] if h["label"] == "Hard-bounce rate")
    assert bounce["change"].endswith(" pp") and bounce["tone"] == "bad"
    alerts = [a["text"] for a in manifest["alerts"]]
    assert any(t.startswith("Complaint rate") and "account globex" in t and "0.3% line" in t for t in alerts)
    assert any(t.startswith("Complaint rate") and "mailbox provider yahoo" in t for t in alerts)
    assert any(t.startswith("Hard-bounce spike for account globex") for t in alerts)
    assert any(t.startswith("Blocklist: ip 192.0.2.10 listed on spamhaus_sbl on 2026-10-20") for t in alerts)
    listing = next(t for t in alerts if t.startswith("Blocklist: ip 192.0.2.10"))
    assert "likeliest culprit globex (2 complaints of 45 delivered" in listing  # the complaining account
    assert not any("account acme" in t for t in alerts if t.startswith("Complaint"))
    assert "Month-over-month changes compare" in page and "Immature campaigns" in page
    # The hostile account name is in an alert, escaped.
    assert any(HOSTILE_ACCOUNT in t for t in alerts)
    assert HOSTILE_ACCOUNT not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_csv_tables_beside_the_page_are_formula_safe(tiny):
    import pandas as pd

    d = tiny.directory
    csvs = {p.name for p in d.glob("*.csv")}
    assert {"summary.csv", "sender-health.csv", "sender-health-month.csv", "engagement-by-age.csv",
            "gift-campaigns.csv", "hidden-images.csv"} <= csvs
    gift = pd.read_csv(d / "gift-campaigns.csv")
    if "name" in gift.columns:
        assert "'" + FORMULA in set(gift["name"])
        assert FORMULA not in set(gift["name"])
    for path in d.glob("*.csv"):
        for line in path.read_text(encoding="utf-8").splitlines():
            for cell in line.split(","):
                assert not cell.lstrip('"').startswith(("=", "+", "@")), f"{path.name}: {cell}"


def test_no_recipient_address_in_any_output(tiny, tiny_db):
    recipients = db_strings(tiny_db, "SELECT DISTINCT recipient FROM sends")
    assert len(recipients) == 180
    assert_no_addresses(tiny.directory, recipients)


def test_rerun_overwrites_nothing_without_force(tiny, tiny_db):
    d = tiny.directory
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in d.iterdir()}
    options = ReportOptions(db_path=tiny_db, out_dir=d.parent, month="2026-10")
    with pytest.raises(report.ReportExists, match="--force"):
        run_report(options)
    after = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in d.iterdir()}
    assert after == before


def test_a_killed_run_is_recovered_by_the_next(tmp_path, tiny, tiny_db):
    """A run killed between swapping the old report out and moving the new one in: the next run puts
    the old report back (and then, finding it complete, overwrites nothing); half-built directories go."""
    out = tmp_path / "out"
    out.mkdir()
    shutil.copytree(tiny.directory, out / ".2026-10.old-4242")
    (out / ".2026-10.build-abc").mkdir()
    (out / ".2026-10.build-abc" / "index.html").write_text("half")
    with pytest.raises(report.ReportExists):
        run_report(ReportOptions(db_path=tiny_db, out_dir=out, month="2026-10"))
    assert report.is_complete(out / "2026-10")
    assert sorted(p.name for p in out.iterdir()) == [".2026-10.lock", "2026-10"]


def test_force_replaces_and_failure_keeps_the_previous_report(tmp_path, tiny_db):
    nbdir = probe_notebooks(tmp_path / "nb", overview=False)
    options = ReportOptions(db_path=tiny_db, out_dir=tmp_path / "out", month="2026-10", notebooks_dir=nbdir)
    first = run_report(options)
    stamp = json.loads((first.directory / "report.json").read_text())["rendered_at"]
    time.sleep(1.1)
    # A failing notebook: non-zero exit code, the failed notebook kept with its error, old report intact.
    probe_notebooks(nbdir, failing=True, overview=False)
    options.force = True
    with pytest.raises(report.NotebookFailed, match="20_failing.ipynb") as info:
        run_report(options)
    assert info.value.exit_code == report.EXIT_NOTEBOOK_FAILED
    failed = tmp_path / "out" / "2026-10.failed"
    record = nbformat.read(failed / "20_failing.ipynb", as_version=4)
    errors = [o for c in record.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors and "planted failure 4242" in errors[0]["evalue"]
    assert not (failed / "index.html").exists()
    assert json.loads((first.directory / "report.json").read_text())["rendered_at"] == stamp
    # --force with healthy notebooks replaces it.
    (nbdir / "20_failing.ipynb").unlink()
    second = run_report(options)
    assert json.loads((second.directory / "report.json").read_text())["rendered_at"] != stamp
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".") and p.is_dir()]


def test_incomplete_data_is_marked_and_not_emailed(tmp_path, tiny_db):
    nbdir = probe_notebooks(tmp_path / "nb", overview=False)
    # November has no data at all: it stops before the month's end.
    options = ReportOptions(db_path=tiny_db, out_dir=tmp_path / "out", month="2026-11", notebooks_dir=nbdir,
                            email=["ops@example.net"], dry_run=True)
    with pytest.raises(report.DataIncomplete, match="--allow-incomplete") as info:
        run_report(options)
    assert info.value.exit_code == report.EXIT_INCOMPLETE
    assert not (tmp_path / "out" / "2026-11").exists()
    # Without e-mail it renders, marked; a later run replaces it without --force.
    options.email, options.dry_run = [], False
    result = run_report(options)
    page = result.index.read_text(encoding="utf-8")
    assert not result.complete_data and "INCOMPLETE DATA" in page
    assert json.loads((result.directory / "report.json").read_text())["complete_data"] is False
    run_report(options)
    # --allow-incomplete sends it, marked in the subject.
    options.email, options.dry_run, options.allow_incomplete = ["ops@example.net"], True, True
    result = run_report(options)
    import email
    import email.policy

    message = email.message_from_bytes((result.directory / "email.eml").read_bytes(), policy=email.policy.default)
    alerts = json.loads((result.directory / "report.json").read_text())["alerts"]
    # the tiny drop's blocklist listing is still open in November: an alert, counted first in the subject
    assert [a["text"].split(":")[0] for a in alerts] == ["Blocklist"], alerts
    assert message["Subject"] == "1 alert — Deliverability report — November 2026 [incomplete data]"
    assert "INCOMPLETE DATA" in message.get_body(("plain",)).get_content()


def test_account_pack_holds_only_that_account(tmp_path, tiny_db):
    nbdir = probe_notebooks(tmp_path / "nb")
    result = run_report(ReportOptions(db_path=tiny_db, out_dir=tmp_path / "out", month="2026-10",
                                      notebooks_dir=nbdir, account_id="acme"))
    assert result.directory == tmp_path / "out" / "accounts" / "acme" / "2026-10"
    manifest = json.loads((result.directory / "report.json").read_text())
    skipped = {n["name"]: n["skipped"] for n in manifest["notebooks"]}
    assert "account_id" in skipped["00_data_overview.ipynb"]  # it cannot filter: not in a client's pack
    assert skipped["10_probe.ipynb"] == ""
    others = db_strings(tiny_db, "SELECT DISTINCT account_id FROM sends WHERE account_id <> 'acme'")
    others |= db_strings(tiny_db, "SELECT DISTINCT campaign_id FROM sends WHERE account_id <> 'acme'")
    others |= db_strings(tiny_db, "SELECT DISTINCT name FROM campaigns WHERE account_id <> 'acme' AND name NOT LIKE 'Newsletter%'")
    others |= {"192.0.2.10"}  # the shared IP only the other clients used
    assert others >= {"globex", HOSTILE_ACCOUNT}
    for path in output_files(result.directory):
        text = path.read_text(encoding="utf-8", errors="replace")
        for variant in (text, html.unescape(text)):
            for other in others:
                assert other not in variant, f"{path.name} names {other!r}"
    for path in result.directory.glob("*.csv"):
        header = path.read_text(encoding="utf-8").splitlines()[0].split(",") if path.stat().st_size else []
        assert not [c for c in header if c.endswith("_rank") or c == "accounts_using"], path.name
    assert "Account <b>acme</b>" in result.index.read_text(encoding="utf-8")


def test_two_runs_of_the_same_month_at_once_do_not_corrupt_each_other(tmp_path, tiny_db):
    """Real processes: one renders, the other is refused at once (exit 4) or, if it came second,
    renders again (--force); either way one complete, consistent report remains."""
    nbdir = probe_notebooks(tmp_path / "nb", overview=False)
    out = tmp_path / "out"
    cmd = [DLVSTATS, "-q", "report", "--month", "2026-10", "--db", str(tiny_db), "--out", str(out),
           "--notebooks", str(nbdir), "--force"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outcomes = [(p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _, _ in outcomes)
    assert codes in ([0, 0], [0, report.EXIT_BUSY]), outcomes
    if report.EXIT_BUSY in codes:
        busy = next(err for code, _, err in outcomes if code == report.EXIT_BUSY)
        assert "another dlvstats report is rendering" in busy and "pid" in busy
    final = out / "2026-10"
    manifest = json.loads((final / "report.json").read_text())
    assert manifest["status"] == "complete"
    assert {p.name for p in final.iterdir()} >= {"index.html", "10_probe.ipynb", "summary.csv"}
    assert final.joinpath("index.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert [p.name for p in out.iterdir() if p.name.startswith(".") and p.is_dir()] == []


def test_cli_help_and_usage_errors(tmp_path, tiny_db):
    done = subprocess.run([DLVSTATS, "report", "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and "--allow-incomplete" in done.stdout and "Exit codes" in done.stdout
    done = subprocess.run([DLVSTATS, "report", "--month", "2026-13", "--db", str(tiny_db), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == report.EXIT_USAGE and "YYYY-MM" in done.stderr
    done = subprocess.run([DLVSTATS, "report", "--month", "2026-10", "--db", str(tiny_db), "--out", str(tmp_path),
                           "--dry-run"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == report.EXIT_USAGE and "--email" in done.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLVSTATS_SMTP") and k != "DLVSTATS_MAIL_FROM"}
    done = subprocess.run([DLVSTATS, "report", "--month", "2026-10", "--db", str(tiny_db), "--out", str(tmp_path),
                           "--email", "ops@example.net"], capture_output=True, text=True, timeout=60, env=env, check=False)
    assert done.returncode == report.EXIT_USAGE and "DLVSTATS_SMTP_HOST" in done.stderr
    assert not (tmp_path / "2026-10").exists()


def test_ingest_then_report_in_one_command(tmp_path):
    """--ingest loads the drop first (cron needs one command); a refused drop exits 3."""
    db_dir = tmp_path / "src"
    build_tiny_db(db_dir)  # writes db_dir/drop
    nbdir = probe_notebooks(tmp_path / "nb", overview=False)
    db_path = tmp_path / "fresh.duckdb"
    done = subprocess.run([DLVSTATS, "-q", "report", "--month", "2026-10", "--db", str(db_path), "--out",
                           str(tmp_path / "out"), "--ingest", str(db_dir / "drop"), "--notebooks", str(nbdir)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("2026-10/index.html")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "sends.csv").write_text("message_id,sent_at\nx,not a date\n")
    done = subprocess.run([DLVSTATS, "-q", "report", "--month", "2026-10", "--db", str(db_path), "--out",
                           str(tmp_path / "out2"), "--ingest", str(bad), "--notebooks", str(nbdir)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == report.EXIT_INGEST_REFUSED, done.stderr
    assert not (tmp_path / "out2" / "2026-10").exists()


# --------------------------------------------------------------------------------------------------
# The shipped notebooks on the simulator's data, run the way cron runs them


REPORT_TO = "ops@example.net"


def render_sim_report(sim, tmp_path_factory) -> tuple[Path, str]:
    """Render the simulator's last month once per session, as cron would: the console script, from an
    unrelated directory, notebooks from the installed package, with a dry-run e-mail. Shared by
    test_report.py and test_report_browser.py (cached on disk: module fixtures cannot share)."""
    base = tmp_path_factory.getbasetemp() / "sim-report"
    directory = base / "out" / "2026-10"
    log = base / "run.log"
    if (directory / "report.json").exists() and log.exists():
        return directory, log.read_text()
    base.mkdir(parents=True, exist_ok=True)
    elsewhere = tmp_path_factory.mktemp("cwd")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLVSTATS_SMTP") and k != "DLVSTATS_MAIL_FROM"}
    started = time.monotonic()
    done = subprocess.run([DLVSTATS, "report", "--month", "2026-10", "--db", str(sim.db_path), "--out",
                           str(base / "out"), "--email", REPORT_TO, "--dry-run"],
                          cwd=elsewhere, capture_output=True, text=True, timeout=900, env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    print(f"\nsimulated month rendered in {time.monotonic() - started:.1f} s")
    log.write_text(done.stdout)
    return directory, done.stdout


@pytest.fixture(scope="module")
def sim_report(sim, tmp_path_factory):
    return render_sim_report(sim, tmp_path_factory)


@pytest.mark.slow
def test_shipped_notebooks_all_run_for_the_month(sim_report):
    directory, stdout = sim_report
    shipped = sorted(p.name for p in (ROOT / "src" / "dlvstats" / "notebooks").glob("*.ipynb"))
    assert shipped == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    manifest = json.loads((directory / "report.json").read_text())
    ran = sorted(n["name"] for n in manifest["notebooks"] if not n["skipped"])
    assert ran == shipped, manifest["notebooks"]
    for name in ran:
        nb = nbformat.read(directory / name, as_version=4)
        params = nb.metadata.papermill.parameters
        assert params["db_path"].endswith("sim.duckdb")
        assert params.get("date_from", "2026-10-01") == "2026-10-01"
        assert params.get("date_to", "2026-11-01") == "2026-11-01"
        assert nb.metadata.papermill.exception is None
    assert stdout.strip().splitlines()[0] == str(directory / "index.html")
    assert (directory / "email.eml").exists()
    import plotly

    page = (directory / "index.html").read_text(encoding="utf-8")
    assert page.count(plotly.offline.get_plotlyjs()) == 1
    assert manifest["figures"] == page.count('class="plotly-figure"') >= 1


@pytest.mark.slow
def test_sim_report_has_no_recipient_address(sim_report, sim):
    directory, _ = sim_report
    recipients = db_strings(sim.db_path, "SELECT DISTINCT recipient FROM sends")
    recipients |= db_strings(sim.db_path, "SELECT DISTINCT recipient FROM subscriptions")
    assert len(recipients) > 1000
    assert_no_addresses(directory, recipients, allowed={REPORT_TO})


@pytest.mark.slow
def test_sim_account_pack_names_no_other_client(sim, tmp_path):
    accounts = sorted(db_strings(sim.db_path, "SELECT DISTINCT account_id FROM sends"))
    assert len(accounts) >= 3
    mine = accounts[0]
    done = subprocess.run([DLVSTATS, "-q", "report", "--month", "2026-10", "--db", str(sim.db_path),
                           "--out", str(tmp_path), "--account", mine], capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    directory = report.report_dir(tmp_path, "2026-10", mine)
    others = set(accounts) - {mine}
    # Account ids of the simulator are distinctive words (no id is a substring of ordinary text).
    for path in output_files(directory):
        text = path.read_text(encoding="utf-8", errors="replace")
        for other in others:
            assert other not in text, f"{path.name} names the other client {other!r}"
    assert mine in (directory / "index.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_wheel_ships_the_notebooks(tmp_path):
    """A plain `pip install` gets the notebooks: the wheel holds copies identical to notebooks/."""
    # Build from a copy (an in-tree build would leave build/ in the checkout); the packaged notebooks
    # directory is a relative symlink to notebooks/, copied as a link.
    src = tmp_path / "src-copy"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "notebooks", src / "notebooks")
    shutil.copytree(ROOT / "src", src / "src", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    assert (src / "src" / "dlvstats" / "notebooks").is_symlink()
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(src)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    wheel = next(tmp_path.glob("dlvstats-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        packaged = {Path(n).name: zf.read(n) for n in zf.namelist()
                    if n.startswith("dlvstats/notebooks/") and n.endswith(".ipynb")}
        assert "dlvstats/templates/report.html.j2" in zf.namelist()
    source = {p.name: p.read_bytes() for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert source and packaged == source


def test_interval_bounds_are_shown_like_their_quantity():
    import pandas as pd

    frame = pd.DataFrame({"half_life": [2.5016], "half_life_low": [2.159412], "half_life_high": [2.721133],
                          "human_click_rate": [0.02], "human_click_rate_low": [0.019], "image_blocked_share_high": [0.3]})
    out = report.show_table(frame).html
    cells = re.findall(r"<td(?:\s[^>]*)?>(.*?)</td>", out)
    assert cells == ["2.5016", "2.16", "2.72", "2.00%", "1.90%", "30.00%"]


@pytest.mark.slow
def test_sim_email_is_small_and_its_subject_counts_the_alerts(sim_report):
    """The demo month's e-mail: under 1 MB without --attach-report (the page alone weighs
    megabytes), nothing attached, the subject led by the number of alerts and warnings the page shows."""
    import email
    import email.policy

    directory, _ = sim_report
    raw = (directory / "email.eml").read_bytes()
    assert (directory / "index.html").stat().st_size > 1_000_000  # so the size check below means something
    assert len(raw) < 1_000_000
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert list(message.iter_attachments()) == []
    manifest = json.loads((directory / "report.json").read_text())
    count = sum(1 for a in manifest["alerts"] if a["level"] in ("critical", "warning"))
    prefix = f"{count} alert{'s' if count != 1 else ''} — " if count else ""
    assert message["Subject"] == f"{prefix}Deliverability report — October 2026"
    # each analysis's conclusion in a sentence, in both parts, with the figures of the page's tables
    import pandas as pd

    text = message.get_body(preferencelist=("plain",)).get_content()
    html_part = message.get_body(preferencelist=("html",)).get_content()
    assert "What each analysis says" in text and "What each analysis says" in html_part
    said = text[text.index("What each analysis says"):].split("\n")
    for analysis in ("Engagement decay by address age", "Gift campaigns", "Hidden images", "Sender health",
                     "Campaigns"):
        assert any(line.startswith(f"- {analysis}") for line in said), analysis
    hidden = pd.read_csv(directory / "hidden-images.csv")
    total = hidden.loc[hidden["image_blocked_share_used"].notna(), "est_hidden_readers"].sum()
    assert f"about {total:,.0f} (" in text


@pytest.mark.slow
def test_sim_report_has_the_trend_and_the_raw_open_rate(sim_report):
    """The summary's 12-month trend (one row per month with messages, newest first, the month's row
    equal to its headlines) and the open rate as ESPs count it beside the human one."""
    import pandas as pd

    directory, _ = sim_report
    trend = pd.read_csv(directory / "headline-trend.csv")
    assert trend["month"].tolist() == [f"{y}-{m:02d}" for y, m in [(2025, 11), (2025, 12)] + [(2026, k) for k in range(1, 11)]]
    summary = pd.read_csv(directory / "summary.csv")
    heads = summary[summary["kind"] == "headline"].set_index("label")
    assert "Open rate as ESPs count it" in heads.index and "Human open rate" in heads.index
    october = trend.set_index("month").loc["2026-10"]
    assert heads.loc["Human open rate", "value"] == f"{october['human_open_rate']:.2%}"
    assert heads.loc["Open rate as ESPs count it", "value"] == f"{october['open_rate']:.2%}"
    assert heads["year_before"].isna().all()  # the data start in November 2025: no October 2025
    page = (directory / "index.html").read_text(encoding="utf-8")
    table = page[page.index('<table class="trend">'):]
    table = table[:table.index("</table>")]
    assert table.count("<tr") == 1 + 12 and table.count('class="current"') == 1
    assert table.index("Oct 2026") < table.index("Sep 2026")


def test_year_before_column_from_the_trend():
    import pandas as pd

    trend = pd.DataFrame({"month": ["2025-10", "2026-09", "2026-10"], "sends": [900, 1000, 1100],
                          "human_open_rate": [0.21, 0.2, 0.19], "delivered": [880, 990, 1090]})
    before = report.year_before_totals(trend, "2026-10")
    assert before == {"sends": 900.0, "human_open_rate": 0.21, "delivered": 880.0}
    assert report.year_before_totals(trend, "2026-09") == {}
    rows = {h.label: h for h in report.headlines({"sends": 1100, "human_open_rate": 0.19}, {}, None, before)}
    assert rows["Messages sent"].year_before == "900" and rows["Human open rate"].year_before == "21.00%"
    assert report.month_shift("2026-01", -12) == "2025-01" and report.month_shift("2026-01", -1) == "2025-12"


@pytest.mark.slow
def test_sim_report_hidden_readers_agree_with_the_table_and_the_truth(sim_report, sim):
    """The page's hidden-reader sentence is the table's own sum, and within 10% of the simulator's
    truth (readers whose pixel never loaded among the month's delivered messages without a machine
    open, Apple's left out as the table leaves it out); the gift section answers with an interval."""
    import html as html_lib
    import re

    import duckdb
    import pandas as pd

    directory, _ = sim_report
    table = pd.read_csv(directory / "hidden-images.csv")
    counted = table[table["image_blocked_share_used"].notna()]
    hidden = counted["est_hidden_readers"].sum()
    page = html_lib.unescape(re.sub(r"<[^>]+>", " ", (directory / "index.html").read_text(encoding="utf-8")))
    assert f"about {hidden:,.0f} (" in " ".join(page.split())
    truth = duckdb.connect().execute(
        f"""SELECT count(*) FROM read_parquet('{sim.out_dir / "truth_messages.parquet"}')
            WHERE sent_at >= '2026-10-01' AND sent_at < '2026-11-01' AND delivered AND NOT machine_open
              AND read AND NOT pixel_loaded AND list_contains($providers, provider)""",
        {"providers": counted["provider"].tolist()}).fetchone()[0]
    assert truth > 500 and abs(hidden - truth) <= 0.10 * truth, (hidden, truth)
    gift = pd.read_csv(directory / "gift-campaigns.csv")
    assert len(gift) and {"buyer_rate_90d_low", "buyer_rate_90d_high"} <= set(gift.columns)
    # "do gift-takers buy?": the month's own campaigns are inside their 90-day windows, so the page
    # answers from the matured ones, with an interval for the gift-takers and for the control
    from dlvstats.metrics import gift as gift_metrics

    matured = gift_metrics.matured_pooled(sim.db_path, "2026-11-01")
    assert len(matured) and matured["buyer_rate_90d"].notna().all()
    for rate in ("buyer_rate_90d", "control_buyer_rate_90d"):
        assert ((matured[f"{rate}_low"] <= matured[rate]) & (matured[rate] <= matured[f"{rate}_high"])
                & (matured[f"{rate}_low"] < matured[f"{rate}_high"])).all(), matured
    assert "gift-takers bought within 90 days (95% " in " ".join(page.split())
