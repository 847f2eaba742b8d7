"""Networks as data: the address ranges of clouds, security gateways, Apple's egress and the image
proxies, loaded into DuckDB and matched there (sql/networks/*.sql, no Python loop over events).

The shipped snapshot is ``dlvstats/data/networks/networks.csv`` (columns ``cidr, network, kind,
source, snapshot_date``; its origins in ``data/networks/SOURCES.md``). ``load`` stores it, plus any
user files in the same format, in the table ``networks`` of a database; classification reads that
table (or the shipped snapshot when a database has none). ``update`` rebuilds the snapshot from the
published lists (``PUBLISHED``) when the machine has internet; ``parse`` turns one list into CIDRs
and is what the tests exercise on local files.

Must not know input formats, reports or notebooks.
"""

from __future__ import annotations

import csv
import ipaddress
import json
import urllib.request
from datetime import date
from pathlib import Path

from dlvstats import db
from dlvstats.config import SQL_DIR

NETWORKS_DIR = SQL_DIR.parent / "data" / "networks"
SNAPSHOT = NETWORKS_DIR / "networks.csv"
#: Hand-entered ranges (gateways, image proxies) that have no machine-readable published list.
CURATED = NETWORKS_DIR / "curated.csv"
COLUMNS = ("cidr", "network", "kind", "source", "snapshot_date")
KINDS = ("cloud", "gateway", "apple_egress", "image_proxy", "cdn")

#: network -> (kind, format, URL) of each machine-readable published list.
PUBLISHED = {
    "amazon": ("cloud", "aws", "https://ip-ranges.amazonaws.com/ip-ranges.json"),
    "google_cloud": ("cloud", "gcp", "https://www.gstatic.com/ipranges/cloud.json"),
    "microsoft_azure": ("cloud", "azure",
                        "https://www.microsoft.com/en-us/download/details.aspx?id=56519 (ServiceTags_Public)"),
    "oracle": ("cloud", "oracle", "https://docs.oracle.com/en-us/iaas/tools/public_ip_ranges.json"),
    "cloudflare": ("cdn", "lines", "https://www.cloudflare.com/ips-v4"),
    "apple_private_relay": ("apple_egress", "relay_csv", "https://mask-api.icloud.com/egress-ip-ranges.csv"),
}


class NetworksError(ValueError):
    """A networks file that cannot be used; the message names the file, line and problem."""


def parse(fmt: str, text: str) -> list[str]:
    """The IPv4 CIDRs of one published list, in its own format (``PUBLISHED``'s second field)."""
    if fmt == "aws":
        cidrs = [p["ip_prefix"] for p in json.loads(text)["prefixes"]]
    elif fmt == "gcp":
        cidrs = [p["ipv4Prefix"] for p in json.loads(text)["prefixes"] if "ipv4Prefix" in p]
    elif fmt == "azure":
        values = json.loads(text)["values"]
        cidrs = [c for v in values if v["name"] == "AzureCloud" for c in v["properties"]["addressPrefixes"]]
    elif fmt == "oracle":
        cidrs = [c["cidr"] for r in json.loads(text)["regions"] for c in r["cidrs"]]
    elif fmt in ("lines", "relay_csv"):  # one CIDR a line (Apple's CSV: cidr,country,region,city,)
        cidrs = [line.split(",")[0].strip() for line in text.splitlines() if line.strip()]
    else:
        raise NetworksError(f"unknown list format {fmt!r}; known: aws, gcp, azure, oracle, lines, relay_csv")
    return [c for c in cidrs if ":" not in c]


def aggregate(cidrs: list[str]) -> list[str]:
    """Merge adjacent and nested IPv4 prefixes, to keep the snapshot small."""
    nets = [ipaddress.ip_network(c, strict=False) for c in cidrs]
    return [str(n) for n in ipaddress.collapse_addresses(nets)]


def snapshot_rows(network: str, kind: str, source: str, cidrs: list[str], day: str) -> list[dict]:
    return [{"cidr": c, "network": network, "kind": kind, "source": source, "snapshot_date": day}
            for c in aggregate(cidrs)]


def write_snapshot(rows: list[dict], path: Path = SNAPSHOT) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def update(path: Path = SNAPSHOT, timeout: float = 60.0, *, azure_file: Path | None = None,
           urls: dict[str, str] | None = None) -> list[tuple[str, int, str]]:
    """Download every published list and rebuild the snapshot at ``path``.

    Azure's service tags have no stable URL (the file name changes weekly): pass the downloaded
    ``ServiceTags_Public_*.json`` as ``azure_file``; without it the Azure rows of the current
    snapshot are kept (and reported as kept, with their old date). ``urls`` overrides a list's URL
    (the tests serve the fixtures on loopback). Needs internet; on any failure nothing is written.
    Returns (network, prefixes, "downloaded"|"from file"|"kept from <date>") per list.
    """
    day = date.today().isoformat()
    urls = {**{n: u for n, (_, _, u) in PUBLISHED.items()}, **(urls or {})}
    old = list(csv.DictReader(path.open())) if path.exists() else []
    rows: list[dict] = []
    counts = []
    for network, (kind, fmt, _) in PUBLISHED.items():
        url = urls[network]
        if fmt == "azure" and azure_file is None:
            kept = [r for r in old if r["network"] == network]
            rows += kept
            counts.append((network, len(kept), f"kept from {kept[0]['snapshot_date'] if kept else '-'}"))
            continue
        try:
            if fmt == "azure":
                text, how = Path(azure_file).read_text(), "from file"
            else:
                with urllib.request.urlopen(url, timeout=timeout) as resp:
                    text, how = resp.read().decode(), "downloaded"
            cidrs = parse(fmt, text)
        except (OSError, ValueError, KeyError) as exc:
            where = azure_file if fmt == "azure" else url
            raise NetworksError(f"{network}: could not read {where}: {exc}; nothing was written "
                                "(the snapshot in use is unchanged)") from exc
        part = snapshot_rows(network, kind, url if fmt != "azure" else PUBLISHED[network][2], cidrs, day)
        counts.append((network, len(part), how))
        rows += part
    write_snapshot(rows, path)
    return counts


def load(con, extra_files: tuple[Path, ...] = (), *, temporary: bool = False) -> int:
    """Load the snapshot (+ user files) into temp ``__networks`` and, unless ``temporary``, store it
    as the database's table ``networks``.

    Every file is checked first (clear error naming file and line; nothing is stored on error).
    Returns the number of prefixes loaded.
    """
    files = [SNAPSHOT, CURATED, *extra_files]
    for f in files:
        check_file(Path(f))
    db.run(con, "networks/macros")
    db.run(con, "networks/load", files=[str(f) for f in files])
    if not temporary:
        db.run(con, "networks/store")
    return con.execute("SELECT count(DISTINCT (file, cidr)) FROM __networks").fetchone()[0]


def check_file(path: Path) -> None:
    """Raise NetworksError naming the line of the first unusable row of a networks CSV."""
    if not path.exists():
        raise NetworksError(f"{path}: no such file (a networks file has columns {', '.join(COLUMNS)})")
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("cidr", "network", "kind") if c not in (reader.fieldnames or [])]
        if missing:
            raise NetworksError(f"{path}, line 1: missing column(s) {', '.join(missing)}; "
                                f"expected {', '.join(COLUMNS)}")
        for line, row in enumerate(reader, start=2):
            try:
                net = ipaddress.ip_network(row["cidr"].strip(), strict=True)
            except ValueError as exc:
                raise NetworksError(f"{path}, line {line}: {row['cidr']!r} is not a CIDR ({exc})") from None
            if net.version != 4:
                raise NetworksError(f"{path}, line {line}: {row['cidr']!r}: only IPv4 ranges are matched")
            if row["kind"] not in KINDS:
                raise NetworksError(f"{path}, line {line}: kind {row['kind']!r} is not one of {', '.join(KINDS)}")
            if not (row["network"] or "").strip():
                raise NetworksError(f"{path}, line {line}: empty network name")


def ensure(con) -> None:
    """Make temp ``__networks`` (what classification matches against): the stored ``networks`` if
    the database has one, else the shipped snapshot (so this works on a read-only connection)."""
    db.run(con, "networks/macros")
    stored = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'networks' "
                         "AND NOT temporary").fetchone()[0]
    if stored:
        db.run(con, "networks/use_stored")
    else:
        load(con, temporary=True)


def info(con=None) -> list[tuple]:
    """(network, kind, prefixes, addresses, snapshot_date, age_days, source) of what is loaded."""
    import duckdb

    own = con is None
    con = con or duckdb.connect()
    try:
        ensure(con)
        return db.run(con, "networks/info").fetchall()
    finally:
        if own:
            con.close()
