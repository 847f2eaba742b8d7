"""What a database holds: row counts, coverage, orphans, rejects, schema version, loads.

Read-only; used by ``dlvstats info`` and the data-overview notebook.
"""

from __future__ import annotations

import json
from pathlib import Path

from dlvstats import db, drift


def database_info(db_path: str | Path) -> dict:
    con = db.connect(db_path, read_only=True)
    try:
        db.require_dlvstats_db(con, db_path)
        coverage = db.query_df(con, "relations/coverage")
        orphans = db.query_df(con, "checks/orphans")
        rejects = db.query_df(con, "relations/rejects_summary")
        drops = con.execute("SELECT drop_id, loaded_at, input_format, timezone, paths FROM drops ORDER BY drop_id").fetchall()
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        drift_alarms = drift.alarms(con)
    finally:
        con.close()
    return {
        "database": str(db_path),
        "schema_version": int(meta.get("schema_version", 0)),
        "recipient_mode": meta.get("recipient_mode", "plain"),
        "classification_rules": json.loads(meta["classification_rules"]).get("name") if "classification_rules" in meta else None,
        "coverage": coverage.to_dict("records"),
        "orphans": orphans.to_dict("records"),
        "rejects": rejects.to_dict("records"),
        "drift_alarms": drift_alarms,
        "drops": [
            {"drop_id": d, "loaded_at": str(at), "format": f, "timezone": tz, "paths": json.loads(p)}
            for d, at, f, tz, p in drops
        ],
    }


def format_info(report: dict) -> str:
    lines = [
        f"database        {report['database']}",
        f"schema version  {report['schema_version']}",
        f"recipients      {report['recipient_mode']}",
        f"classification  {report['classification_rules']}",
        f"loads           {len(report['drops'])}",
        "",
        f"{'table':<14}{'rows':>14}  {'first (UTC)':<20} {'last (UTC)':<20}",
    ]
    for row in report["coverage"]:
        first = "" if row["first_at"] is None or str(row["first_at"]) == "NaT" else str(row["first_at"])[:19]
        last = "" if row["last_at"] is None or str(row["last_at"]) == "NaT" else str(row["last_at"])[:19]
        lines.append(f"{row['kind']:<14}{row['row_count']:>14,}  {first:<20} {last:<20}")
    lines.append("")
    lines.append("orphans (events whose message_id has no send; kept, not dropped):")
    for row in report["orphans"]:
        lines.append(f"  {row['kind']:<12}{row['orphan_count']:>12,} rows  {row['orphan_messages']:>10,} messages")
    lines.append("")
    if report["rejects"]:
        lines.append("rejects (see the `rejects` table for each row's reason and raw text):")
        for row in report["rejects"]:
            lines.append(
                f"  drop {row['drop_id']} {row['kind']:<12}{row['row_count']:>8,}  {row['file']} "
                f"(first at line {row['first_line']}): {row['reason']}"
            )
    else:
        lines.append("rejects: none")
    lines.append("")
    lines.append("classification drift (dlvstats.drift; docs/classification.md):")
    lines += [f"  ! {a}" for a in report["drift_alarms"]] or ["  none"]
    return "\n".join(lines)
