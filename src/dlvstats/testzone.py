"""A DNS blocklist zone served on loopback, for the tests and the demo (never on another address).

``serve({"4.3.2.1": "127.0.0.2"}, zone="test.dnsbl.invalid")`` answers ``4.3.2.1.test.dnsbl.invalid``
with ``127.0.0.2`` (listed) and every other name of the zone with NXDOMAIN (not listed, with an SOA
whose minimum is the negative TTL). Entries can be changed while it runs (``server.entries``), so a
test can de-list an address. Built on dnslib's server, in a thread, on 127.0.0.1 and a free port.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from dnslib import QTYPE, RCODE, RR, SOA, A, DNSLabel
from dnslib.server import BaseResolver, DNSLogger, DNSServer

LOOPBACK = "127.0.0.1"


@dataclass
class ZoneResolver(BaseResolver):
    zone: str
    entries: dict[str, str] = field(default_factory=dict)  # query name (relative) -> A answer
    ttl: int = 60
    negative_ttl: int = 30
    queries: list[str] = field(default_factory=list)

    def resolve(self, request, handler):
        reply = request.reply()
        qname = str(request.q.qname).rstrip(".").lower()
        self.queries.append(qname)
        suffix = "." + self.zone
        key = qname[: -len(suffix)] if qname.endswith(suffix) else None
        if key is None:
            reply.header.rcode = RCODE.REFUSED
        elif key in self.entries and request.q.qtype in (QTYPE.A, QTYPE.ANY):
            reply.add_answer(RR(request.q.qname, QTYPE.A, rdata=A(self.entries[key]), ttl=self.ttl))
        elif key not in self.entries:
            reply.header.rcode = RCODE.NXDOMAIN
            soa = SOA(DNSLabel("ns." + self.zone), DNSLabel("hostmaster." + self.zone),
                      (1, 3600, 600, 86400, self.negative_ttl))
            reply.add_auth(RR(DNSLabel(self.zone), QTYPE.SOA, rdata=soa, ttl=self.negative_ttl))
        return reply


def ip_key(ip: str) -> str:
    """The relative name an IP is looked up under (reversed octets)."""
    return ipaddress.ip_address(ip).reverse_pointer.rsplit(".", 2)[0]


class TestZoneServer:
    """A running loopback zone: ``.address`` is ``127.0.0.1:PORT``; ``stop()`` ends it."""

    __test__ = False  # not a pytest class

    def __init__(self, zone: str, entries: dict[str, str] | None = None, *, port: int = 0, ttl: int = 60):
        self.resolver = ZoneResolver(zone.strip(".").lower(), dict(entries or {}), ttl=ttl)
        self.server = DNSServer(self.resolver, address=LOOPBACK, port=port, logger=DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data"))
        self.server.start_thread()
        self.port = self.server.server.server_address[1]
        self.address = f"{LOOPBACK}:{self.port}"

    @property
    def entries(self) -> dict[str, str]:
        return self.resolver.entries

    @property
    def queries(self) -> list[str]:
        return self.resolver.queries

    def stop(self) -> None:
        self.server.stop()
        self.server.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
