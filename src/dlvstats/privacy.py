"""Personal data: pseudonymised ingest and the erasure of one person (``dlvstats forget``).

What is stored, and how to erase a person, is documented in docs/privacy.md.

**Pseudonymisation** (``dlvstats ingest --pseudonymize``, key in ``DLVSTATS_PSEUDONYM_KEY``):
every recipient address is replaced, at ingest and before anything is written, by
``<32 hex digits of HMAC-SHA256(key, address)>@<domain>``. The address is normalised first (trim,
lower-case), so one person gets one pseudonym in every table and every drop, and analyses that
join or count recipients work unchanged; the domain stays readable (and ``recipient_domain`` and
``provider`` on ``sends``), so per-provider analyses work too. E-mail-like tokens in free text
(bounce reasons, click URLs, rejected raw lines and reasons) are replaced by their pseudonym too.
The database records its mode in ``meta`` (``recipient_mode`` = ``plain`` | ``pseudonymized``, and
a fingerprint of the key, never the key) and refuses an ingest in the other mode or with another
key, so plain and pseudonymised recipients never mix.

**Erasure** (``forget``): deletes every row about one recipient (sends and, through their
message ids, opens, clicks and complaints; complaints, subscriptions and orders by recipient;
rejected rows whose text holds the address; derived tables such as ``message_facts``), erases
the address from any other text column, then rewrites the database into a fresh file (``COPY
FROM DATABASE``) swapped in by an atomic rename, so the deleted rows' old blocks are not left in
the file. It verifies that the address's bytes no longer occur in the new file.

Must not import ``dlvstats.ingest`` (the loader imports this module).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from dlvstats import aggregates, db
from dlvstats.config import Settings, settings

PLAIN = "plain"
PSEUDONYMIZED = "pseudonymized"

#: characters of the HMAC (hex) kept in a pseudonym: 128 bits, collisions negligible
PSEUDONYM_HEX_DIGITS = 32
MIN_KEY_LENGTH = 16

#: an e-mail-like token in free text: name@domain.tld, or name%40domain.tld inside URLs
#: (the same pattern as dlv_redact in sql/privacy/macros.sql)
TOKEN_PATTERN = r"[A-Za-z0-9._%+\-]+(?:@|%40)[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"
_TOKEN = re.compile(TOKEN_PATTERN)

_KEY_CHECK_MESSAGE = b"dlvstats pseudonym key check"


class PrivacyError(RuntimeError):
    """A privacy operation cannot run as asked (no key, wrong key, address not valid...)."""


class RecipientModeError(ValueError):
    """An ingest would mix plain and pseudonymised recipients (or two keys) in one database."""


def normalise_address(address: str) -> str:
    return address.strip().lower()


class Pseudonymizer:
    """Keyed pseudonyms of recipient addresses (HMAC-SHA256), in Python and in DuckDB SQL."""

    def __init__(self, key: str | bytes):
        raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
        if len(raw) < MIN_KEY_LENGTH:
            raise PrivacyError(
                f"DLVSTATS_PSEUDONYM_KEY is too short ({len(raw)} bytes; at least {MIN_KEY_LENGTH}). Make "
                "one with: python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        self._key = raw
        block = hashlib.sha256(raw).digest() if len(raw) > 64 else raw  # RFC 2104: long keys are hashed
        block = block.ljust(64, b"\0")
        self._ki = bytes(b ^ 0x36 for b in block)
        self._ko = bytes(b ^ 0x5C for b in block)
        #: a fingerprint stored in ``meta`` to refuse a different key later; reveals nothing of the key
        self.key_id = hmac.new(raw, _KEY_CHECK_MESSAGE, hashlib.sha256).hexdigest()[:16]

    @classmethod
    def from_settings(cls, config: Settings | None = None) -> Pseudonymizer:
        """The pseudonymizer of ``config.pseudonym_key`` (default: the process's settings)."""
        key = (config or settings()).pseudonym_key
        if not key:
            raise PrivacyError(
                "pseudonymisation needs a secret key in the environment variable DLVSTATS_PSEUDONYM_KEY "
                "(make one with: python -c 'import secrets; print(secrets.token_hex(32))'). Keep it "
                "secret, and keep it: every later ingest and `dlvstats forget` need the same key."
            )
        return cls(key)

    def __repr__(self) -> str:  # never show the key
        return f"Pseudonymizer(key_id={self.key_id})"

    # -- Python (reference implementation, and for the few values handled outside SQL)

    def pseudonym(self, address: str) -> str:
        address = normalise_address(address)
        digest = hmac.new(self._key, address.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{digest[:PSEUDONYM_HEX_DIGITS]}@{address.rsplit('@', 1)[-1]}"

    def redact_text(self, text: str | None) -> str | None:
        if text is None:
            return None
        return _TOKEN.sub(lambda m: self.pseudonym(m.group(0).replace("%40", "@")), text)

    # -- SQL

    def params(self) -> dict:
        return {"__pk_i": self._ki, "__pk_o": self._ko}

    @staticmethod
    def install_macros(con) -> None:
        db.run(con, "privacy/macros")

    def rewrite_table(
        self,
        con,
        table: str,
        *,
        address_columns: list[str],
        text_columns: list[str] = (),
        raw_columns: list[str] = (),
        bad_row_flag: str | None = None,
    ) -> None:
        """Replace addresses in a (temporary) table: pseudonyms for ``address_columns``, redaction in
        ``text_columns``; ``raw_columns`` are redacted where ``bad_row_flag`` is not NULL and set to
        NULL elsewhere (a good row's raw text is never used again). Identifiers come from the
        caller's fixed lists."""
        self.install_macros(con)
        parts = [f"dlv_pseudonym({_ident(c)}, $__pk_i, $__pk_o) AS {_ident(c)}" for c in address_columns]
        parts += [f"dlv_redact({_ident(c)}, $__pk_i, $__pk_o) AS {_ident(c)}" for c in text_columns]
        for c in raw_columns:
            if bad_row_flag:
                parts.append(
                    f"CASE WHEN {_ident(bad_row_flag)} IS NULL THEN NULL "
                    f"ELSE dlv_redact({_ident(c)}, $__pk_i, $__pk_o) END AS {_ident(c)}"
                )
            else:
                parts.append(f"dlv_redact({_ident(c)}, $__pk_i, $__pk_o) AS {_ident(c)}")
        if not parts:
            return
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_ident(table)} AS SELECT * REPLACE ({', '.join(parts)}) "
            f"FROM {_ident(table)}",
            self.params(),
        )


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------------------------------------
# The database's recipient mode


def _meta(con, key: str) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = $k", {"k": key}).fetchone()
    return row[0] if row else None


def recipient_mode(con) -> str | None:
    """``plain``, ``pseudonymized``, or None for a database that holds no recipient yet."""
    stored = _meta(con, "recipient_mode")
    if stored:
        return stored
    has_data = con.execute(
        "SELECT EXISTS (FROM sends) OR EXISTS (FROM subscriptions) OR EXISTS (FROM orders) "
        "OR EXISTS (FROM complaints) OR EXISTS (FROM rejects)"
    ).fetchone()[0]
    return PLAIN if has_data else None


def ensure_recipient_mode(con, pseudonymizer: Pseudonymizer | None) -> None:
    """Refuse an ingest that would mix modes or keys; record the mode (inside the caller's transaction)."""
    wanted = PSEUDONYMIZED if pseudonymizer is not None else PLAIN
    stored = recipient_mode(con)
    if stored == PSEUDONYMIZED and wanted == PLAIN:
        raise RecipientModeError(
            "this database holds pseudonymised recipients; loading plain addresses into it would mix "
            "the two. Run the ingest with --pseudonymize (and the same DLVSTATS_PSEUDONYM_KEY)."
        )
    if stored == PLAIN and wanted == PSEUDONYMIZED:
        raise RecipientModeError(
            "this database already holds plain recipient addresses; --pseudonymize would mix "
            "pseudonyms with them. Ingest into a new database file (re-ingest every drop with "
            "--pseudonymize), or run without --pseudonymize."
        )
    if wanted == PSEUDONYMIZED:
        stored_key = _meta(con, "pseudonym_key_id")
        if stored_key and stored_key != pseudonymizer.key_id:
            raise RecipientModeError(
                "this database was pseudonymised with a different DLVSTATS_PSEUDONYM_KEY: the same "
                "person would get two pseudonyms. Use the key the database was built with."
            )
        con.execute("INSERT OR REPLACE INTO meta VALUES ('pseudonym_key_id', $v)", {"v": pseudonymizer.key_id})
    if stored != wanted:
        con.execute("INSERT OR REPLACE INTO meta VALUES ('recipient_mode', $v)", {"v": wanted})


# ---------------------------------------------------------------------------------------------
# Erasure of one person


@dataclass
class ForgetReport:
    address: str
    mode: str
    #: the value looked for in recipient columns (the address, or its pseudonym)
    target: str
    removed: dict[str, int] = field(default_factory=dict)
    #: "table.column" -> rows whose text had the address erased (the rows themselves are kept)
    erased_mentions: dict[str, int] = field(default_factory=dict)
    size_before: int = 0
    size_after: int = 0
    rewritten: bool = False
    dry_run: bool = False

    @property
    def total_removed(self) -> int:
        return sum(self.removed.values())


def _tables(con) -> dict[str, dict[str, str]]:
    """Base tables of the main schema -> {column: type} (identifiers from the catalog, quoted)."""
    rows = con.execute(
        "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
        "JOIN information_schema.tables t USING (table_catalog, table_schema, table_name) "
        "WHERE c.table_schema = 'main' AND t.table_type = 'BASE TABLE' "
        "AND c.table_catalog = current_database() ORDER BY c.table_name, c.ordinal_position"
    ).fetchall()
    tables: dict[str, dict[str, str]] = {}
    for table, column, dtype in rows:
        tables.setdefault(table, {})[column] = dtype
    return tables


def _needles(address: str, target: str) -> list[str]:
    found = [address, address.replace("@", "%40"), target]
    return list(dict.fromkeys(found))


def bytes_in_file(path: Path, needles: list[str], chunk: int = 1 << 22) -> list[str]:
    """Which of ``needles`` occur (UTF-8, as given or lower-case) anywhere in the file's bytes."""
    patterns = {n: {n.encode("utf-8"), n.lower().encode("utf-8")} for n in needles}
    longest = max((len(p) for ps in patterns.values() for p in ps), default=1)
    found: set[str] = set()
    tail = b""
    with open(path, "rb") as handle:
        while True:
            block = handle.read(chunk)
            if not block:
                break
            window = tail + block
            for needle, variants in patterns.items():
                if needle not in found and any(v in window for v in variants):
                    found.add(needle)
            tail = window[-(longest - 1):] if longest > 1 else b""
    return [n for n in needles if n in found]


def forget(db_path: str | Path, address: str, *, dry_run: bool = False,
           pseudonymizer: Pseudonymizer | None = None, config: Settings | None = None) -> ForgetReport:
    """Remove one recipient from every table, then rewrite the file without the old blocks
    (``config``: the settings to connect with and take the pseudonym key from; default the process's)."""
    db_path = Path(db_path)
    address = normalise_address(address)
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", address):
        raise PrivacyError(f"{address!r} is not an e-mail address")
    con = db.connect(db_path, config=config)
    try:
        db.require_dlvstats_db(con, db_path)
        mode = recipient_mode(con) or PLAIN
        if mode == PSEUDONYMIZED:
            pseudonymizer = pseudonymizer or Pseudonymizer.from_settings(config)
            stored_key = _meta(con, "pseudonym_key_id")
            if stored_key and stored_key != pseudonymizer.key_id:
                raise PrivacyError(
                    "DLVSTATS_PSEUDONYM_KEY is not the key this database was pseudonymised with: the "
                    "address's pseudonym cannot be computed. Set the database's key and run again."
                )
            target = pseudonymizer.pseudonym(address)
        else:
            target = address
        report = ForgetReport(address, mode, target, dry_run=dry_run, size_before=db_path.stat().st_size)
        needles = _needles(address, target)
        pattern = "|".join(re.escape(n) for n in needles)
        con.execute("BEGIN TRANSACTION")
        try:
            _delete_rows(con, report, target, needles)
            _erase_mentions(con, report, pattern)
            if aggregates.stored(con) is not None:  # the person's messages leave the monthly sums too
                aggregates.rebuild(con)
            if dry_run:
                con.execute("ROLLBACK")
                report.size_after = report.size_before
                return report
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        _rewrite(con, db_path, needles)
        report.rewritten = True
        report.size_after = db_path.stat().st_size
        return report
    finally:
        con.close()


def _delete_rows(con, report: ForgetReport, target: str, needles: list[str]) -> None:
    tables = _tables(con)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE __forget_messages AS "
        "SELECT DISTINCT message_id FROM sends WHERE recipient = $t",
        {"t": target},
    )
    # message_facts and other derived tables are handled like the rest: by recipient or message id
    for table, columns in tables.items():
        conditions, params = [], {}
        if "recipient" in columns:
            conditions.append("recipient = $t")
            params["t"] = target
        if "message_id" in columns:
            conditions.append("message_id IN (SELECT message_id FROM __forget_messages)")
        if table == "rejects":
            for i, needle in enumerate(needles):
                conditions.append(f"contains(lower(coalesce(raw, '')), $n{i}) OR contains(lower(coalesce(reason, '')), $n{i})")
                params[f"n{i}"] = needle.lower()
        if not conditions:
            continue
        deleted = con.execute(
            f"DELETE FROM {_ident(table)} WHERE {' OR '.join(f'({c})' for c in conditions)}", params or None
        ).fetchone()[0]
        if deleted:
            report.removed[table] = int(deleted)
    con.execute("DROP TABLE __forget_messages")


def _erase_mentions(con, report: ForgetReport, pattern: str) -> None:
    """The address left in other rows' text (a URL, a bounce reason, a file name): erase it there."""
    for table, columns in _tables(con).items():
        for column, dtype in columns.items():
            if dtype != "VARCHAR":
                continue
            col = _ident(column)
            updated = con.execute(
                f"UPDATE {_ident(table)} SET {col} = regexp_replace({col}, $p, '[erased]', 'gi') "
                f"WHERE regexp_matches({col}, $p, 'i')",
                {"p": pattern},
            ).fetchone()[0]
            if updated:
                report.erased_mentions[f"{table}.{column}"] = int(updated)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _rewrite(con, db_path: Path, needles: list[str]) -> None:
    """Copy the database into a fresh file and swap it in atomically, still holding the lock.

    Deleted rows leave their bytes in free blocks of a DuckDB file until they are reused; a fresh
    copy holds only live data. The rename happens while this process still holds the old file's
    lock, so no writer can slip changes into the old file; a writer waiting for the lock then
    opens the new file.
    """
    tmp = db_path.with_name(db_path.name + ".forget-tmp")
    for leftover in (tmp, Path(str(tmp) + ".wal")):
        leftover.unlink(missing_ok=True)
    con.execute("CHECKPOINT")
    current = con.execute("SELECT current_database()").fetchone()[0]
    con.execute("ATTACH $p AS __dlv_fresh", {"p": str(tmp)})
    try:
        con.execute(f"COPY FROM DATABASE {_ident(current)} TO __dlv_fresh")
    finally:
        con.execute("DETACH __dlv_fresh")
    try:
        if Path(str(tmp) + ".wal").exists():
            raise PrivacyError(f"{tmp}: the fresh copy was not checkpointed; the database was not swapped")
        left = bytes_in_file(tmp, needles)
        if left:
            raise PrivacyError(
                f"the rewritten copy still holds the bytes of {', '.join(repr(n) for n in left)}; the "
                "database was not swapped (the deletions are committed). Report this as a bug."
            )
        _fsync(tmp)
        os.replace(tmp, db_path)
        _fsync(db_path.parent)
    finally:
        tmp.unlink(missing_ok=True)
