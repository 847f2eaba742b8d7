"""DNS blocklist checks: look the sending IPs and domains up in DNSBLs and record changes.

The zones are data (``data/blocklist_zones.toml``, or the user's ``--zones FILE``). Each answer is
stored in ``blocklist_lookups`` (the cache: reused until its TTL runs out) and a change of state
becomes a ``listed`` or ``delisted`` event in ``blocklists``. A list's "query refused" or policy
answer (Spamhaus's 127.255.255.x for public resolvers, SURBL's 127.0.0.1) and a missing answer
are *unknown*: never a listing, never a de-listing.
"""

from __future__ import annotations

import ipaddress
import logging
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.resolver
import pandas as pd

from dlvstats import db
from dlvstats.config import PACKAGE_DIR

log = logging.getLogger(__name__)

DEFAULT_ZONES = PACKAGE_DIR / "data" / "blocklist_zones.toml"
#: TTL used for a negative answer that carries no SOA, and for "no answer" (seconds).
DEFAULT_TTL = 300
NO_ANSWER_TTL = 0


class ZonesError(ValueError):
    """The zones file is not usable (names the file and the zone)."""


@dataclass(frozen=True)
class Zone:
    name: str
    zone: str
    kind: str  # ip | domain
    terms: str
    codes: dict[str, str] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)

    def classify(self, code: str) -> tuple[str, str]:
        """(status, meaning) of one A answer: listed, or unknown for refusal/policy codes."""
        hit = _lookup_code(self.unknown, code)
        if hit is not None:
            return "unknown", hit
        hit = _lookup_code(self.codes, code)
        if hit is not None:
            return "listed", hit
        if ipaddress.ip_address(code) in ipaddress.ip_network("127.0.0.0/8"):
            return "listed", f"return code {code} (not described in the zones file)"
        return "unknown", f"answer {code} is outside 127.0.0.0/8: not a blocklist answer (a resolver rewriting NXDOMAIN?)"


def _lookup_code(table: dict[str, str], code: str) -> str | None:
    value = ipaddress.ip_address(code)
    for key, meaning in table.items():
        lo, _, hi = key.partition("-")
        if ipaddress.ip_address(lo.strip()) <= value <= ipaddress.ip_address((hi or lo).strip()):
            return meaning
    return None


def load_zones(path: str | Path | None = None) -> list[Zone]:
    path = Path(path) if path else DEFAULT_ZONES
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ZonesError(f"{path}: no such zones file (copy {DEFAULT_ZONES} and edit it)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ZonesError(f"{path}: not valid TOML: {exc}") from None
    zones = []
    for i, entry in enumerate(data.get("zone", []), start=1):
        where = f"{path}: [[zone]] number {i}"
        missing = [k for k in ("name", "zone", "kind") if not entry.get(k)]
        if missing:
            raise ZonesError(f"{where}: missing {', '.join(missing)}")
        if entry["kind"] not in ("ip", "domain"):
            raise ZonesError(f"{where} ({entry['name']}): kind must be 'ip' or 'domain', not {entry['kind']!r}")
        for table in ("codes", "unknown"):
            for key in entry.get(table, {}):
                try:
                    [ipaddress.ip_address(part.strip()) for part in key.split("-")]
                except ValueError:
                    raise ZonesError(f"{where} ({entry['name']}): {table} key {key!r} is not an address or range") from None
        zones.append(Zone(entry["name"], entry["zone"].strip(".").lower(), entry["kind"], entry.get("terms", ""),
                          dict(entry.get("codes", {})), dict(entry.get("unknown", {}))))
    if not zones:
        raise ZonesError(f"{path}: no [[zone]] entries")
    return zones


def parse_resolver(text: str) -> tuple[str, int]:
    """``HOST[:PORT]`` (``[::1]:5353`` for IPv6) -> (host, port); the host must be an IP address."""
    host, port = text, 53
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else 53
    elif text.count(":") == 1:
        host, _, p = text.partition(":")
        port = int(p)
    ipaddress.ip_address(host)  # ValueError for a name: dnspython needs an address
    return host, port


def query_name(target: str, zone: Zone) -> str:
    if zone.kind == "ip":
        return ipaddress.ip_address(target).reverse_pointer.rsplit(".", 2)[0] + "." + zone.zone
    return f"{target.strip('.').lower()}.{zone.zone}"


def make_resolver(resolver: str | None, timeout: float = 5.0) -> tuple[dns.resolver.Resolver, str]:
    """A dnspython resolver for HOST[:PORT], or the system's; and the label recorded with answers."""
    if resolver is None:
        res = dns.resolver.Resolver()
        label = "system:" + ",".join(res.nameservers)
    else:
        host, port = parse_resolver(resolver)
        res = dns.resolver.Resolver(configure=False)
        res.nameservers = [host]
        res.port = port
        label = f"{host}:{port}"
    res.lifetime = timeout
    res.timeout = timeout
    res.cache = None  # our own cache is the database, with each answer's TTL
    return res, label


def lookup(res: dns.resolver.Resolver, target: str, zone: Zone) -> tuple[str, str | None, str, int]:
    """Ask one list about one target: (status, return_code, meaning, ttl_seconds)."""
    qname = query_name(target, zone)
    try:
        answer = res.resolve(qname, "A", raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN as exc:
        return "not_listed", None, "not listed", _negative_ttl(exc.response(exc.qnames()[0]))
    except (dns.resolver.NoNameservers, dns.exception.Timeout, dns.resolver.LifetimeTimeout) as exc:
        return "unknown", None, f"no answer from the resolver ({type(exc).__name__}: query refused or failed)", NO_ANSWER_TTL
    if answer.rrset is None:
        return "not_listed", None, "not listed (no A record)", _negative_ttl(answer.response)
    codes = sorted(r.address for r in answer.rrset)
    verdicts = [zone.classify(c) for c in codes]
    listed = [(c, m) for c, (s, m) in zip(codes, verdicts) if s == "listed"]
    ttl = int(answer.rrset.ttl)
    if listed:
        return "listed", " ".join(c for c, _ in listed), "; ".join(m for _, m in listed), ttl
    return "unknown", " ".join(codes), "; ".join(m for _, m in verdicts), ttl


def _negative_ttl(response: dns.message.Message | None) -> int:
    if response is not None:
        for rrset in response.authority:
            if rrset.rdtype == dns.rdatatype.SOA:
                return int(min(rrset.ttl, rrset[0].minimum))
    return DEFAULT_TTL


@dataclass
class CheckResult:
    answers: pd.DataFrame  # one row per target and zone
    events: pd.DataFrame  # the listed/delisted events recorded by this run
    resolver: str
    queries: int  # DNS queries sent (the rest came from the cache)


def check(
    con,
    *,
    zones: list[Zone],
    ips: list[str] | None = None,
    domains: list[str] | None = None,
    since_days: int = 7,
    resolver: str | None = None,
    interval_seconds: float = 0.2,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> CheckResult:
    """Look up the targets (given, or the sending IPs/domains of the last ``since_days``) and record."""
    now = now or datetime.now(UTC)
    if now.tzinfo is not None:  # stored as naive UTC, like every timestamp in the database
        now = now.astimezone(UTC).replace(tzinfo=None)
    res, label = make_resolver(resolver)
    if ips is None and domains is None:
        found = db.run(con, "blocklists/targets", since_days=since_days).fetchall()
        targets = [(t, kind) for t, kind, _, _ in found]
    else:
        targets = [(str(ipaddress.ip_address(ip)), "ip") for ip in ips or []]
        targets += [(d.strip(".").lower(), "domain") for d in domains or []]
    cached = {(r[0], r[1]): r for r in db.run(con, "blocklists/cached", now=now, resolver=label).fetchall()}
    rows, queries = [], 0
    for target, kind in targets:
        for zone in (z for z in zones if z.kind == kind):
            hit = cached.get((target, zone.zone))
            if hit:
                _, _, status, code, meaning, ttl, checked_at, expires_at = hit
                rows.append((checked_at, target, kind, zone.name, zone.zone, label, status, code, meaning, ttl, expires_at, False))
                continue
            if queries and interval_seconds:
                sleep(interval_seconds)  # spaces the queries: the lists throttle bursts
            status, code, meaning, ttl = lookup(res, target, zone)
            queries += 1
            log.debug("%s in %s: %s %s", target, zone.zone, status, code or "")
            rows.append((now, target, kind, zone.name, zone.zone, label, status, code, meaning, ttl,
                         now + timedelta(seconds=ttl), True))
    columns = ["checked_at", "target", "target_kind", "blocklist", "zone", "resolver", "status",
               "return_code", "meaning", "ttl_seconds", "expires_at", "fresh"]
    frame = pd.DataFrame(rows, columns=columns).astype({"return_code": "object", "meaning": "object"})
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("__check_frame", frame)
        db.run(con, "blocklists/stage")
        events = db.run(con, "blocklists/record", now=now).df()
        con.unregister("__check_frame")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return CheckResult(frame.drop(columns=["fresh"]).assign(cached=~frame["fresh"]), events, label, queries)
