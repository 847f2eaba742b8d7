"""Google Postmaster Tools and Microsoft SNDS imports into a real DuckDB file."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from tests.helpers import write_drop

from dlvstats import cli, db, signals
from dlvstats.ingest import ingest_paths

DATA = Path(__file__).parent / "data" / "signals"


@pytest.fixture
def database(tmp_path):
    drop = write_drop(tmp_path / "drop", {"sends": (
        ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "sending_ip"],
        [["m1", "2026-11-02T10:00:00Z", "acct_a", "l1", "c1", "r1@example.org", "192.0.2.10"]])})
    path = tmp_path / "db.duckdb"
    ingest_paths(path, [drop])
    return path


def _rows(path, sql):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_gpt_sample_loads_and_twice_adds_nothing(database, capsys):
    args = ["signals", "import", "--db", str(database), "--kind", "gpt", str(DATA / "gpt_domainstats_query.json")]
    assert cli.main(args) == 0
    assert "5 rows, 5 new" in capsys.readouterr().out
    rows = _rows(database, "SELECT domain, day, metric, value, value_text FROM gpt_domain_stats ORDER BY day, metric")
    assert rows == [
        ("news.example.com", date(2026, 11, 2), "auth_success_rate_dkim", 0.998, None),
        ("news.example.com", date(2026, 11, 2), "spam_rate", 0.0008, None),
        ("news.example.com", date(2026, 11, 3), "delivery_error_count", 37.0, None),
        ("news.example.com", date(2026, 11, 3), "feedback_loop_id", None, "camp-2026-11,acct_a"),
        ("news.example.com", date(2026, 11, 3), "spam_rate", 0.0041, None),
    ]
    assert cli.main(args) == 0
    assert "5 rows, 0 new" in capsys.readouterr().out
    assert _rows(database, "SELECT count(*) FROM gpt_domain_stats") == [(5,)]


def test_gpt_unknown_metric_refused_with_line_then_mapped(tmp_path, database, capsys):
    text = (DATA / "gpt_domainstats_query.json").read_text().replace('"metric": "spam_rate"', '"metric": "userSpam"', 1)
    path = tmp_path / "q.json"
    path.write_text(text)
    assert cli.main(["signals", "import", "--db", str(database), "--kind", "gpt", str(path)]) == 3
    err = capsys.readouterr().err
    assert f"{path}:3: metric 'userSpam' does not follow" in err and "nothing was loaded" in err
    assert _rows(database, "SELECT count(*) FROM gpt_domain_stats") == [(0,)]  # nothing half-loaded
    assert cli.main(["signals", "import", "--db", str(database), "--kind", "gpt",
                     "--metric-map", "userSpam=spam_rate", str(path)]) == 0
    assert _rows(database, "SELECT source_metric, value FROM gpt_domain_stats WHERE day = '2026-11-02' AND metric = 'spam_rate'") == [("userSpam", 0.0008)]


def test_gpt_bad_rows_each_named(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"domainStats": [\n'
                    '{"name": "domains/a.example/domainStats/1", "metric": "spam_rate", "date": {"year": 2026, "month": 13, "day": 1}, "value": {"doubleValue": 0.1}},\n'
                    '{"name": "domains/a.example/domainStats/2", "metric": "spam_rate", "date": {"year": 2026, "month": 11, "day": 1}, "value": {"doubleValue": 7}},\n'
                    '{"name": "domains/a.example/domainStats/3", "metric": "spam_rate", "date": {"year": 2026, "month": 11, "day": 2}, "value": {}}\n'
                    ']}\n')
    with pytest.raises(signals.SignalsError) as info:
        signals.read_gpt(path)
    assert [(line, p.split(" ")[0]) for _, line, p in info.value.problems] == [(2, "date"), (3, "spam_rate"), (4, "value")]
    broken = tmp_path / "broken.json"
    broken.write_text('{"domainStats": [\n{"metric": }\n]}')
    with pytest.raises(signals.SignalsError, match=r"broken.json:2: not valid JSON"):
        signals.read_gpt(broken)


def test_snds_sample_loads(database, capsys):
    assert cli.main(["signals", "import", "--db", str(database), "--kind", "snds", str(DATA / "snds_ip_data.csv")]) == 0
    rows = _rows(database, "SELECT ip, activity_start, rcpt_commands, filter_result, complaint_rate, complaint_rate_text, "
                           "trap_hits, line FROM snds_ip_days ORDER BY ip, activity_start")
    assert rows == [
        ("192.0.2.10", datetime(2026, 11, 2, 8, 0), 14129, "GREEN", None, "< 0.1%", 0, 1),
        ("192.0.2.10", datetime(2026, 11, 3, 8, 0), 47386, "YELLOW", pytest.approx(0.004), "0.4%", 12, 2),
        ("192.0.2.20", datetime(2026, 11, 3, 8, 0), 9121, "RED", pytest.approx(0.012), "1.2%", 26, 3),
    ]


def test_snds_malformed_rows_refused_naming_file_and_line(tmp_path, database):
    path = tmp_path / "snds.csv"
    shutil.copy(DATA / "snds_ip_data.csv", path)
    with open(path, "a", newline="") as handle:
        handle.write("192.0.2.30,11/3/2026 8:00 AM,11/4/2026 8:00 AM,10,10,10,PURPLE,0.1%,,,0,h,,\r\n")
        handle.write("not-an-ip,11/3/2026 8:00 AM,11/4/2026 8:00 AM,10,10,10,GREEN,0.1%,,,0,h,,\r\n")
        handle.write("192.0.2.10,11/3/2026 8:00 AM,11/4/2026 8:00 AM,1,1,1,GREEN,0.1%,,,0,h,,\r\n")
        handle.write("192.0.2.40,2026-11-03,11/4/2026 8:00 AM,1,1,1,GREEN,0.1%,,,0,h,,\r\n")
    con = db.connect(database)
    with pytest.raises(signals.SignalsError) as info:
        signals.import_file(con, path, "snds")
    problems = [(line, problem.split(" ")[0]) for _, line, problem in info.value.problems]
    assert problems == [(4, "filter"), (5, "IP"), (6, "192.0.2.10"), (7, "a")]
    assert all(f == str(path) for f, _, _ in info.value.problems)
    assert con.execute("SELECT count(*) FROM snds_ip_days").fetchone() == (0,)
    con.close()
