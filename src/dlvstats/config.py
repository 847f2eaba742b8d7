"""Settings and paths: the only module that reads ``DLVSTATS_*`` environment variables.

One ``Settings`` object holds every setting. It is read from the environment once per process
(``settings()``); the ``dlvstats`` command builds its own from the environment plus its options
(``--memory-limit``) and makes it the process's for the run (``using``), so the data flow is
visible in the import graph: nothing is handed between modules through ``os.environ``. Code that
opens connections deep down (metrics, ingest) asks ``settings()``; code that is given a
``Settings`` uses that one. Tests build one with ``Settings.from_env({...})`` or
``settings().replace(...)`` instead of changing the environment.

Adding a setting: a field on ``Settings`` (with a default) and a line in ``Settings.from_env``.

It must not import anything heavy (the CLI imports it at start-up).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
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


class SettingsError(ValueError):
    """A ``DLVSTATS_*`` variable holds a value that cannot be used (the message names it)."""


def _number(env: Mapping[str, str], name: str, default: float | None, kind=float):
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return kind(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number; unset it or give e.g. "
                            f"{name}={kind(default or 2)}") from None


@dataclass(frozen=True)
class Settings:
    """Every ``DLVSTATS_*`` setting, typed. Frozen: derive a changed copy with ``replace``."""

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
    # SMTP for the report's and watch's e-mails, as given (stripped; empty = unset): dlvstats.mail's
    # ``SmtpSettings.from_settings`` checks them and names the variable of a bad one.
    smtp_host: str | None = None  # DLVSTATS_SMTP_HOST
    smtp_port: str | None = None  # DLVSTATS_SMTP_PORT (default by security: 587, 465 or 25)
    smtp_security: str | None = None  # DLVSTATS_SMTP_SECURITY: starttls (default), ssl or none
    smtp_user: str | None = None  # DLVSTATS_SMTP_USER
    #: DLVSTATS_SMTP_PASSWORD, verbatim (spaces can be part of it); never in repr
    smtp_password: str | None = field(default=None, repr=False)
    smtp_verify: str | None = None  # DLVSTATS_SMTP_VERIFY (0 turns certificate verification off)
    smtp_ca_file: str | None = None  # DLVSTATS_SMTP_CA_FILE: an extra CA bundle to trust
    mail_from: str | None = None  # DLVSTATS_MAIL_FROM: the e-mails' sender
    #: Spark master of a new local session of the Spark engine (DLVSTATS_SPARK_MASTER)
    spark_master: str = "local[2]"
    #: crash-safety test hook (see ``pause_point``): stages to pause at, and for how long
    test_pause_at: tuple[str, ...] = ()
    test_pause_seconds: float = 3600.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``environ`` (default: this process's environment)."""
        env = os.environ if environ is None else environ
        root = project_root()
        data_dir = Path(env.get("DLVSTATS_DATA_DIR", root / "data"))
        return cls(
            db_path=Path(env.get("DLVSTATS_DB", data_dir / "dlvstats.duckdb")),
            memory_limit=env.get("DLVSTATS_MEMORY_LIMIT") or None,
            threads=_number(env, "DLVSTATS_THREADS", None, int),
            lock_timeout_seconds=_number(env, "DLVSTATS_LOCK_TIMEOUT", 60.0),
            pseudonym_key=env.get("DLVSTATS_PSEUDONYM_KEY") or None,
            reports_dir=Path(env.get("DLVSTATS_REPORTS_DIR", root / "reports")),
            data_dir=data_dir,
            report_timezone=env.get("DLVSTATS_REPORT_TIMEZONE") or "UTC",
            report_locale=env.get("DLVSTATS_REPORT_LOCALE") or "en",
            smtp_host=_stripped(env, "DLVSTATS_SMTP_HOST"),
            smtp_port=_stripped(env, "DLVSTATS_SMTP_PORT"),
            smtp_security=_stripped(env, "DLVSTATS_SMTP_SECURITY"),
            smtp_user=_stripped(env, "DLVSTATS_SMTP_USER"),
            smtp_password=env.get("DLVSTATS_SMTP_PASSWORD") or None,
            smtp_verify=_stripped(env, "DLVSTATS_SMTP_VERIFY"),
            smtp_ca_file=_stripped(env, "DLVSTATS_SMTP_CA_FILE"),
            mail_from=_stripped(env, "DLVSTATS_MAIL_FROM"),
            spark_master=env.get("DLVSTATS_SPARK_MASTER") or "local[2]",
            test_pause_at=tuple(s for s in (env.get("DLVSTATS_TEST_PAUSE_AT") or "").split(",") if s),
            test_pause_seconds=_number(env, "DLVSTATS_TEST_PAUSE_SECONDS", 3600.0),
        )

    def replace(self, **changes) -> Settings:
        """A copy with some fields changed, e.g. ``settings().replace(memory_limit="2GB")``."""
        return dataclasses.replace(self, **changes)


@cache
def _from_process_environment() -> Settings:
    return Settings.from_env()


#: the Settings a caller made the process's for a block (``using``), else None. A module global, not a
#: context variable: threads a command starts (the report's summary beside its notebooks) see it too.
_active: Settings | None = None


def _stripped(env, name: str) -> str | None:
    """A variable's value without surrounding blanks; unset or blank is None."""
    value = env.get(name)
    return (value.strip() or None) if value is not None else None


def settings() -> Settings:
    """This process's settings: those given to ``using`` for the current block, else the
    environment's, read once on first use and never again."""
    return _active or _from_process_environment()


def forget_environment() -> None:
    """Forget the environment read by ``settings()``, so the next call reads it again: what a new
    process would see. For the test suite (each test is a fresh run of a command whose environment
    it sets); no command calls it."""
    _from_process_environment.cache_clear()


@contextmanager
def using(active: Settings) -> Iterator[Settings]:
    """Make ``active`` the settings ``settings()`` returns, in every thread, inside the block (the
    CLI's run, a test); the previous ones come back after it."""
    global _active
    previous, _active = _active, active
    try:
        yield active
    finally:
        _active = previous


def pause_point(stage: str) -> None:
    """Test hook for the crash-safety tests: with ``DLVSTATS_TEST_PAUSE_AT=<stage>[,<stage>...]``
    the process announces ``DLVSTATS-PAUSED-AT <stage>`` on stderr and sleeps there
    (``DLVSTATS_TEST_PAUSE_SECONDS``, default 3600), so a test can SIGKILL it at a precise point.
    Does nothing otherwise. Stages of an ingest: staged, converted, merged, committing, committed."""
    current = settings()
    if stage not in current.test_pause_at:
        return
    import sys
    import time

    print(f"DLVSTATS-PAUSED-AT {stage} pid={os.getpid()}", file=sys.stderr, flush=True)
    time.sleep(current.test_pause_seconds)
