"""Machines as they really behave: link-scanning gateways with address pools, provider image
proxies that prefetch, Apple Mail Privacy Protection variants."""

from __future__ import annotations

import numpy as np

from dlvstats.simulate.arrays import repeat_ranges
from dlvstats.simulate.tables import CL, DAY, HOUR, MACHINE_TYPES, YEAR_DAYS
from dlvstats.simulate.worlds.base import Mechanism, SetupContext, append_events, delivered_kept, pool_ips

M_GATEWAY_IMAGE = MACHINE_TYPES.index("gateway_image_fetch")
M_GATEWAY_CLICK = MACHINE_TYPES.index("gateway_click")
M_PROXY = MACHINE_TYPES.index("proxy_prefetch")
M_MPP = MACHINE_TYPES.index("apple_mpp")
M_HUMAN = 0

_CHROME_124 = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Chrome/124.0.0.0 Safari/537.36")
_EDGE_124 = _CHROME_124 + " Edg/124.0.2478.80"
_CHROME_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Chrome/123.0.0.0 Safari/537.36")

# name, CIDR blocks (published ranges of the network), user agent, links followed (0 = all),
# delay range in seconds after delivery, fetches the image, share of messages scanned, weight
GATEWAYS = (
    # Microsoft 365 / Exchange Online Protection outbound and Azure ranges (Microsoft's published list)
    ("microsoft_safelinks", ("40.107.0.0/16", "52.100.0.0/14", "104.47.0.0/17", "20.38.0.0/16"), _EDGE_124,
     0, (2, 30), True, 1.0, .35),
    # Amazon EC2 ranges (ip-ranges.json): sandboxes that follow one or two links
    ("aws_sandbox", ("3.208.0.0/12", "54.160.0.0/12", "18.184.0.0/15"), _CHROME_124, 2, (5, 90), False, 1.0, .15),
    # Google Cloud ranges (cloud.json): time-of-click re-scans, minutes later, every link, image too
    ("gcp_rescan", ("34.64.0.0/10", "35.184.0.0/13"), _CHROME_MAC, 0, (180, 1800), True, 1.0, .15),
    # Proofpoint and Mimecast own networks (their published customer allow-lists): sample of messages
    ("proofpoint_mimecast", ("148.163.128.0/19", "67.231.144.0/20", "205.139.110.0/24", "207.211.30.0/24"),
     _CHROME_124, 0, (1, 20), True, 0.4, .20),
    # hosting networks in no well-known list (OVH, Hetzner, Scaleway): only behaviour gives them away
    ("hosting_unlisted", ("51.68.0.0/16", "51.75.0.0/16", "88.198.0.0/16", "163.172.0.0/16"), _CHROME_124, 1,
     (30, 600), False, 1.0, .15),
)


class ScannerPools(Mechanism):
    name = "scanner_pools"
    summary = ("link-scanning gateways with pools of data-centre addresses: image fetch and each click from a "
               "different address of the network, real-browser user agents, all links in seconds, one or two "
               "links, time-of-click re-scans minutes later, sampled messages")
    source = ("Microsoft Defender for Office 365 Safe Links (learn.microsoft.com/defender-office-365/"
              "safe-links-about); Proofpoint URL Defense; Mimecast URL Protection; published ranges: Microsoft 365 "
              "URLs and IP ranges, AWS ip-ranges.json, Google Cloud cloud.json")
    default_strength = 0.5
    strength_meaning = "share of corporate recipients behind such a gateway (on top of the default scanners)"

    def setup(self, ctx: SetupContext) -> None:
        C = ctx.pop.contacts
        n = len(C)
        self.gateway = np.full(n, -1, dtype=np.int8)
        eligible = C.corporate & (C.scanner < 0)
        pick = eligible & (ctx.rng.random(n) < min(self.strength, 1.0))
        weights = np.array([g[7] for g in GATEWAYS])
        self.gateway[pick] = ctx.rng.choice(len(GATEWAYS), int(pick.sum()), p=weights / weights.sum())
        self.ua = np.array([ctx.add_ua(g[2]) for g in GATEWAYS])
        for g in GATEWAYS:
            ctx.add_pool(f"gateway:{g[0]}", g[1], 2048)
        self._month = None

    def _scanned(self, view):
        """Per month: (send index, gateway, scan time) of the messages the gateways scan."""
        if self._month is not None and self._month[0] == view.mi:
            return self._month[1]
        s = delivered_kept(view)
        gw = self.gateway[view.c[s]].astype(np.int64)
        s, gw = s[gw >= 0], gw[gw >= 0]
        sample = np.array([g[6] for g in GATEWAYS])[gw]
        sel = view.rng.random(len(s)) < sample
        s, gw = s[sel], gw[sel]
        lo = np.array([g[4][0] for g in GATEWAYS])[gw]
        hi = np.array([g[4][1] for g in GATEWAYS])[gw]
        t = view.delivered_at[s] + lo + (view.rng.random(len(s)) * (hi - lo)).astype(np.int64)
        self._month = (view.mi, (s, gw, t))
        return s, gw, t

    def _ips(self, view, gw: np.ndarray) -> np.ndarray:
        ips = np.empty(len(gw), dtype=np.int64)
        for g, spec in enumerate(GATEWAYS):
            sel = gw == g
            ips[sel] = pool_ips(view, f"gateway:{spec[0]}", int(sel.sum()))
        return ips

    def opens(self, view, o: dict) -> dict:
        s, gw, t = self._scanned(view)
        img = np.array([g[5] for g in GATEWAYS])[gw]
        s, gw, t = s[img], gw[img], t[img]
        return append_events(o, send=s, ts=t - view.rng.integers(0, 3, len(s)), ua=self.ua[gw], ip=self._ips(view, gw),
                             type=np.full(len(s), M_GATEWAY_IMAGE))

    def clicks(self, view, q: dict) -> dict:
        s, gw, t = self._scanned(view)
        camps = view.camps
        n_all = camps.n_content[view.k[s]] + 1  # content links and the unsubscribe link
        follow = np.array([g[3] for g in GATEWAYS])[gw]
        n_links = np.where(follow == 0, n_all, np.minimum(n_all, 1 + view.rng.integers(0, np.maximum(follow, 1))))
        row, pos = repeat_ranges(n_links)
        # a gateway opening one or two links picks among them, not always the first
        start = np.where(follow[row] == 0, 0, view.rng.integers(0, n_all[row]))
        url = camps.url0[view.k[s]][row] + (start + pos) % n_all[row]
        ts = t[row] + pos * view.rng.integers(0, 4, len(row)) + view.rng.integers(0, 3, len(row))
        return append_events(q, send=s[row], ts=ts, url=url, ua=self.ua[gw][row], ip=self._ips(view, gw[row]),
                             type=np.full(len(row), M_GATEWAY_CLICK))


class ProxyPrefetch(Mechanism):
    name = "proxy_prefetch"
    summary = ("provider image proxies (Gmail, Yahoo) prefetch every delivered message of a share of users soon "
               "after delivery, read or not; the cache then hides the later human opens")
    source = ("Google: 'Images in Gmail are served through Google's image proxy' (support.google.com/mail/answer/"
              "145919); Yahoo Mail proxy (help.yahoo.com SLN28749); Litmus, 'Gmail image caching' (2013-2014)")
    default_strength = 0.3
    strength_meaning = "share of Gmail and Yahoo users whose messages the proxy prefetches"

    def setup(self, ctx: SetupContext) -> None:
        C = ctx.pop.contacts
        app = (C.client == CL["gmail_app"]) | (C.client == CL["yahoo_app"])
        self.prefetched = app & (ctx.rng.random(len(C)) < min(self.strength, 1.0))
        self.is_gmail = C.client == CL["gmail_app"]

    def opens(self, view, o: dict) -> dict:
        s = delivered_kept(view)
        s = s[self.prefetched[view.c[s]]]
        hidden = np.zeros(len(view.keep), dtype=bool)
        hidden[s] = True
        human = o["type"] == M_HUMAN
        o = {key: v[~(human & hidden[o["send"]])] for key, v in o.items()}  # the cache answers the reader
        gmail = self.is_gmail[view.c[s]]
        ua = np.where(gmail, view.ua_index["google"], view.ua_index["yahoo"])
        ip = np.where(gmail, pool_ips(view, "google", len(s)), pool_ips(view, "yahoo", len(s)))
        t = view.delivered_at[s] + view.rng.integers(5, 300, len(s))
        return append_events(o, send=s, ts=t, ua=ua, ip=ip, type=np.full(len(s), M_PROXY))


_APPLE_WEBKIT = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Mobile/15E148")
# iCloud Private Relay egress partners (Apple's published egress-ip-ranges.csv): Akamai, Cloudflare, Fastly
_CDN_BLOCKS = ("23.32.0.0/11", "104.16.0.0/13", "151.101.0.0/16")


class MppVariants(Mechanism):
    name = "mpp_variants"
    summary = ("Apple Mail Privacy Protection variants: full Apple WebKit user agent instead of bare Mozilla/5.0, "
               "prefetches from non-Apple CDN ranges hours later, MPP share falling with the address age")
    source = ("Apple, 'Mail Privacy Protection' (support.apple.com/guide/iphone/iphf084865c7); Apple iCloud "
              "Private Relay egress ranges (mask-api.icloud.com/egress-ip-ranges.csv); Litmus/Validity MPP reports")
    default_strength = 0.3
    strength_meaning = ("share of MPP users whose prefetch carries a full WebKit UA (and, half as many, fetched "
                        "from CDN ranges hours later); MPP among Apple Mail users falls by strength per 10 years of age")

    def setup(self, ctx: SetupContext) -> None:
        C = ctx.pop.contacts
        n = len(C)
        age_y = (int(ctx.bounds[-1]) - C.collected) / (YEAR_DAYS * DAY)
        apple = C.client == CL["apple_mail"]
        keep_p = np.clip(1 - self.strength * age_y / 10, 0.05, 1)  # young addresses carry the iPhones
        drop = apple & C.mpp_user & (ctx.rng.random(n) > keep_p)
        C.mpp_user[drop] = False  # these read with images on, on a Mac without MPP
        r = ctx.rng.random(n)
        self.webkit = C.mpp_user & (r < min(self.strength, 1.0))
        self.cdn = C.mpp_user & (r < min(self.strength, 1.0) / 2)
        self.ua = ctx.add_ua(_APPLE_WEBKIT)
        ctx.add_pool("apple_cdn", _CDN_BLOCKS, 2048)

    def opens(self, view, o: dict) -> dict:
        mpp = o["type"] == M_MPP
        who = view.c[o["send"]]
        ua = o["ua"].copy()
        ua[mpp & self.webkit[who]] = self.ua
        cdn = np.nonzero(mpp & self.cdn[who])[0]
        o = dict(o, ua=ua)
        ip, ts = o["ip"].copy(), o["ts"].copy()
        ip[cdn] = pool_ips(view, "apple_cdn", len(cdn))
        ts[cdn] += view.rng.integers(2 * HOUR, 10 * HOUR, len(cdn))
        o.update(ip=ip, ts=ts)
        return o
