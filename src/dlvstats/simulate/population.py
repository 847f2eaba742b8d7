"""The recipients of a run, drawn once from their own random stream: one row per (account,
address) with its mailbox, reading environment, life cycle and propensities (``Contacts``), the
IP table events come from, and the subscription rows known in advance. Times are int64 epoch
seconds (``INF_TS`` = never)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlvstats.simulate.arrays import choice, ips_in_blocks
from dlvstats.simulate.params import (
    ACCOUNTS,
    GIFT_ACCOUNT,
    GIFT_SLOT_B,
    STALE_ACCOUNT,
    STALE_AGE_YEARS,
    STALE_SLOT,
    Params,
)
from dlvstats.simulate.tables import (
    APPLE_MPP_BLOCKS,
    BAD_DOMAIN,
    CL,
    CLIENT_DEVICES,
    CLIENT_MIX,
    CLIENTS,
    CORP_HOSTING,
    CORP_NAMES,
    CORP_PREFIXES,
    CORP_TLDS,
    CORPORATE_BLOCKS,
    CORPORATE_DELETE_LAG_MONTHS,
    CORPORATE_DELETE_PROB,
    CORPORATE_SHARE_OF_B2C_OTHER,
    DAY,
    DELETE_LAG_MONTHS,
    DELETE_PROB,
    FRENCH_ISPS,
    GOOGLE_PROXY_BLOCKS,
    GOOGLE_PROXY_UA,
    HOUR,
    IMAGES_OFF_BY_CLIENT,
    INF_TS,
    IS_FRENCH_ISP,
    ISP_BLOCKS,
    ISP_MARKET,
    MOBILE_BLOCKS,
    MONTH_S,
    MPP_UA,
    NEVER_READ,
    PROVIDER_DOMAINS,
    PROVIDER_MIX_B2B,
    PROVIDER_MIX_B2C,
    PROVIDERS,
    S_FORM,
    S_IMPORT,
    SCANNER_WEIGHTS,
    SCANNERS,
    TYPO_DOMAINS,
    USER_UNKNOWN,
    YAHOO_PROXY_BLOCKS,
    YAHOO_PROXY_UA,
    YEAR_DAYS,
    P,
)


@dataclass
class Contacts:
    """One row per (account, address). Times are int64 epoch seconds (INF_TS = never)."""

    account: np.ndarray
    provider: np.ndarray
    domain: np.ndarray  # index into Population.domains
    corporate: np.ndarray
    addr_num: np.ndarray
    client: np.ndarray
    open_ua: np.ndarray  # index into the UA table
    click_ua: np.ndarray
    mobile: np.ndarray
    mpp_user: np.ndarray
    images_off: np.ndarray
    plain_text: np.ndarray
    scanner: np.ndarray  # -1 or index into SCANNERS
    ers_receiver: np.ndarray  # the receiving side filters with the Trend Micro blocklist
    collected: np.ndarray
    member_from: np.ndarray  # (N, 2): joined list slot at, INF_TS if never
    member_until: np.ndarray  # (N, 2): unsubscribed at, INF_TS if still subscribed
    join_source: np.ndarray  # (N, 2) subscription source code of the join
    checked: np.ndarray  # a mailbox its owner reads at all
    checked_until: np.ndarray  # abandonment (address death) time
    deleted_at: np.ndarray  # from then on the address hard-bounces
    dead_kind: np.ndarray  # USER_UNKNOWN or BAD_DOMAIN
    reads_until: np.ndarray  # early silence
    read_prop: np.ndarray
    click_prop: np.ndarray
    plugin: np.ndarray  # Signal Spam plugin user
    home_ip: np.ndarray
    last_read: np.ndarray
    complained_at: np.ndarray
    suppressed_at: np.ndarray
    gift_cohort: np.ndarray
    buyer_mult: np.ndarray
    stale: np.ndarray

    def __len__(self) -> int:
        return len(self.account)


@dataclass
class Population:
    contacts: Contacts
    ip_table: np.ndarray  # uint32: every IP an event can come from; the first len(contacts) are home IPs
    ip_pools: dict  # name -> (offset, size) in ip_table: mobile carriers, proxies, scanners
    domains: list[str]
    account_slices: list[tuple[int, int]]
    signup_rows: dict  # precomputed subscription rows (imports and sign-ups)
    stale_import_at: int


def ua_table() -> tuple[list[str], dict]:
    uas: list[str] = []
    index: dict[str, int] = {}

    def ua(s: str) -> int:
        if s not in index:
            index[s] = len(uas)
            uas.append(s)
        return index[s]

    ua(MPP_UA)
    ua(GOOGLE_PROXY_UA)
    ua(YAHOO_PROXY_UA)
    devices = {c: [(ua(o), ua(k), m) for o, k, m in CLIENT_DEVICES[c]] for c in CLIENTS}
    scanners = [ua(s[1]) for s in SCANNERS]
    return uas, {"devices": devices, "scanners": scanners, "mpp": index[MPP_UA],
                 "google": index[GOOGLE_PROXY_UA], "yahoo": index[YAHOO_PROXY_UA]}


def build_population(rng: np.random.Generator, p: Params, contacts: int, bounds: np.ndarray,
                     ua_index: dict) -> Population:
    """Every (account, address) of the run: the initial bases, the stale import and the sign-ups
    of the period, with their mailbox, reading environment, life cycle and propensities. The steps
    draw from ``rng`` in this order; changing it changes every output file."""
    start, end = int(bounds[0]), int(bounds[-1])
    period_s = end - start
    stale_import_at = int(end - min(p.stale_import_days_before_end * DAY, 0.6 * period_s))
    stale_import_at = stale_import_at - stale_import_at % DAY + 8 * HOUR  # an import during office hours
    dom = _domains(rng, contacts, start, period_s)
    who = _who(rng, p, contacts, start, end, stale_import_at)
    account, is_base = who["account"], who["is_base"]
    acct_b2b = np.array([s.segment == "b2b" for s in ACCOUNTS])[account]
    addr = _addresses(rng, p, dom, acct_b2b, is_base)
    env = _reading_environment(rng, p, addr, dom, acct_b2b, ua_index)
    home_ip = _home_ips(rng, addr, dom)
    life = _life_cycle(rng, p, who, addr, dom, acct_b2b, start)
    prop = _propensities(rng, p, who, addr, life, start)
    n = len(account)
    on, join, source = who["on"], who["join"], who["source"]
    addr_num = (100000 + rng.permutation(max(10 * n, 900000))[:n]).astype(np.int64)
    ip_table, ip_pools = _ip_table(rng, home_ip)
    c = Contacts(account=account, provider=addr["provider"], domain=addr["domain"], corporate=addr["corporate"],
                 addr_num=addr_num, **env, collected=who["collected"],
                 member_from=np.where(on, join[:, None], INF_TS).astype(np.int64),
                 member_until=np.full((n, 2), INF_TS, dtype=np.int64),
                 join_source=np.where(on, source[:, None], -1).astype(np.int8), **life, **prop, home_ip=home_ip,
                 complained_at=np.full(n, INF_TS, dtype=np.int64), suppressed_at=np.full(n, INF_TS, dtype=np.int64),
                 gift_cohort=who["gift"], buyer_mult=np.where(who["gift"], p.gift_buyer_mult, 1.0).astype(np.float32),
                 stale=who["stale"])
    slices, lo = [], 0
    for a in range(len(ACCOUNTS)):
        hi = lo + int((account == a).sum())
        slices.append((lo, hi))
        lo = hi
    return Population(contacts=c, ip_table=ip_table, ip_pools=ip_pools, domains=dom["names"], account_slices=slices,
                      signup_rows=_signup_rows(who), stale_import_at=stale_import_at)


def _domains(rng, contacts: int, start: int, period_s: int) -> dict:
    """Consumer providers' domains, typos, then a pool of company domains with their hosting,
    egress address, blocklist filtering and (for a few) the death of the domain."""
    domains: list[str] = []
    prov_domains: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for prov, entries in PROVIDER_DOMAINS.items():
        ids = np.arange(len(domains), len(domains) + len(entries))
        domains += [d for d, _ in entries]
        prov_domains[prov] = (ids, np.array([w for _, w in entries]))
    typo_ids = np.arange(len(domains), len(domains) + len(TYPO_DOMAINS))
    domains += list(TYPO_DOMAINS)
    n_corp = int(max(60, contacts // 60))
    combos = rng.permutation(len(CORP_PREFIXES) * len(CORP_NAMES) * len(CORP_TLDS))
    combos = np.resize(combos, n_corp)
    corp_names = []
    for i, cidx in enumerate(combos):
        pre, rest = divmod(int(cidx), len(CORP_NAMES) * len(CORP_TLDS))
        name, tld = divmod(rest, len(CORP_TLDS))
        suffix = "" if i < len(CORP_PREFIXES) * len(CORP_NAMES) * len(CORP_TLDS) else str(i)
        corp_names.append(f"{CORP_PREFIXES[pre]}-{CORP_NAMES[name]}{suffix}.{CORP_TLDS[tld]}")
    corp_first = len(domains)
    domains += corp_names
    return {
        "names": domains, "prov_domains": prov_domains, "typo_ids": typo_ids, "corp_first": corp_first,
        "corp_weight": 1.0 / np.arange(1, n_corp + 1) ** 0.8,  # a few big companies, many small ones
        "corp_hosting": choice(rng, [w for _, w in CORP_HOSTING], n_corp),
        "corp_egress": ips_in_blocks(rng, CORPORATE_BLOCKS, n_corp),
        "corp_ers": rng.random(n_corp) < 0.30,
        "corp_dead_at": np.where(rng.random(n_corp) < 0.03,
                                 start + (rng.random(n_corp) * period_s).astype(np.int64), INF_TS),
    }


def _who(rng, p: Params, contacts: int, start: int, end: int, stale_import_at: int) -> dict:
    """Per account: the initial base (collected over up to 13 years), the stale import and the
    sign-ups of the period (forms; B2B also trade-show imports with an older collection)."""
    period_s = end - start
    oldest = end - int(13 * YEAR_DAYS * DAY)  # addresses collected over up to 13 years before the end
    chunks = []
    for a, spec in enumerate(ACCOUNTS):
        n_acct = round(contacts * spec.contact_share)
        chunks.append(_initial_base(rng, p, a, n_acct, start, period_s, oldest, stale_import_at))
        n_sign = int(rng.poisson(p.signup_rate_per_month * n_acct * (period_s / MONTH_S)))
        if a == STALE_ACCOUNT:
            n_sign = int(rng.poisson(p.signup_rate_per_month * n_acct * 0.2 * (period_s / MONTH_S)))
        slot_w = np.array([ls.signup_share for ls in spec.lists])
        sslot = choice(rng, slot_w, n_sign)
        son = np.zeros((n_sign, 2), dtype=bool)
        son[np.arange(n_sign), sslot] = True
        sjoin = start + (rng.random(n_sign) * period_s).astype(np.int64)
        ssource = np.full(n_sign, S_FORM)
        scollected = sjoin.copy()
        if spec.segment == "b2b":
            imp = rng.random(n_sign) < 0.3
            ssource[imp] = S_IMPORT
            scollected[imp] = sjoin[imp] - (rng.random(int(imp.sum())) * 60 * DAY).astype(np.int64) - DAY
        chunks.append({"account": a, "n": n_sign, "on": son, "join": sjoin, "collected": scollected, "source": ssource,
                       "stale": np.zeros(n_sign, dtype=bool), "base": False, "gift": np.zeros(n_sign, dtype=bool)})
    cat = lambda key: np.concatenate([c[key] for c in chunks])
    return {"account": np.concatenate([np.full(c["n"], c["account"], dtype=np.int16) for c in chunks]),
            "is_base": np.concatenate([np.full(c["n"], c["base"]) for c in chunks]),
            "on": np.concatenate([c["on"] for c in chunks]), "join": cat("join"), "collected": cat("collected"),
            "source": cat("source"), "stale": cat("stale"), "gift": cat("gift")}


def _initial_base(rng, p: Params, a: int, n_acct: int, start: int, period_s: int, oldest: int,
                  stale_import_at: int) -> dict:
    """Account a's base at the start: its lists, collection age (recent sign-ups plus a long tail
    of old addresses), the onboarding import; the stale account's archive joins at its import."""
    spec = ACCOUNTS[a]
    n_lists = len(spec.lists)
    shares = np.array([ls.member_share for ls in spec.lists])
    if spec.exclusive_lists:
        base_slot = choice(rng, shares, n_acct)
        on = np.zeros((n_acct, 2), dtype=bool)
        on[np.arange(n_acct), base_slot] = True
    else:
        on = np.zeros((n_acct, 2), dtype=bool)
        on[:, 0] = True
        if n_lists > 1:
            on[:, 1] = rng.random(n_acct) < shares[1]
    stale = np.zeros(n_acct, dtype=bool)
    if a == STALE_ACCOUNT:
        stale = on[:, STALE_SLOT]
    max_age = max(13 * YEAR_DAYS * DAY - period_s, YEAR_DAYS * DAY)
    recent = rng.random(n_acct) < p.base_recent_share
    age = np.where(recent, rng.random(n_acct) * 2 * YEAR_DAYS * DAY, rng.random(n_acct) * max_age)
    collected = (start - age).astype(np.int64)
    join = start + (rng.random(n_acct) * 36 * HOUR).astype(np.int64)  # onboarding import at the ESP
    if stale.any():
        ns = int(stale.sum())
        join[stale] = stale_import_at + (rng.random(ns) * HOUR).astype(np.int64)
        collected[stale] = np.maximum(
            oldest, join[stale] - (rng.uniform(*STALE_AGE_YEARS, ns) * YEAR_DAYS * DAY).astype(np.int64))
    source = np.full(n_acct, S_IMPORT)
    return {"account": a, "n": n_acct, "on": on, "join": join, "collected": collected, "source": source,
            "stale": stale, "base": True, "gift": (a == GIFT_ACCOUNT) & on[:, GIFT_SLOT_B]}


def _addresses(rng, p: Params, dom: dict, acct_b2b: np.ndarray, is_base: np.ndarray) -> dict:
    """Provider and domain of each address (companies behind "other"); invalid sign-ups: half a
    typo in the domain (5.1.2), half in the mailbox name (5.1.1)."""
    n = len(acct_b2b)
    provider = np.empty(n, dtype=np.int8)
    for seg_mask, mix in ((~acct_b2b, PROVIDER_MIX_B2C), (acct_b2b, PROVIDER_MIX_B2B)):
        idx = np.nonzero(seg_mask)[0]
        provider[idx] = np.array([P[k] for k in mix])[choice(rng, list(mix.values()), len(idx))]
    domain = np.empty(n, dtype=np.int32)
    corporate = np.zeros(n, dtype=bool)
    for prov, (ids, w) in dom["prov_domains"].items():
        idx = np.nonzero(provider == P[prov])[0]
        domain[idx] = ids[choice(rng, w, len(idx))]
        if prov == "other":
            corp = idx[acct_b2b[idx] | (rng.random(len(idx)) < CORPORATE_SHARE_OF_B2C_OTHER)]
            corporate[corp] = True
            domain[corp] = dom["corp_first"] + choice(rng, dom["corp_weight"], len(corp))
    invalid = (~is_base) & (rng.random(n) < p.invalid_signup_share)
    typo_domain = invalid & (rng.random(n) < 0.5) & ~corporate
    typo_ids = dom["typo_ids"]
    domain[typo_domain] = typo_ids[rng.integers(0, len(typo_ids), int(typo_domain.sum()))]
    provider[typo_domain] = P["other"]
    return {"provider": provider, "domain": domain, "corporate": corporate, "invalid": invalid,
            "typo_domain": typo_domain, "corp_idx": np.where(corporate, domain - dom["corp_first"], 0)}


def _reading_environment(rng, p: Params, addr: dict, dom: dict, acct_b2b: np.ndarray, ua_index: dict) -> dict:
    """Mail client and device (user agents), MPP, images off, plain text, link scanner, and whether
    the receiving side filters with the blocklist."""
    provider, corporate, corp_idx = addr["provider"], addr["corporate"], addr["corp_idx"]
    n = len(provider)
    group = np.empty(n, dtype=object)
    for prov in PROVIDERS:
        group[provider == P[prov]] = prov if prov in ("gmail", "microsoft", "yahoo", "apple") else (
            "isp" if P[prov] in FRENCH_ISPS or prov == "gmx" else "other")
    group[corporate] = np.array([h for h, _ in CORP_HOSTING], dtype=object)[dom["corp_hosting"][corp_idx[corporate]]]
    client = np.empty(n, dtype=np.int8)
    for g, mix in CLIENT_MIX.items():
        idx = np.nonzero(group == g)[0]
        client[idx] = choice(rng, mix, len(idx))
    open_ua = np.empty(n, dtype=np.int16)
    click_ua = np.empty(n, dtype=np.int16)
    mobile = np.empty(n, dtype=bool)
    for ci, cname in enumerate(CLIENTS):
        idx = np.nonzero(client == ci)[0]
        devs = ua_index["devices"][cname]
        pick = rng.integers(0, len(devs), len(idx))
        open_ua[idx] = np.array([d[0] for d in devs])[pick]
        click_ua[idx] = np.array([d[1] for d in devs])[pick]
        mobile[idx] = np.array([d[2] for d in devs])[pick]
    mpp_user = (client == CL["apple_mail"]) & (rng.random(n) < p.mpp_share_of_apple_mail)
    images_off = rng.random(n) < IMAGES_OFF_BY_CLIENT[client]
    plain_share = np.where(corporate, p.plain_text_share_corporate, p.plain_text_share_b2c)
    plain_text = (~mpp_user) & (rng.random(n) < plain_share)
    images_off &= ~plain_text & ~mpp_user
    scan_share = np.where(corporate, np.where(acct_b2b, p.scanner_share_b2b, p.scanner_share_corporate_b2c),
                          p.scanner_share_consumer)
    scanner = np.where(rng.random(n) < scan_share, choice(rng, SCANNER_WEIGHTS, n), -1).astype(np.int8)
    ers_receiver = np.where(corporate, dom["corp_ers"][corp_idx],
                            np.isin(provider, [P["sfr"], P["laposte"], P["bouygues"], P["other"]])
                            & (rng.random(n) < 0.6))
    return {"client": client, "open_ua": open_ua, "click_ua": click_ua, "mobile": mobile, "mpp_user": mpp_user,
            "images_off": images_off, "plain_text": plain_text, "scanner": scanner, "ers_receiver": ers_receiver}


def _home_ips(rng, addr: dict, dom: dict) -> np.ndarray:
    """The subscriber's ISP connection (the address's ISP when it is one), or the company's egress."""
    provider, corporate = addr["provider"], addr["corporate"]
    n = len(provider)
    home_ip = np.empty(n, dtype=np.uint32)
    isp_of = np.array([ISP_MARKET[i][0] for i in choice(rng, [w for _, w in ISP_MARKET], n)], dtype=object)
    for prov in ("orange", "free", "sfr", "bouygues"):
        isp_of[provider == P[prov]] = prov
    for isp, blocks in ISP_BLOCKS.items():
        idx = np.nonzero(isp_of == isp)[0]
        home_ip[idx] = ips_in_blocks(rng, blocks, len(idx))
    home_ip[corporate] = dom["corp_egress"][addr["corp_idx"][corporate]]
    return home_ip


def _life_cycle(rng, p: Params, who: dict, addr: dict, dom: dict, acct_b2b: np.ndarray, start: int) -> dict:
    """Checked mailbox, abandonment and deletion, conditioned so that maintained lists hold no
    address deleted before the start (the stale list's cleaning missed some); then the interest
    lapse and the early silence of new sign-ups."""
    account, collected, join, stale, is_base = who["account"], who["collected"], who["join"], who["stale"], who["is_base"]
    provider, corporate, invalid = addr["provider"], addr["corporate"], addr["invalid"]
    n = len(account)
    active_share = np.array([s.active_share for s in ACCOUNTS])[account]
    hazard = np.where(corporate | acct_b2b, p.abandon_hazard_b2b_per_month, p.abandon_hazard_b2c_per_month)
    del_prob = np.where(corporate, CORPORATE_DELETE_PROB, DELETE_PROB[provider])
    del_lag = np.where(corporate, CORPORATE_DELETE_LAG_MONTHS, DELETE_LAG_MONTHS[provider]) * MONTH_S
    checked = np.zeros(n, dtype=bool)
    checked_until = np.zeros(n, dtype=np.int64)
    deleted_at = np.zeros(n, dtype=np.int64)
    todo = np.arange(n)
    for _ in range(60):  # rejection sampling: maintained lists hold no address deleted before the start
        m = len(todo)
        if m == 0:
            break
        ch = rng.random(m) < active_share[todo]
        life = rng.exponential(MONTH_S / hazard[todo])
        cu = np.where(ch, collected[todo] + life, collected[todo]).astype(np.int64)
        dl = np.where(rng.random(m) < del_prob[todo], cu + del_lag[todo] * rng.uniform(0.6, 1.4, m), INF_TS)
        checked[todo], checked_until[todo], deleted_at[todo] = ch, cu, dl.astype(np.int64)
        lim = np.where(stale[todo], join[todo], start)
        bad = is_base[todo] & (deleted_at[todo] <= lim)
        bad &= ~(stale[todo] & (rng.random(m) >= p.stale_cleaned_share))  # the cleaning missed some
        todo = todo[bad]
    deleted_at[todo] = INF_TS
    dead_kind = np.full(n, USER_UNKNOWN, dtype=np.int8)
    corp_death = np.where(corporate, dom["corp_dead_at"][addr["corp_idx"]], INF_TS)
    dead_kind[corp_death < deleted_at] = BAD_DOMAIN
    deleted_at = np.minimum(deleted_at, corp_death)
    deleted_at[invalid] = collected[invalid]
    dead_kind[addr["typo_domain"]] = BAD_DOMAIN
    checked[invalid] = False
    checked_until[invalid] = collected[invalid]
    # interest lapses while the mailbox lives on (still fetched by MPP, still able to complain)
    lapse = collected + rng.exponential(MONTH_S / p.interest_lapse_per_month, n)
    reads_until = np.minimum(checked_until, lapse).astype(np.int64)
    silent = (~is_base) & checked & (rng.random(n) < p.early_silence_share)
    reads_until[silent] = np.minimum(reads_until[silent],
                                     join[silent] + rng.exponential(p.early_silence_days * DAY, int(silent.sum())))
    return {"checked": checked, "checked_until": checked_until, "deleted_at": deleted_at, "dead_kind": dead_kind,
            "reads_until": reads_until}


def _propensities(rng, p: Params, who: dict, addr: dict, life: dict, start: int) -> dict:
    """Read and click propensities, independent of the rendering so that clicks are independent
    of images; the Signal Spam plugin; the base's recent reading history (for inactivity)."""
    account, collected, stale, is_base = who["account"], who["collected"], who["stale"], who["is_base"]
    checked = life["checked"]
    n = len(account)
    read_prop = np.where(checked, rng.beta(*p.read_beta, n), 0.0).astype(np.float32)
    read_prop *= np.array([s.read_mult for s in ACCOUNTS], dtype=np.float32)[account]
    click_prop = rng.beta(*p.click_beta, n).astype(np.float32)
    plugin = IS_FRENCH_ISP[addr["provider"]] & (rng.random(n) < p.signal_spam_plugin_share)
    # readers of the base read roughly every month or two
    tenure_m = (start - collected) / MONTH_S
    m_t = p.tenure_plateau + (1 - p.tenure_plateau) * np.exp(-(np.maximum(tenure_m, 0) / p.tenure_scale_months) ** 2)
    gap = 30 * DAY / (4.0 * np.maximum(read_prop * m_t, 0.01))
    last_read = np.where(checked, np.minimum(start, life["reads_until"]) - rng.exponential(gap),
                         NEVER_READ).astype(np.int64)
    last_read = np.where(last_read < collected, NEVER_READ, last_read)
    last_read[stale] = NEVER_READ  # not mailed for years: nobody remembers the brand
    last_read[~is_base] = NEVER_READ
    return {"read_prop": read_prop, "click_prop": click_prop, "plugin": plugin, "last_read": last_read}


def _ip_table(rng, home_ip: np.ndarray) -> tuple[np.ndarray, dict]:
    """Every address an event can come from: the home IPs, then a finite fleet of addresses per
    proxy or network, like the real ones (``ip_pools``: name -> (offset, size))."""
    pools = [("mobile", MOBILE_BLOCKS, None, 4096), ("google", GOOGLE_PROXY_BLOCKS, None, 512),
             ("yahoo", YAHOO_PROXY_BLOCKS, None, 256),
             ("apple", [b for b, _ in APPLE_MPP_BLOCKS], [w for _, w in APPLE_MPP_BLOCKS], 4096)]
    pools += [(f"scanner:{name}", blocks, None, 256) for name, _, blocks, _ in SCANNERS]
    ip_parts, ip_pools, offset = [home_ip], {}, len(home_ip)
    for name, blocks, weights, size in pools:
        ip_parts.append(ips_in_blocks(rng, blocks, size, weights=weights))
        ip_pools[name] = (offset, size)
        offset += size
    return np.concatenate(ip_parts), ip_pools


def _signup_rows(who: dict) -> dict:
    """Subscription rows of every join known in advance (imports, forms); collected_at only on
    imports, where the list owner knows an earlier collection date."""
    on, join, source, collected = who["on"], who["join"], who["source"], who["collected"]
    ci, si = np.nonzero(on)
    return {"ts": join[ci], "account": who["account"][ci].astype(np.int64), "slot": si.astype(np.int64),
            "contact": ci, "action": np.zeros(len(ci), dtype=np.int64), "source": source[ci].astype(np.int64),
            "campaign": np.full(len(ci), -1), "collected": np.where(source[ci] == S_IMPORT, collected[ci], -1)}
