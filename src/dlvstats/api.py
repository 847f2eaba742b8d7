"""The analysts' Python surface, for notebooks and scripts: one session on a database, every metric
by its CLI name, pandas or polars frames, and read-only SQL.

    >>> import dlvstats
    >>> s = dlvstats.open("data/dlvstats.duckdb", timezone="Europe/Paris")
    >>> s.metrics()                                   # the names, as `dlvstats metrics --help` lists them
    >>> s.metric("hidden-images", "2026-10")          # a month ...
    >>> s.metric("engagement-by-age", date_from="2026-01-01", date_to="2026-11-01", account="acct_oldlist")
    >>> s.metric("sender-health", "2026-10", by="provider", frame="polars")
    >>> s.sql("SELECT provider, count(*) AS n FROM message_facts GROUP BY ALL ORDER BY n DESC")

The session checks the database once when opened (a dlvstats database, the account exists). Used
plainly it holds no connection between calls: a notebook left open for a day never blocks an ingest,
and each call opens a read-only connection for its own length. Used as a context manager it holds one
read-only connection for the block, and every call runs on it:

    >>> with dlvstats.open("data/dlvstats.duckdb") as s:
    ...     health = s.metric("sender-health", "2026-10")
    ...     images = s.metric("hidden-images", "2026-10")
    ...     ages = s.metric("engagement-by-age", "2026-10")  # the address ages hidden-images built, reused
    ...     s.connection                                     # the DuckDB connection, for your own metric calls

The connection has the package's settings and SQL macros (``db.connect``); the relation temp tables
one metric builds (``metrics.common.REUSABLE``: address ages, reading devices, bounce categories,
blocklist periods) serve the next metric asking for the same period and account. Every metric function
also takes that connection (or any DuckDB connection on a dlvstats database) as its first argument, in
place of the path: ``hidden_images(s.connection, "2026-10-01", "2026-11-01")``.
A session, like a DuckDB connection, serves one thread at a time.

Frames are pandas by default (the metrics compute in pandas on small aggregated tables); ``frame=
"polars"`` (per call or for the session) hands the same table over as a polars DataFrame, and ``sql``
hands its result from DuckDB to polars through Arrow, without pandas.

Must not import papermill, the report or the CLI.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Self

from dlvstats import db
from dlvstats.metrics import REGISTRY, get
from dlvstats.metrics.common import Period, check_account, forget_relations, readonly, reusing_relations

FRAMES = ("pandas", "polars")


class Session:
    """A database, an optional account and a reporting time zone, shared by every call."""

    def __init__(self, db_path: str | Path, account: str | None = None, timezone: str = "UTC",
                 frame: str = "pandas"):
        self.db_path = Path(db_path)
        if not self.db_path.exists():
            raise FileNotFoundError(f"{self.db_path}: no such database (build one with `dlvstats ingest DROP "
                                    f"--db {self.db_path}`, or `make demo`)")
        with readonly(self.db_path) as con:  # a dlvstats database of a version this code reads, said now
            check_account(con, account, self.db_path)
        Period.month("2000-01", timezone)  # an unknown zone is refused here, by name
        self.account, self.timezone, self.frame = account, timezone, _frame_kind(frame)
        self._con = None
        self._stack: ExitStack | None = None

    def __repr__(self) -> str:
        state = ", open" if self._con is not None else ""
        return (f"dlvstats.Session({str(self.db_path)!r}, account={self.account!r}, "
                f"timezone={self.timezone!r}, frame={self.frame!r}{state})")

    def __enter__(self) -> Self:
        return self.start()

    def start(self) -> Self:
        """Open the session's one read-only connection (what ``with`` does; a notebook, whose cells cannot
        share a ``with`` block, calls it in its first cell and ``close()`` in its last): every call runs
        on it until ``close()``. While it is open, the database's writers (an ingest) wait for it."""
        if self._con is not None:
            raise RuntimeError("this session is already open (one `with` block at a time)")
        with ExitStack() as stack:
            con = db.connect(self.db_path, read_only=True)
            stack.callback(con.close)
            db.require_dlvstats_db(con, self.db_path)
            stack.enter_context(reusing_relations(con))
            self._con, self._stack = con, stack.pop_all()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the block's connection (``with`` does it); the session then opens one per call again."""
        stack, self._con, self._stack = self._stack, None, None
        if stack is not None:
            stack.close()

    @property
    def connection(self):
        """The read-only DuckDB connection of the ``with`` block (an error outside one)."""
        if self._con is None:
            raise RuntimeError("no connection outside a `with dlvstats.open(...) as s:` block (or start())")
        return self._con

    def _source(self):
        """What a metric reads: the block's connection, else the database path (a connection per call)."""
        return self._con if self._con is not None else self.db_path

    @staticmethod
    def metrics() -> list[str]:
        """Every metric name (the CLI's)."""
        return sorted(REGISTRY)

    def period(self, month: str | None = None, date_from=None, date_to=None) -> Period:
        """A month (``YYYY-MM``) or days ``date_from``..``date_to`` (end exclusive), in the session's zone."""
        if month is not None:
            if date_from is not None or date_to is not None:
                raise ValueError("give a month or date_from/date_to, not both")
            return Period.month(month, self.timezone)
        if date_from is None or date_to is None:
            raise ValueError("give a month ('2026-10') or both date_from and date_to ('2026-10-01', '2026-11-01')")
        return Period.parse(date_from, date_to, self.timezone)

    def metric(self, name: str, month: str | None = None, *, date_from=None, date_to=None,
               account: str | None = ..., frame: str | None = None, **options):
        """One metric table, as ``dlvstats metrics NAME`` prints it; ``options`` are its keyword options
        (``--option key=value`` on the command line). ``account=None`` lifts the session's account."""
        func = get(name)
        period = self.period(month, date_from, date_to)
        who = self.account if account is ... else account
        if who is not self.account:
            check_account(self._source(), who, self.db_path)
        table = func(self._source(), period.start, period.end, who, **options)
        return _as_frame(table, frame or self.frame)

    def sql(self, query: str, frame: str | None = None, **params):
        """A read-only query on the database (``$name`` parameters from ``params``); the tables and
        views are those of docs/schema.md (sends, opens, ..., message_facts)."""
        kind = _frame_kind(frame or self.frame)
        with readonly(self._source()) as con:
            try:
                result = con.execute(query, params or None)
                if kind == "polars":
                    import polars as pl

                    return pl.from_arrow(result.to_arrow_table())  # through Arrow, no copy through pandas
                return result.df()
            finally:
                forget_relations(con)  # your SQL may have touched the temp tables the metrics reuse


def open(db_path: str | Path, account: str | None = None, timezone: str = "UTC",
         frame: str = "pandas") -> Session:
    """A session on a dlvstats database (see the module's docstring for examples)."""
    return Session(db_path, account=account, timezone=timezone, frame=frame)


def _frame_kind(frame: str) -> str:
    if frame not in FRAMES:
        raise ValueError(f"frame={frame!r}: choose one of {', '.join(FRAMES)}")
    return frame


def _as_frame(table, frame: str):
    if _frame_kind(frame) == "pandas":
        return table
    import polars as pl

    return pl.from_pandas(table)


__all__ = ["Session", "open"]
