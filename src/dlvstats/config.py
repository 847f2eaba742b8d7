"""Settings and paths: the only module that reads ``DLVSTATS_*`` environment variables.

Every other module asks this one for a path or a setting, so a deployment changes behaviour in one
place. It must not import anything heavy (the CLI imports it at start-up).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SQL_DIR = PACKAGE_DIR / "sql"
PACKAGE_DATA_DIR = PACKAGE_DIR / "data"
PACKAGED_NOTEBOOKS_DIR = PACKAGE_DIR / "notebooks"

#: Gmail's published target and penalty lines for the user-reported spam rate (and Yahoo's 0.3%).
COMPLAINT_RATE_TARGET = 0.001
COMPLAINT_RATE_CRITICAL = 0.003

#: Cells with fewer delivered messages than this are flagged as small in every metric table.
MIN_CELL_DELIVERED = 1000


def project_root() -> Path:
    """The checkout's root when running from one (it has pyproject.toml), else the working directory."""
    here = PACKAGE_DIR
    for parent in [here, *here.parents]:
        if (parent / "pyproject.toml").exists() and (parent / "src" / "dlvstats").exists():
            return parent
    return Path.cwd()


@dataclass(frozen=True)
class Settings:
    db_path: Path
    memory_limit: str | None
    threads: int | None
    lock_timeout_seconds: float
    pseudonym_key: str | None
    reports_dir: Path
    data_dir: Path
    #: IANA zone in which metrics, notebooks and the report cut days and months (default UTC)
    report_timezone: str = "UTC"
    #: language of the report page and e-mail: en (default) or fr
    report_locale: str = "en"
    #: the master of a new Spark session (the Spark engine; default local[2]): yarn, spark://..., local[8]
    spark_master: str = "local[2]"

    @classmethod
    def from_env(cls, environ: os._Environ | dict | None = None) -> Settings:
        env = os.environ if environ is None else environ
        root = project_root()
        data_dir = Path(env.get("DLVSTATS_DATA_DIR", root / "data"))
        return cls(
            db_path=Path(env.get("DLVSTATS_DB", data_dir / "dlvstats.duckdb")),
            memory_limit=env.get("DLVSTATS_MEMORY_LIMIT") or None,
            threads=int(env["DLVSTATS_THREADS"]) if env.get("DLVSTATS_THREADS") else None,
            lock_timeout_seconds=float(env.get("DLVSTATS_LOCK_TIMEOUT", "60")),
            pseudonym_key=env.get("DLVSTATS_PSEUDONYM_KEY") or None,
            reports_dir=Path(env.get("DLVSTATS_REPORTS_DIR", root / "reports")),
            data_dir=data_dir,
            report_timezone=env.get("DLVSTATS_REPORT_TIMEZONE") or "UTC",
            report_locale=env.get("DLVSTATS_REPORT_LOCALE") or "en",
            spark_master=env.get("DLVSTATS_SPARK_MASTER") or "local[2]",
        )


def settings() -> Settings:
    return Settings.from_env()


def pause_point(stage: str) -> None:
    """Test hook for the crash-safety tests: with ``DLVSTATS_TEST_PAUSE_AT=<stage>[,<stage>...]``
    the process announces ``DLVSTATS-PAUSED-AT <stage>`` on stderr and sleeps there
    (``DLVSTATS_TEST_PAUSE_SECONDS``, default 3600), so a test can SIGKILL it at a precise point.
    Does nothing otherwise. Stages of an ingest: staged, converted, merged, committing, committed."""
    wanted = os.environ.get("DLVSTATS_TEST_PAUSE_AT")
    if not wanted or stage not in wanted.split(","):
        return
    import sys
    import time

    print(f"DLVSTATS-PAUSED-AT {stage} pid={os.getpid()}", file=sys.stderr, flush=True)
    time.sleep(float(os.environ.get("DLVSTATS_TEST_PAUSE_SECONDS", "3600")))
