"""How a report run hands its inputs down without environment variables: the notebooks' papermill
parameters (the shared metric tables, the memory cap), the metric cache and DuckDB's cap in this
process, and the SMTP settings read once by ``config.Settings`` (the sender a function argument)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dlvstats import db
from dlvstats.config import Settings
from dlvstats.mail import MailConfigError, SmtpSettings
from dlvstats.metrics import cache
from dlvstats.report.run import Build, ReportOptions, notebook_values


def build_for(tmp_path: Path, **options) -> Build:
    opts = ReportOptions(db_path=tmp_path / "x.duckdb", out_dir=tmp_path, month="2026-10", **options)
    return Build(opts, "2026-10", opts.db_path, [], tmp_path / "build", tmp_path / "2026-10", True, None, "", print)


def test_notebook_parameters_carry_the_cache_and_the_memory_cap(tmp_path):
    values = notebook_values(build_for(tmp_path), "/scratch/run")
    assert values["metric_cache"] == "/scratch/run"
    assert "memory_limit" not in values and "locale" not in values  # English, no cap: nothing extra recorded
    values = notebook_values(build_for(tmp_path, memory_limit="2GB", locale="fr"), "/scratch/run")
    assert values["memory_limit"] == "2GB" and values["locale"] == "fr"
    assert values["date_from"] == "2026-10-01" and values["date_to"] == "2026-11-01"


def test_the_shared_cache_is_used_only_while_configured(tmp_path):
    database = tmp_path / "x.duckdb"
    database.write_bytes(b"")
    calls = []

    @cache.shared
    def metric(db_path, date_from, date_to, account_id=None):
        calls.append(1)
        return pd.DataFrame({"n": [len(calls)]})

    with cache.configured(str(tmp_path / "shared")):
        (tmp_path / "shared").mkdir()
        first = metric(database, "2026-10-01", "2026-11-01")
        second = metric(database, "2026-10-01", "2026-11-01")
    assert len(calls) == 1 and first.equals(second) and any((tmp_path / "shared").glob("metric-*.pkl"))
    metric(database, "2026-10-01", "2026-11-01")  # not configured any more: computed again
    assert len(calls) == 2


def test_memory_cap_applies_to_this_process_connections_and_is_restored(tmp_path):
    path = tmp_path / "m.duckdb"
    db.connect(path).close()
    with cache.configured(None, "123MB"):
        con = db.connect(path, read_only=True)
        try:
            setting = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        finally:
            con.close()
    assert setting.startswith("117") and "MiB" in setting  # 123 MB = 117.3 MiB
    assert db.memory_limit_override() is None


def test_smtp_settings_come_from_config_and_the_sender_is_an_argument():
    env = {"DLVSTATS_SMTP_HOST": " smtp.example.com ", "DLVSTATS_MAIL_FROM": "reports@example.com",
           "DLVSTATS_SMTP_USER": "u", "DLVSTATS_SMTP_PASSWORD": "s3cret pass"}
    settings = Settings.from_env(env)
    assert settings.smtp_host == "smtp.example.com" and settings.smtp_password == "s3cret pass"
    assert "s3cret" not in repr(settings)
    smtp = SmtpSettings.from_settings(settings, mail_from="Other <other@example.org>")
    assert smtp.mail_from == "Other <other@example.org>" and smtp.port == 587 and smtp.security == "starttls"
    assert SmtpSettings.from_settings(settings).mail_from == "reports@example.com"
    with pytest.raises(MailConfigError, match="DLVSTATS_MAIL_FROM"):
        SmtpSettings.from_settings(Settings.from_env({"DLVSTATS_SMTP_HOST": "smtp.example.com"}))


def test_disallowed_markup_shows_as_text_and_nothing_runs():
    """The escape-not-strip contract on the markup a tokenizer finds awkward: a tag inside a tag, an
    unclosed script, a tag never closed, an event handler on an allowed tag, a javascript: link."""
    from dlvstats.report.sanitize import sanitize_html

    assert sanitize_html("<<script>>") == "&lt;&lt;script&gt;&gt;"
    assert sanitize_html("a <script>alert(1)") == "a &lt;script&gt;alert(1)"
    assert sanitize_html("<img src=x onerror=alert(1)") == "&lt;img src=x onerror=alert(1)"
    assert sanitize_html('<iframe src="x"></iframe>') == '&lt;iframe src="x"&gt;&lt;/iframe&gt;'
    assert sanitize_html('<b onclick="alert(1)">b</b><a href="javascript:alert(1)">l</a>') == "<b>b</b><a>l</a>"
    cell = sanitize_html('<table><tbody><tr><td colspan="2" style="x">c</td></tr></tbody></table>')
    assert cell == '<table><tbody><tr><td colspan="2">c</td></tr></tbody></table>'
    assert sanitize_html("<!-- hidden --><p>1 &lt; 2</p>") == "<p>1 &lt; 2</p>"
