"""Networks as data: `dlvstats networks update|load|info` on the fixtures of tests/data/networks,
served by a real HTTP server on loopback (no internet)."""

from __future__ import annotations

import csv
import functools
import http.server
import shutil
import threading
from pathlib import Path

import duckdb
import pytest

from dlvstats import networks

FIX = Path(__file__).parent / "data" / "networks"


@pytest.fixture()
def served(tmp_path):
    root = tmp_path / "www"
    shutil.copytree(FIX, root)
    (root / "cloudflare.txt").write_text("173.245.48.0/20\n103.21.244.0/22\n2400:cb00::/32\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    yield {"amazon": f"{base}/aws.json", "google_cloud": f"{base}/gcp.json",
           "oracle": f"{base}/oracle.json", "cloudflare": f"{base}/cloudflare.txt",
           "apple_private_relay": f"{base}/relay.csv"}
    srv.shutdown()


def _rows(path):
    return list(csv.DictReader(path.open()))


def test_update_rebuilds_snapshot_from_published_lists(served, tmp_path):
    out = tmp_path / "networks.csv"
    shutil.copy(networks.SNAPSHOT, out)
    old_azure = [r for r in _rows(out) if r["network"] == "microsoft_azure"]
    counts = {n: (k, how) for n, k, how in networks.update(out, urls=served, timeout=10)}
    rows = _rows(out)
    # every list downloaded, IPv6 dropped, Azure kept (no stable URL) and said so
    assert counts["cloudflare"] == (2, "downloaded")
    assert counts["microsoft_azure"][1].startswith("kept from ")
    assert [r for r in rows if r["network"] == "microsoft_azure"] == old_azure
    assert all(":" not in r["cidr"] for r in rows)
    relay = {r["cidr"] for r in rows if r["network"] == "apple_private_relay"}
    assert "172.224.226.0/26" in relay  # two adjacent /27 aggregated
    assert {r["source"] for r in rows if r["network"] == "amazon"} == {served["amazon"]}


def test_update_with_azure_file_and_failure_writes_nothing(served, tmp_path):
    out = tmp_path / "networks.csv"
    shutil.copy(networks.SNAPSHOT, out)
    counts = {n: how for n, _, how in networks.update(out, urls=served, azure_file=FIX / "azure.json")}
    assert counts["microsoft_azure"] == "from file"
    before = out.read_bytes()
    broken = {**served, "oracle": served["oracle"].replace("oracle.json", "missing.json")}
    with pytest.raises(networks.NetworksError, match="oracle: could not read .*nothing was written"):
        networks.update(out, urls=broken, timeout=10)
    assert out.read_bytes() == before


def test_load_user_ranges_and_bad_line(tmp_path):
    con = duckdb.connect(str(tmp_path / "x.duckdb"))
    mine = tmp_path / "mine.csv"
    mine.write_text("cidr,network,kind,source,snapshot_date\n198.51.100.0/24,acme_gateway,gateway,IT,2026-12-01\n")
    n = networks.load(con, (mine,))
    assert n > 1000
    hit = con.execute("SELECT count(*) FROM networks WHERE network = 'acme_gateway'").fetchone()[0]
    assert hit == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("cidr,network,kind\n10.0.0.0/8,a,cloud\n10.0.0.1/8,b,cloud\n")
    with pytest.raises(networks.NetworksError, match=r"bad.csv, line 3: '10.0.0.1/8' is not a CIDR"):
        networks.load(con, (bad,))
    # nothing half-stored: the earlier table is intact
    assert con.execute("SELECT count(*) FROM networks WHERE network = 'acme_gateway'").fetchone()[0] == 1


def test_info_reports_age(capsys):
    from dlvstats.cli import main

    assert main(["networks", "info"]) == 0
    out = capsys.readouterr().out
    assert "age (days)" in out and "amazon" in out and "apple_private_relay" in out
