"""The domain -> mailbox provider mapping: show it, extend it, propose entries from MX records.

The mapping is data (table ``provider_domains``, seeded from ``dlvstats/data/providers.csv``).
B2B recipients' own domains are often hosted by Google Workspace or Microsoft 365; an MX lookup
(off by default: it needs DNS) proposes such entries, cached in ``data/mx_cache.json``.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dlvstats import db
from dlvstats.config import settings

#: MX host suffixes that reveal the mailbox provider behind a custom domain.
MX_SUFFIXES = {
    "google.com": "gmail",
    "googlemail.com": "gmail",
    "outlook.com": "microsoft",
    "protection.outlook.com": "microsoft",
    "yahoodns.net": "yahoo",
    "icloud.com": "apple",
    "orange.fr": "orange",
    "free.fr": "free",
    "sfr.fr": "sfr",
    "gmx.net": "gmx",
}

_DOMAIN = re.compile(r"^(\*|[a-z0-9-]+)(\.(\*|[a-z0-9-]+))+$")


def provider_for_mx(hosts: list[str]) -> str | None:
    for host in hosts:
        host = host.lower().rstrip(".")
        for suffix, provider in MX_SUFFIXES.items():
            if host == suffix or host.endswith("." + suffix):
                return provider
    return None


def lookup_mx(domain: str, timeout: float = 3.0) -> list[str]:
    """MX hosts of a domain via dnspython if installed, else the `dig` or `host` command."""
    try:
        import dns.resolver  # type: ignore

        answers = dns.resolver.resolve(domain, "MX", lifetime=timeout)
        return [str(r.exchange) for r in answers]
    except ImportError:
        pass
    except Exception:  # noqa: BLE001 - NXDOMAIN, timeouts: no proposal
        return []
    for command in (["dig", "+short", "MX", domain], ["host", "-t", "MX", domain]):
        try:
            out = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False).stdout
        except (OSError, subprocess.TimeoutExpired):
            continue
        return [line.split()[-1] for line in out.splitlines() if line.strip()]
    return []


def add_mapping(con, domain_pattern: str, provider: str, source: str = "user") -> None:
    domain_pattern = domain_pattern.strip().lower()
    if not _DOMAIN.match(domain_pattern):
        raise ValueError(f"{domain_pattern!r} is not a domain or a pattern like 'hotmail.*'")
    con.execute("DELETE FROM provider_domains WHERE domain_pattern = $d AND source = $s",
                {"d": domain_pattern, "s": source})
    con.execute("INSERT INTO provider_domains VALUES ($d, $p, $s)",
                {"d": domain_pattern, "p": provider.strip().lower(), "s": source})


@dataclass
class ProvidersResult:
    """What ``manage`` did: the MX proposals (domain, provider, sends) among the looked-up 'other'
    domains, and the mapping and sends per provider afterwards."""

    mapping: list[tuple[str, str, str]]
    sends_by_provider: list[tuple[str, int]]
    proposals: list[tuple[str, str, int]] | None = None
    looked_up: int = 0
    applied: bool = False


def manage(db_path: Path, *, add: list[tuple[str, str]] = (), mx: bool = False, apply_mx: bool = False,
           top: int = 200, mx_cache: Path | None = None) -> ProvidersResult:
    """Add ``(domain, provider)`` entries and, with ``mx``, propose entries from the MX records of the
    ``top`` most frequent 'other' domains (cached in ``mx_cache``; stored with ``apply_mx``); the
    messages' providers and facts are recomputed when the mapping changed."""
    from dlvstats.ingest.core import ensure_provider_defaults

    con = db.connect(db_path)
    try:
        db.migrate(con)
        ensure_provider_defaults(con)
        for domain, provider in add:
            add_mapping(con, domain, provider)
        changed = bool(add)
        result = ProvidersResult([], [])
        if mx:
            result.proposals, result.looked_up = _mx_proposals(con, top, mx_cache or settings().data_dir / "mx_cache.json")
            if apply_mx:
                for domain, provider, _ in result.proposals:
                    add_mapping(con, domain, provider, source="mx")
                result.applied = bool(result.proposals)
                changed = changed or result.applied
        if changed:
            db.run(con, "relations/remap_providers")
            from dlvstats.classify import update_message_facts

            update_message_facts(con)
        result.mapping = con.execute(
            "SELECT domain_pattern, provider, source FROM provider_domains ORDER BY provider, domain_pattern"
        ).fetchall()
        result.sends_by_provider = con.execute(
            "SELECT provider, count(*) FROM sends GROUP BY ALL ORDER BY 2 DESC").fetchall()
    finally:
        con.close()
    return result


def _mx_proposals(con, top: int, cache_path: Path) -> tuple[list[tuple[str, str, int]], int]:
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    candidates = con.execute(db.sql_text("relations/other_domains"), {"top": top}).fetchall()
    proposals = []
    for domain, sends in candidates:
        if domain not in cache:
            cache[domain] = lookup_mx(domain)
        provider = provider_for_mx(cache[domain])
        if provider:
            proposals.append((domain, provider, sends))
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    cache_path.write_text(json.dumps(cache, indent=1, sort_keys=True))
    return proposals, len(candidates)
