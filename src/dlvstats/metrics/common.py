"""Shared pieces of every metric: read-only connections, periods, rates with intervals.

Intervals respect repeated messages to the same person. Each metric's SQL aggregates first per
recipient (y_i events of interest among n_i messages) and returns, for a rate named ``R``, the
sums ``R__num`` = Σy_i, ``R__den`` = Σn_i, ``R__y2`` = Σy_i², ``R__yn`` = Σy_i·n_i, ``R__n2`` = Σn_i²
and ``R__k`` = number of recipients. ``finish_rates`` turns them into ``R``, ``R_low``, ``R_high``:
a Wilson score interval whose sample size is the effective size under the cluster-robust
(linearised ratio-estimator) variance, so that a person mailed 40 times counts less than 40
independent people. When every recipient has one message it is the plain Wilson interval.
Only small, already-aggregated tables pass through pandas here.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import numpy as np
import pandas as pd

from dlvstats import db, lake
from dlvstats.config import MIN_CELL_DELIVERED

Z95 = 1.959963984540054
log = logging.getLogger(__name__)


def zone(name: str | None) -> ZoneInfo:
    """The reporting time zone ``name`` (IANA: UTC, Europe/Paris...); a clear error otherwise."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{name!r} is not a time zone name (e.g. UTC, Europe/Paris, America/Martinique)") from exc


def utc_instant(day, tz: str | None = "UTC") -> datetime:
    """The UTC instant (naive, as stored) at which the wall-clock time ``day`` (a date, a naive
    datetime or an ISO string) happens in ``tz``: the edge of a day or month in the reporting zone."""
    local = _to_datetime(day)
    return local.replace(tzinfo=zone(tz)).astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Period:
    """A half-open period [start, end) in UTC instants; a message belongs to the period of its
    sent_at. Days and months are cut in the reporting time zone by building the period with
    ``timezone`` (Europe/Paris: November 2026 is [2026-10-31 23:00, 2026-11-30 23:00) UTC), or by
    passing bounds that carry an offset (``2026-11-01T00:00:00+01:00``)."""

    start: datetime
    end: datetime

    @classmethod
    def parse(cls, date_from, date_to, timezone: str | None = "UTC") -> Period:
        start, end = utc_instant(date_from, timezone), utc_instant(date_to, timezone)
        if end <= start:
            raise ValueError(f"--to ({end:%Y-%m-%d}) must be after --from ({start:%Y-%m-%d}); --to is exclusive")
        return cls(start, end)

    @classmethod
    def month(cls, month: str, timezone: str | None = "UTC") -> Period:
        year, mon = (int(x) for x in month.split("-"))
        end = datetime(year + (mon == 12), mon % 12 + 1, 1)
        return cls(utc_instant(datetime(year, mon, 1), timezone), utc_instant(end, timezone))

    @classmethod
    def trailing(cls, date_to, months: int, timezone: str | None = "UTC") -> Period:
        """The ``months`` calendar months before ``date_to`` (a UTC instant, or a string with an
        offset), the months cut in ``timezone`` (DST included: Paris's 1 September is 22:00 UTC)."""
        if months < 1:
            raise ValueError(f"window_months={months}: give at least 1 month")
        end = pd.Timestamp(cls.parse("2000-01-01", date_to).end).tz_localize("UTC")
        start = end.tz_convert(zone(timezone)) - pd.DateOffset(months=months)
        return cls(start.tz_convert("UTC").tz_localize(None).to_pydatetime(), end.tz_localize(None).to_pydatetime())

    def local_days(self, timezone: str | None = "UTC") -> tuple[str, str]:
        """The bounds as local days in ``timezone``: ('2026-08-01', '2026-11-01')."""
        return tuple(f"{pd.Timestamp(t).tz_localize('UTC').tz_convert(zone(timezone)):%Y-%m-%d}"
                     for t in (self.start, self.end))

    def params(self) -> dict:
        return {"date_from": self.start, "date_to": self.end}


SOURCES = ("auto", "raw", "aggregates")


def choose_source(source: str, reason: str | None, metric: str) -> str:
    """``aggregates`` or ``raw``: what ``metric`` reads for ``source`` (auto / raw / aggregates),
    given why the aggregates cannot serve the period (``reason``, None when they can). An ``auto``
    fall-back to raw messages is logged with its reason; a forced ``aggregates`` that cannot be
    served is an error naming it."""
    if source not in SOURCES:
        raise ValueError(f"source={source!r}: choose one of {', '.join(SOURCES)}")
    if source == "raw":
        return "raw"
    if reason is None:
        return "aggregates"
    if source == "aggregates":
        raise ValueError(f"{metric}: the monthly aggregates cannot serve this period: {reason}")
    log.info("%s reads raw messages: %s", metric, reason)
    return "raw"


def over_trailing_months(metric, db_path, date_to, account_id, months: int, timezone: str | None, **options):
    """``metric`` (a period metric) over the ``months`` calendar months before ``date_to`` (cut in
    ``timezone``), with ``window_from``/``window_to`` (local days) as its first columns."""
    window = Period.trailing(date_to, months, timezone)
    frame = metric(db_path, window.start, window.end, account_id, **options)
    window_from, window_to = window.local_days(timezone)
    frame.insert(0, "window_to", window_to)
    frame.insert(0, "window_from", window_from)
    return frame


def _to_datetime(value) -> datetime:
    """A naive datetime; one that carries an offset is first moved to UTC (the stored clock)."""
    if isinstance(value, datetime):
        return _naive_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return _naive_utc(datetime.fromisoformat(str(value)))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD expected)") from exc


def _naive_utc(value: datetime) -> datetime:
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


#: the database opened by ``shared_readonly`` in this context: (resolved path, connection), or None
_SHARED: ContextVar[tuple[Path, object] | None] = ContextVar("dlvstats_shared_readonly", default=None)


@contextmanager
def shared_readonly(db_path: str | Path):
    """One read-only open of ``db_path`` shared by every metric run inside the block (``dlvstats
    metrics all``): the file is opened, checked and cached once. Each ``readonly(db_path)`` inside
    the block gets its own cursor on it (DuckDB: a fresh connection to the same database
    instance), so temporary tables, ``USE`` and settings one metric leaves never reach the next;
    in-memory databases a metric attaches (the sensitivity table's scratch) are detached after it."""
    path = Path(db_path).resolve()
    con = db.connect(db_path, read_only=True)
    try:
        db.require_dlvstats_db(con, db_path)
        token = _SHARED.set((path, con))
        try:
            yield con
        finally:
            _SHARED.reset(token)
    finally:
        con.close()


def _attached(con) -> set[str]:
    return {row[0] for row in con.execute(
        "SELECT database_name FROM duckdb_databases() WHERE path IS NULL AND NOT internal").fetchall()}


@contextmanager
def _restored(con):
    """Run a metric on ``con`` and leave its catalog as it was: the default database (a metric's ``USE``
    of its scratch) and no in-memory database the metric attached (the sensitivity table's)."""
    main = con.execute("SELECT current_database()").fetchone()[0]
    before = _attached(con)
    try:
        yield con
    finally:
        left = sorted(_attached(con) - before)
        if left or con.execute("SELECT current_database()").fetchone()[0] != main:
            con.execute(f'USE "{main}"')  # a metric's USE of its scratch: that cannot be detached
            for name in left:
                con.execute(f'DETACH "{name}"')


@contextmanager
def _cursor(con):
    cur = con.cursor()
    try:
        db.session_settings(cur)
        with _restored(cur):
            yield cur
    finally:
        cur.close()


#: ``id`` of each session connection (``reusing_relations``) -> relation file -> the parameters its
#: temporary table was last built with on that connection
_BUILT: dict[int, dict[str, str]] = {}


@contextmanager
def reusing_relations(con: duckdb.DuckDBPyConnection):
    """Inside the block, ``con`` is a session's connection (``dlvstats.open``): already set up (settings,
    macros, checked), and the relation temp tables built on it (``relation``) are kept for the next
    metric that asks for the same file with the same parameters."""
    _BUILT[id(con)] = {}
    try:
        yield con
    finally:
        _BUILT.pop(id(con), None)


def forget_relations(con) -> None:
    """Build every relation again on ``con`` (after SQL we did not write ran on it)."""
    built = _BUILT.get(id(con))
    if built is not None:
        built.clear()


#: the relation files whose temp table depends only on the database's tables and the file's parameters
#: (never on another temp table, and written by no other file): safe to reuse on one read-only connection
REUSABLE = frozenset({"relations/blocklist_periods", "relations/bounce_category", "relations/address_age",
                      "relations/reader_device"})


def relation(con, name: str, **params) -> None:
    """Build the temp table of the relation file ``name`` (``db.run``), unless ``con`` is a session's
    connection where the same file already built it with the same parameters (``REUSABLE`` files only;
    the database cannot change under a read-only connection)."""
    built = _BUILT.get(id(con)) if name in REUSABLE else None
    key = repr(sorted(params.items()))
    if built is not None and built.get(name) == key:
        return
    if built is not None:
        built.pop(name, None)  # a failed build leaves no stale claim behind
    db.run(con, name, **params)
    if built is not None:
        built[name] = key


def is_connection(source) -> bool:
    """``source`` is an open DuckDB connection (rather than a path, a lake directory or a Spark lake)."""
    return isinstance(source, duckdb.DuckDBPyConnection)


@contextmanager
def readonly(db_path):
    """The connection a metric reads through. ``db_path`` (every metric's first argument) is one of:

    - an open ``duckdb.DuckDBPyConnection`` (a ``dlvstats.open`` session's, or your own): used as it is and
      left open; a connection that is not a session's first gets the package's settings and macros
      (``db.session_settings``) and is checked to be a dlvstats database; the metric leaves its default
      database and attachments as it found them;
    - a database path: a read-only connection held only while the metric runs (notebooks may stay open
      for hours); inside ``shared_readonly`` on the same file, a cursor on the shared one;
    - a lake directory (``dlvstats export --lake``): an in-memory DuckDB connection with views over its
      Parquet files;
    - an engine's source object with a ``connect()`` method (the Spark lake of ``dlvstats.spark``), whose
      connection runs the same SQL files."""
    if is_connection(db_path):
        if id(db_path) not in _BUILT:
            db.session_settings(db_path)
            db.require_dlvstats_db(db_path, "the connection's database")
        with _restored(db_path) as con:
            yield con
        return
    if hasattr(db_path, "connect"):
        con = db_path.connect()  # checks the lake's manifest (format, schema version) itself
        try:
            yield con
        finally:
            con.close()
        return
    shared = _SHARED.get()
    if shared is not None and shared[0] == Path(db_path).resolve():
        with _cursor(shared[1]) as cur:
            yield cur
        return
    if lake.is_lake(db_path):
        con = lake.connect(db_path)
    else:
        con = db.connect(db_path, read_only=True)
    try:
        db.require_dlvstats_db(con, db_path)
        yield con
    finally:
        con.close()


class UnknownAccount(ValueError):
    """``--account`` names no account of the database; the message lists those there are."""


def check_account(db_path, account_id: str | None, where: str | Path | None = None) -> None:
    """Raise ``UnknownAccount`` naming the database's accounts when ``account_id`` has no send
    (``db_path``: what ``readonly`` takes; ``where``: the database's name in the message)."""
    if account_id is None:
        return
    with readonly(db_path) as con:
        known = [row[0] for row in db.run(con, "relations/accounts").fetchall()]
    if account_id not in known:
        shown = ", ".join(known[:20]) + (f" and {len(known) - 20} more" if len(known) > 20 else "")
        where = where or ("the connection's database" if is_connection(db_path) else db_path)
        raise UnknownAccount(f"--account {account_id!r}: no such account in {where} "
                             f"(accounts there: {shown or 'none, the database has no sends'})")


def wilson(successes, n, z: float = Z95):
    """Wilson score interval for arrays of successes out of n (n may be fractional)."""
    successes = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, successes / n, np.nan)
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        low = np.clip(centre - half, 0, 1)
        high = np.clip(centre + half, 0, 1)
    return p, np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)


def cluster_rate(num, den, y2, yn, n2, k, z: float = Z95):
    """Rate Σy/Σn with a cluster-robust Wilson interval (clusters = recipients)."""
    num, den, y2, yn, n2, k = (np.asarray(a, dtype=float) for a in (num, den, y2, yn, n2, k))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(den > 0, num / den, np.nan)
        resid_ss = np.maximum(y2 - 2 * r * yn + r**2 * n2, 0.0)
        var = np.where(k > 1, resid_ss / den**2 * k / (k - 1), np.nan)
        binomial_var = r * (1 - r) / den
        # effective sample size: never more than the message count, never less than one per person
        design = np.where((binomial_var > 0) & np.isfinite(var), var / binomial_var, 1.0)
        n_eff = np.clip(den / np.maximum(design, 1e-12), np.minimum(k, den), den)
        n_eff = np.where(np.isfinite(n_eff), n_eff, den)
    _, low, high = wilson(r * n_eff, n_eff, z)
    return r, low, high


def finish_rates(df: pd.DataFrame, rates: list[str], min_delivered: int = MIN_CELL_DELIVERED,
                 volume_column: str = "delivered") -> pd.DataFrame:
    """Replace each rate's ``R__*`` sums by ``R``, ``R_low``, ``R_high``; add ``small_cell``."""
    out = df.copy()
    for rate in rates:
        cols = [f"{rate}__{s}" for s in ("num", "den", "y2", "yn", "n2", "k")]
        if all(c in out.columns for c in cols):
            r, low, high = cluster_rate(*(out[c].to_numpy(dtype=float) for c in cols))
        else:  # one message per recipient: plain Wilson on num/den
            r, low, high = wilson(out[f"{rate}__num"].to_numpy(float), out[f"{rate}__den"].to_numpy(float))
            cols = [c for c in (f"{rate}__num", f"{rate}__den") if c in out.columns]
        out[rate] = r
        out[f"{rate}_low"] = low
        out[f"{rate}_high"] = high
        out = out.drop(columns=[c for c in cols if c in out.columns])
    if volume_column in out.columns:
        out["small_cell"] = out[volume_column].fillna(0) < min_delivered
    return out
