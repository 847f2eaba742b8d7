"""`dlvstats metrics all --out DIR`: one process writes every registered table as
DIR/NAME.csv, and each equals what `dlvstats metrics NAME --out DIR` writes in its own process.

Equal means: the same header, the same rows in the same order, every cell the same text, except
that two numbers may differ in their last digits (relative 1e-9). DuckDB sums doubles in parallel, so
their last digits vary between two one-by-one runs of the same table too (campaign-kinds, measured).
"""

from __future__ import annotations

import csv
import math
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

from dlvstats.cli import main
from dlvstats.metrics import REGISTRY
from dlvstats.privacy import TOKEN_PATTERN

PERIOD = ["--from", "2026-08-01", "--to", "2026-11-01"]


@pytest.fixture(scope="module")
def small_db(tmp_path_factory) -> Path:
    from dlvstats.ingest import ingest_paths
    from dlvstats.simulate import simulate

    out = tmp_path_factory.mktemp("metrics_all")
    simulate(out, seed=11, contacts=1500, months=3, end_month="2026-10", fmt="csv")
    db_path = out / "small.duckdb"
    ingest_paths(db_path, sorted((out / "drops").iterdir()))
    return db_path


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlvstats.cli", *args], capture_output=True, text=True,
                          check=False)


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


_TAG = re.compile(r"\[address hidden #[0-9a-f]{8}\]")


def _same_cell(a: str, b: str) -> bool:
    if _TAG.sub("[address hidden]", a) == _TAG.sub("[address hidden]", b):  # tags: a random key per run
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)


def _first_difference(a: list[list[str]], b: list[list[str]]) -> str | None:
    if len(a) != len(b):
        return f"{len(a)} lines against {len(b)}"
    for i, (ra, rb) in enumerate(zip(a, b)):
        if len(ra) != len(rb):
            return f"line {i + 1}: {len(ra)} cells against {len(rb)}"
        for j, (ca, cb) in enumerate(zip(ra, rb)):
            if not _same_cell(ca, cb):
                return f"line {i + 1}, column {a[0][j]!r}: {ca!r} against {cb!r}"
    return None


@pytest.mark.parametrize("extra", [[], ["--report-timezone", "Europe/Paris", "--account", "FIRST"]],
                         ids=["utc-all-accounts", "paris-one-account"])
def test_every_table_equals_the_one_by_one_call(small_db, tmp_path, extra):
    if "FIRST" in extra:
        with duckdb.connect(str(small_db), read_only=True) as con:
            first = con.execute("SELECT account_id FROM sends GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
        extra = [first if a == "FIRST" else a for a in extra]
    common = ["--db", str(small_db), *PERIOD, *extra]
    together, alone = tmp_path / "all", tmp_path / "alone"
    done = _cli("metrics", "all", *common, "--out", str(together))
    assert done.returncode == 0, done.stderr
    # one progress line per table on stderr, with its time; nothing on stdout
    assert done.stdout == ""
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("[")]
    assert [re.search(r"\] (\S+)", ln).group(1) for ln in lines] == sorted(REGISTRY)
    assert all(re.search(r"\d+\.\d\d s", ln) for ln in lines)
    assert sorted(p.name for p in together.iterdir()) == sorted(f"{n}.csv" for n in REGISTRY)

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda n: _cli("-q", "metrics", n, *common, "--out", str(alone)), sorted(REGISTRY)))
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs if r.returncode]

    non_empty = 0
    for name in sorted(REGISTRY):
        ours, theirs = _rows(together / f"{name}.csv"), _rows(alone / f"{name}.csv")
        assert _first_difference(ours, theirs) is None, f"{name}: {_first_difference(ours, theirs)}"
        non_empty += len(ours) > 1
    # the comparison has something to compare: most tables have rows in this period
    assert non_empty >= len(REGISTRY) // 2, non_empty


def test_the_csv_file_is_the_format_csv_text(small_db, tmp_path):
    """`--out` writes what `--format csv` prints (formula guard included), for a table with text cells."""
    common = ["--db", str(small_db), *PERIOD]
    printed = _cli("-q", "metrics", "gift-grey-list", *common, "--format", "csv")
    written = _cli("-q", "metrics", "gift-grey-list", *common, "--out", str(tmp_path))
    assert printed.returncode == written.returncode == 0, printed.stderr + written.stderr
    assert len(printed.stdout.splitlines()) > 1
    assert _first_difference(list(csv.reader(printed.stdout.splitlines())),
                             _rows(tmp_path / "gift-grey-list.csv")) is None


def test_no_recipient_address_in_any_table(small_db, tmp_path):
    assert main(["-q", "metrics", "all", "--db", str(small_db), *PERIOD, "--out", str(tmp_path)]) == 0
    with duckdb.connect(str(small_db), read_only=True) as con:
        addresses = {r[0] for r in con.execute("SELECT DISTINCT recipient FROM sends").fetchall()}
    assert len(addresses) > 1000
    token = re.compile(TOKEN_PATTERN)
    for path in sorted(tmp_path.glob("*.csv")):
        text = path.read_text(encoding="utf-8")
        assert not token.search(text), f"{path.name}: e-mail-like text {token.search(text).group(0)!r}"
        cells = {cell for row in csv.reader(text.splitlines()) for cell in row}
        assert not cells & addresses, path.name


def test_addresses_in_free_text_are_hidden_as_in_the_report(small_db, tmp_path, monkeypatch):
    """An address quoted in a table's text (a campaign name, a bounce reason) is replaced by a tag in
    the files of `metrics all` and `metrics NAME --out`, one tag per address within a run."""
    import pandas as pd

    from dlvstats import metrics

    real_get = metrics.get
    quoted = pd.DataFrame({"campaign_name": ["Promo for alice@example.org", "=alice@example.org", "plain"],
                           "reason": ["550 bob@example.net unknown", "alice@example.org", None],
                           "sends": [1, 2, 3]})
    monkeypatch.setattr(metrics, "get", lambda name: (lambda *a, **k: quoted.copy()) if name == "campaign-kinds"
                        else real_get(name))
    for args, directory in ((["all"], tmp_path / "all"), (["campaign-kinds"], tmp_path / "one")):
        assert main(["-q", "metrics", *args, "--db", str(small_db), *PERIOD, "--out", str(directory)]) == 0
        text = (directory / "campaign-kinds.csv").read_text(encoding="utf-8")
        assert "@" not in text
        rows = _rows(directory / "campaign-kinds.csv")
        assert rows[0] == ["campaign_name", "reason", "sends"] and [r[2] for r in rows[1:]] == ["1", "2", "3"]
        tags = _TAG.findall(text)
        assert len(tags) == 4 and len(set(tags)) == 2  # alice three times, bob once
        assert rows[1][0].startswith("Promo for [address hidden #") and rows[2][0].startswith("'=[address")
        assert rows[3] == ["plain", "", "3"]


def test_one_database_open_for_every_table(small_db, tmp_path, monkeypatch):
    """The shared session: the file is opened once (every metric gets a cursor on that connection)."""
    from dlvstats import db

    opened = []
    real = db.connect

    def counting(path, **kwargs):
        opened.append(Path(path))
        return real(path, **kwargs)

    monkeypatch.setattr(db, "connect", counting)
    assert main(["-q", "metrics", "all", "--db", str(small_db), *PERIOD, "--out", str(tmp_path)]) == 0
    assert len(list(tmp_path.glob("*.csv"))) == len(REGISTRY)
    assert opened == [small_db]
    opened.clear()
    assert main(["-q", "metrics", "hidden-images", "--db", str(small_db), *PERIOD, "--out", str(tmp_path)]) == 0
    assert len(opened) >= 1  # control: outside `all`, each metric opens the file itself


def test_a_failing_table_is_said_and_leaves_no_stale_file(small_db, tmp_path, monkeypatch, capsys):
    from dlvstats import metrics

    real_get = metrics.get

    def get(name):
        if name == "hidden-images":
            def broken(*args, **kwargs):
                raise RuntimeError("simulated failure")
            return broken
        return real_get(name)

    monkeypatch.setattr(metrics, "get", get)
    (tmp_path / "hidden-images.csv").write_text("old table\n")
    code = main(["metrics", "all", "--db", str(small_db), *PERIOD, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "hidden-images" in err and "FAILED" in err and "simulated failure" in err
    assert not (tmp_path / "hidden-images.csv").exists()
    assert len(list(tmp_path.glob("*.csv"))) == len(REGISTRY) - 1


@pytest.mark.parametrize("args, message", [
    ([], "give --out DIR"),
    (["--out", "OUT", "--option", "by=provider"], "--option is metric-specific"),
    (["--out", "OUT", "--format", "json"], "leave out --format"),
])
def test_usage_errors(small_db, tmp_path, capsys, args, message):
    args = [str(tmp_path / "o") if a == "OUT" else a for a in args]
    assert main(["metrics", "all", "--db", str(small_db), *PERIOD, *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_help_shows_all_with_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["metrics", "--help"])
    out = capsys.readouterr().out
    assert "metrics all --db" in out and "--out" in out
