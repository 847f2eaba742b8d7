"""Cost of `--map` against a canonical CSV: the same N sends, once as a canonical ISO file and once
as a French export (own headers, ';', dd/mm/yyyy times, status words renamed by the mapping).

    .venv/bin/python benchmarks/bench_map.py --rows 200000

Prints the ingest time of each (classification off: only the reading and loading differ).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb

from dlvstats.ingest import ingest_paths
from dlvstats.ingest.canonical import ReadOptions
from dlvstats.ingest.mapping import load_mapping, with_read_options

MAPPING = """kind = "sends"
[columns]
"Identifiant" = "message_id"
"Date d'envoi" = "sent_at"
"Campagne" = "campaign_id"
"Adresse e-mail" = "recipient"
"Statut" = "status"
[values.status]
"Différé" = "deferred"
"Délivré" = "delivered"
[constants]
account_id = "acme"
list_id = "news"
[read]
date_format = "%d/%m/%Y %H:%M:%S"
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    n = parser.parse_args().rows
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "canon").mkdir()
        con = duckdb.connect()
        base = f"FROM range({n}) AS t(i)"
        con.execute(f"COPY (SELECT 'm' || i AS message_id, TIMESTAMP '2026-10-01' + to_seconds(i) AS sent_at, "
                    f"'acme' AS account_id, 'news' AS list_id, 'c' || (i % 10) AS campaign_id, "
                    f"'u' || i || '@example.com' AS recipient, CASE WHEN i % 20 = 0 THEN 'deferred' ELSE 'delivered' END "
                    f"AS status {base}) TO '{root / 'canon' / 'sends.csv'}' (HEADER)")
        con.execute(f"COPY (SELECT 'm' || i AS \"Identifiant\", strftime(TIMESTAMP '2026-10-01' + to_seconds(i), "
                    f"'%d/%m/%Y %H:%M:%S') AS \"Date d'envoi\", 'c' || (i % 10) AS \"Campagne\", "
                    f"'u' || i || '@example.com' AS \"Adresse e-mail\", CASE WHEN i % 20 = 0 THEN 'Différé' "
                    f"ELSE 'Délivré' END AS \"Statut\" {base}) TO '{root / 'export.csv'}' (HEADER, DELIMITER ';')")
        con.close()
        (root / "m.toml").write_text(MAPPING, encoding="utf-8")
        runs = [("canonical", root / "canon", ReadOptions()),
                ("--map", root / "export.csv", with_read_options(load_mapping(root / "m.toml"), ReadOptions()))]
        for name, path, options in runs:
            began = time.perf_counter()
            summary = ingest_paths(root / f"{name.strip('-')}.duckdb", [path], read_options=options, classify=False)
            print(f"{name:<10} {n:>10,} rows  {time.perf_counter() - began:6.2f} s  "
                  f"loaded {summary.counts['sends'].loaded:,}")


if __name__ == "__main__":
    main()
