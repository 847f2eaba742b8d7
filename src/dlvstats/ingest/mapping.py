"""Your own CSV headers: a mapping file (``--map mapping.toml``) that reads an export with its own
column names and values as one canonical kind, and ``propose`` (``dlvstats map --propose FILE``),
which writes a first mapping from a file's header and first rows. See docs/inputs.md.

A mapping file::

    kind = "sends"                       # the canonical kind the file becomes (docs/schema.md)

    [columns]                            # source column (as in the header) = canonical column
    "Adresse e-mail" = "recipient"
    "Date d'envoi" = "sent_at"

    [values.status]                      # canonical column -> source value = canonical value
    "Délivré" = "delivered"

    [constants]                          # canonical column = one value for every row
    account_id = "acme"

    [read]                               # how to read the file (command-line options win)
    date_format = "%d/%m/%Y %H:%M"
    timezone = "Europe/Paris"
    delimiter = ";"
    encoding = "cp1252"

The renaming and value mapping happen in the SQL that stages the file (``readers.csv_file._stage_csv``):
values not listed in ``[values]`` pass unchanged and are validated like any canonical value, so a
status the mapping forgot is refused with its file and line, never dropped.
"""

from __future__ import annotations

import csv
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from dlvstats.ingest.canonical import DropError
from dlvstats.ingest.schema import KINDS

_READ_KEYS = ("date_format", "timezone", "delimiter", "encoding")
_SECTIONS = ("kind", "columns", "values", "constants", "read")


class MappingError(DropError):
    """A mapping file that cannot be used (the message names the file and the entry)."""


@dataclass(frozen=True)
class ColumnMapping:
    """A parsed mapping file; ``columns`` keys are lower-cased source names."""

    path: str
    kind: str
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    read: dict[str, str] = field(default_factory=dict)

    def __hash__(self) -> int:  # ReadOptions is frozen and may be hashed
        return hash((self.path, self.kind))

    def rename(self, header: list[str]) -> list[str]:
        """The header with mapped source columns renamed to their canonical names."""
        return [self.columns.get(h.strip().lower(), h) for h in header]

    def check_header(self, file: Path, header: list[str]) -> None:
        """Refuse a mapping whose source columns are not in the file (a typo must not pass silently)."""
        present = {h.strip().lower() for h in header}
        absent = [src for src in self.columns if src not in present]
        if absent:
            raise MappingError(
                f"{file}, line 1: the mapping {self.path} names column(s) {', '.join(repr(a) for a in absent)} "
                f"that the header does not have (header has: {', '.join(header)[:300]}). "
                "Fix the [columns] entries, or run `dlvstats map --propose` on the file."
            )

    def missing_hint(self) -> str:
        return (f" Map them in {self.path} under [columns] (\"<your column>\" = \"<canonical>\"), "
                "or give one value for every row under [constants].")


def _table(doc: dict, name: str, path: Path) -> dict:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise MappingError(f"{path}: [{name}] must be a table of \"name\" = \"value\" entries")
    return value


def _strings(table: dict, where: str, path: Path) -> dict[str, str]:
    out = {}
    for key, value in table.items():
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise MappingError(f"{path}: {where}.{key!r} must be a string, found {type(value).__name__}")
        out[str(key)] = str(value)
    return out


def load_mapping(path: str | Path) -> ColumnMapping:
    """Read and check a mapping file; every problem is a ``MappingError`` naming the entry."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise MappingError(f"{path}: cannot read the mapping file ({exc.strerror or exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{path}: not valid TOML ({exc})") from exc
    unknown = [k for k in doc if k not in _SECTIONS]
    if unknown:
        raise MappingError(f"{path}: unknown entr(ies) {', '.join(unknown)}; a mapping has {', '.join(_SECTIONS)}")
    kind = doc.get("kind")
    if kind not in KINDS:
        raise MappingError(f"{path}: kind = {kind!r}: give one of {', '.join(KINDS)}")
    names = set(KINDS[kind].column_names)
    columns = {src.strip().lower(): dst for src, dst in _strings(_table(doc, "columns", path), "columns", path).items()}
    constants = _strings(_table(doc, "constants", path), "constants", path)
    for where, target in [("columns", d) for d in columns.values()] + [("constants", c) for c in constants]:
        if target not in names:
            raise MappingError(f"{path}: [{where}] names {target!r}, not a column of {kind} "
                               f"({', '.join(KINDS[kind].column_names)})")
    twice = sorted({d for d in columns.values() if list(columns.values()).count(d) > 1} | (set(columns.values()) & set(constants)))
    if twice:
        raise MappingError(f"{path}: {', '.join(twice)} mapped more than once (one source per canonical column)")
    values = {}
    for column, table in _table(doc, "values", path).items():
        if column not in names:
            raise MappingError(f"{path}: [values.{column}]: {column!r} is not a column of {kind}")
        if not isinstance(table, dict):
            raise MappingError(f"{path}: [values.{column}] must be a table of \"source\" = \"canonical\" values")
        values[column] = _strings(table, f"values.{column}", path)
    read = _strings(_table(doc, "read", path), "read", path)
    bad = [k for k in read if k not in _READ_KEYS]
    if bad:
        raise MappingError(f"{path}: [read] {', '.join(bad)} unknown; use {', '.join(_READ_KEYS)}")
    return ColumnMapping(str(path), kind, columns, values, constants, read)


# ---------------------------------------------------------------------------------------------
# Proposing a mapping from a file's header and first rows

#: normalised header words -> canonical column (English and French export headers).
SYNONYMS: dict[str, str] = {
    "message id": "message_id", "messageid": "message_id", "id message": "message_id", "msg id": "message_id",
    "identifiant du message": "message_id", "id": "message_id", "uuid": "message_id",
    "email": "recipient", "e mail": "recipient", "mail": "recipient", "adresse email": "recipient",
    "adresse e mail": "recipient", "adresse": "recipient", "destinataire": "recipient", "contact": "recipient",
    "recipient": "recipient", "to": "recipient", "email address": "recipient", "courriel": "recipient",
    "date": "sent_at", "date d envoi": "sent_at", "envoye le": "sent_at", "date envoi": "sent_at",
    "sent": "sent_at", "sent at": "sent_at", "send date": "sent_at", "date sent": "sent_at", "timestamp": "sent_at",
    "status": "status", "statut": "status", "etat": "status", "event": "status", "evenement": "status",
    "campaign": "campaign_id", "campagne": "campaign_id", "campaign name": "campaign_id",
    "nom de la campagne": "campaign_id", "campaign id": "campaign_id", "id campagne": "campaign_id",
    "list": "list_id", "liste": "list_id", "list name": "list_id", "nom de la liste": "list_id", "list id": "list_id",
    "account": "account_id", "compte": "account_id", "client": "account_id", "account id": "account_id",
    "delivered at": "delivered_at", "date de delivrance": "delivered_at", "date de livraison": "delivered_at",
    "bounce type": "bounce_class", "type de bounce": "bounce_class", "type de rebond": "bounce_class",
    "smtp code": "smtp_code", "code smtp": "smtp_code", "reason": "bounce_reason", "raison": "bounce_reason",
    "motif": "bounce_reason", "bounce reason": "bounce_reason", "ip": "sending_ip", "ip d envoi": "sending_ip",
    "sending ip": "sending_ip", "domain": "sending_domain", "domaine d envoi": "sending_domain",
    # subscriptions (Mailchimp audience exports: OPTIN_TIME when the address was collected,
    # CONFIRM_TIME when the double opt-in was confirmed; French CRM headers)
    "optin time": "collected_at", "date de collecte": "collected_at", "collected at": "collected_at",
    "confirm time": "ts", "date d inscription": "ts", "subscribed at": "ts", "date inscription": "ts",
    "origine": "source", "source": "source", "provenance": "source",
    # orders
    "order id": "order_id", "numero de commande": "order_id", "commande": "order_id",
    "montant": "amount", "amount": "amount", "total": "amount", "date de commande": "ts", "order date": "ts",
}

#: normalised status words -> canonical `sends.status`.
STATUS_WORDS: dict[str, str] = {
    "delivered": "delivered", "delivre": "delivered", "livre": "delivered", "remis": "delivered",
    "delivery": "delivered", "ok": "delivered", "sent": "sent", "envoye": "sent", "processed": "sent",
    "bounce": "bounced", "bounced": "bounced", "hard bounce": "bounced", "soft bounce": "bounced",
    "hardbounce": "bounced", "softbounce": "bounced", "rejete": "bounced", "rebond": "bounced",
    "erreur": "bounced", "failed": "bounced", "echec": "bounced", "deferred": "deferred",
    "differe": "deferred", "en attente": "deferred", "delayed": "deferred",
}

_DATE_GUESSES = (
    (r"\d{2}/\d{2}/\d{4} \d{1,2}:\d{2}:\d{2}", "%d/%m/%Y %H:%M:%S"),
    (r"\d{2}/\d{2}/\d{4} \d{1,2}:\d{2}", "%d/%m/%Y %H:%M"),
    (r"\d{2}/\d{2}/\d{4}", "%d/%m/%Y"),
    (r"\d{2}\.\d{2}\.\d{4} \d{1,2}:\d{2}", "%d.%m.%Y %H:%M"),
    (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "%Y-%m-%d %H:%M:%S"),
)


def _norm(text: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def _first_rows(path: Path, limit: int) -> tuple[list[str], list[list[str]], str, str, bool]:
    """(header, first rows, delimiter, encoding, sep line) with the canonical reader's detection."""
    from dlvstats.ingest.canonical import ReadOptions, sniff_csv

    dialect = sniff_csv(path, "sends", ReadOptions())
    opener = __import__("gzip").open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding=dialect.codec, errors="replace", newline="") as handle:
        for _ in range(dialect.skip):
            handle.readline()
        reader = csv.reader(handle, delimiter=dialect.delimiter)
        header = next(reader, [])
        rows = [r for _, r in zip(range(limit), reader, strict=False)]
    return [h.strip().lstrip("\ufeff") for h in header], rows, dialect.delimiter, dialect.codec, bool(dialect.skip)


def _q(text: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML)."""
    return json.dumps(text, ensure_ascii=False)


def propose(path: str | Path, limit: int = 200) -> str:
    """A mapping file (TOML text) for ``path`` from its header and first ``limit`` rows: the
    columns recognised, the status values seen, the date format when the first values show one,
    and comments naming what is still missing. It is a proposal to read and edit, not a guess to trust."""
    path = Path(path)
    header, rows, delimiter, codec, _ = _first_rows(path, limit)
    columns: dict[str, str] = {}
    for name in header:
        target = SYNONYMS.get(_norm(name)) or (_norm(name).replace(" ", "_") if _norm(name).replace(" ", "_")
                                               in KINDS["sends"].column_names else None)
        if target and target not in columns.values():
            columns[name] = target
    scores = {k: sum(1 for c in spec.columns if c.name in columns.values()) for k, spec in KINDS.items()}
    kind = max(scores, key=lambda k: (scores[k], k == "sends"))
    names = KINDS[kind].column_names
    columns = {s: d for s, d in columns.items() if d in names}
    out = [f"# dlvstats column mapping proposed from {path.name} ({len(rows)} first row(s) read).",
           "# Check every line; see docs/inputs.md. Use it with: dlvstats ingest --map THIS_FILE " + str(path),
           f"kind = {_q(kind)}", "", "[columns]  # source column = canonical column"]
    out += [f"{_q(s)} = {_q(d)}" for s, d in columns.items()]
    out += [f"# {_q(h)} = ?   (not recognised: map it, or leave it out to ignore it)" for h in header if h not in columns]
    index = {d: header.index(s) for s, d in columns.items()}
    if "status" in index and kind == "sends":
        seen = sorted({r[index["status"]].strip() for r in rows if len(r) > index["status"] and r[index["status"]].strip()})
        out += ["", "[values.status]  # source value = delivered | bounced | deferred | sent"]
        for value in seen:
            guess = STATUS_WORDS.get(_norm(value))
            out.append(f"{_q(value)} = {_q(guess)}" if guess else f"# {_q(value)} = ?   (not recognised)")
    missing = [c.name for c in KINDS[kind].columns if c.required and c.name not in columns.values()]
    out += ["", "[constants]  # one value for every row, for required columns the file lacks"]
    out += [f"# {m} = \"...\"   (required, not found in the header)" for m in missing]
    out += ["", "[read]"]
    if delimiter != ",":
        out.append(f"delimiter = {_q(delimiter)}")
    if codec != "utf-8":
        out.append(f"encoding = {_q(codec)}")
    date_col = index.get("sent_at")
    if date_col is not None:
        values = [r[date_col].strip() for r in rows if len(r) > date_col and r[date_col].strip()]
        for pattern, fmt in _DATE_GUESSES:
            if values and all(re.fullmatch(pattern, v) for v in values):
                out.append(f"date_format = {_q(fmt)}  # check: day first (French) or month first?")
                break
    out.append("# timezone = \"Europe/Paris\"   # of times without an offset (default UTC)")
    return "\n".join(out) + "\n"


def with_read_options(mapping: ColumnMapping, options):
    """``options`` (a ``canonical.ReadOptions``) carrying the mapping, with the mapping's [read]
    delimiter, encoding and date format where the command line gave none."""
    from dataclasses import replace

    return replace(
        options, mapping=mapping,
        delimiter=options.delimiter or mapping.read.get("delimiter"),
        encoding=options.encoding or mapping.read.get("encoding"),
        date_format=options.date_format or mapping.read.get("date_format"),
    )
