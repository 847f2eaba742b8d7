"""The rows one month of sends leaves in the logs: opens, clicks, complaint reports, subscription
changes, orders; and the per-message truth the logs hide.

Called by ``month.simulate_month`` in a fixed order (the month's random stream is shared: see
``month``). A world's mechanisms may alter or add opens and clicks (``world.opens``,
``world.clicks`` on a ``MonthView``). Nothing here writes files."""

from __future__ import annotations

import numpy as np

from dlvstats.simulate.arrays import lognormal, repeat_ranges, row_starts
from dlvstats.simulate.batch import Batch, Changes, Delivery, Machines, Reactions, Reports
from dlvstats.simulate.params import ACCOUNTS, GIFT_SLOT_B
from dlvstats.simulate.state import MonthBuckets, MonthView, RunState
from dlvstats.simulate.tables import (
    CL,
    DAY,
    HOUR,
    INF_TS,
    K_GIFT,
    M_HUMAN,
    M_MPP,
    M_RESCAN,
    M_SCANNER,
    M_SCANNER_IMAGE,
    MINUTE,
    S_GIFT,
    SCANNERS,
    YEAR_DAYS,
)


def _pool_ip(b: Batch, name: str, n: int) -> np.ndarray:
    off, size = b.pop.ip_pools[name]
    return off + b.rng.integers(0, size, n)


def _device_ip(b: Batch, idx: np.ndarray) -> np.ndarray:
    """Index into the IP table: home (or office) connection, or a mobile network for phones."""
    C, c = b.C, b.c
    ips = c[idx].copy()
    mob = C.mobile[c[idx]] & ~C.corporate[c[idx]] & (b.rng.random(len(idx)) < 0.4)
    ips[mob] = _pool_ip(b, "mobile", int(mob.sum()))
    return ips


def _in_time_order(ev: dict, end: int) -> dict:
    """Events before the end of the period, in time order (stable)."""
    ok = ev["ts"] < end
    ev = {key: v[ok] for key, v in ev.items()}
    order = np.argsort(ev["ts"], kind="stable")
    return {key: v[order] for key, v in ev.items()}


def _record_machines(st: RunState, kind: int, nums: np.ndarray, types: np.ndarray) -> None:
    mach = types != M_HUMAN
    st.machine_kind.append(np.full(int(mach.sum()), kind, dtype=np.int8))
    st.machine_num.append(nums[mach])
    st.machine_type.append(types[mach].astype(np.int8))


def opens(b: Batch, dl: Delivery, mach: Machines, r: Reactions, keep: np.ndarray, msg: np.ndarray, ua_index: dict,
          out: MonthBuckets, st: RunState, world=None) -> tuple[dict, dict, MonthView | None]:
    """Human pixel loads and re-opens, MPP fetches, scanners' image fetches (then the world's);
    returns the open events (by candidate send), the scanner visits (the clicks follow their
    links) and the view the world saw."""
    rng, C, c, p = b.rng, b.C, b.c, b.p
    ev_send, ev_ts, ev_ua, ev_ip, ev_type = [], [], [], [], []
    ua_mpp = ua_index["mpp"]  # the proxies' own user agents come with the gmail_app / yahoo_app devices
    h = np.nonzero(r.pixel & keep)[0]
    h_client = C.client[c[h]]
    h_ua = C.open_ua[c[h]].astype(np.int64)
    h_ip = _device_ip(b, h)
    g = h_client == CL["gmail_app"]
    y = h_client == CL["yahoo_app"]
    h_ip[g] = _pool_ip(b, "google", int(g.sum()))
    h_ip[y] = _pool_ip(b, "yahoo", int(y.sum()))
    ev_send.append(h), ev_ts.append(r.open_at[h]), ev_ua.append(h_ua), ev_ip.append(h_ip)
    ev_type.append(np.full(len(h), M_HUMAN))
    # re-opens (Gmail's proxy caches the image: later opens are invisible)
    n_re = np.where(g, 0, rng.poisson(p.reopen_mean, len(h)))
    rrow, _ = repeat_ranges(n_re)
    ev_send.append(h[rrow]), ev_ts.append(r.open_at[h][rrow] + rng.exponential(DAY, len(rrow)).astype(np.int64))
    ev_ua.append(h_ua[rrow]), ev_ip.append(h_ip[rrow]), ev_type.append(np.full(len(rrow), M_HUMAN))
    mi_idx, re = mach.mpp_idx, mach.refetch
    mpp_keep = keep[mi_idx]
    for sends_i, times in ((mi_idx[mpp_keep], mach.mpp_t[mpp_keep]), (mi_idx[re][mpp_keep[re]], mach.mpp_t2[mpp_keep[re]])):
        ev_send.append(sends_i), ev_ts.append(times), ev_ua.append(np.full(len(sends_i), ua_mpp))
        ev_ip.append(_pool_ip(b, "apple", len(sends_i)))
        ev_type.append(np.full(len(sends_i), M_MPP))
    sc = _scanner_visits(b, mach, keep, ua_index)
    fetches = sc["fetches"]
    ev_send.append(sc["i"][fetches]), ev_ts.append(sc["t"][fetches] + rng.integers(0, 6, int(fetches.sum())))
    ev_ua.append(sc["ua"][fetches]), ev_ip.append(sc["ip"][fetches])
    ev_type.append(np.full(int(fetches.sum()), M_SCANNER_IMAGE))
    o = {"send": np.concatenate(ev_send), "ts": np.concatenate(ev_ts), "ua": np.concatenate(ev_ua),
         "ip": np.concatenate(ev_ip), "type": np.concatenate(ev_type)}
    view = None
    if world is not None:  # hook: a world's mechanisms alter or add open events
        view = MonthView(b.mi, world.month_rng(b.mi), p, b.pop, b.camps, ua_index, c, b.prov, b.k, keep, dl.alive,
                         dl.delivered_at, r.read, r.read_at, b.end)
        o = world.opens(view, o)
    o = _in_time_order(o, b.end)
    o_num = st.next_open + np.arange(len(o["ts"]))
    st.next_open += len(o_num)
    out.add("opens", o["ts"], {"msg": msg[o["send"]], "ua": o["ua"], "ip": o["ip"], "num": o_num})
    _record_machines(st, 0, o_num, o["type"])
    return o, sc, view


def _scanner_visits(b: Batch, mach: Machines, keep: np.ndarray, ua_index: dict) -> dict:
    """The kept scanner visits: send index, time, vendor's address and user agent, image fetch."""
    sc_keep = keep[mach.sc_idx]
    sc_i, sc_t, sc_rescan = mach.sc_idx[sc_keep], mach.scan_at[sc_keep], mach.rescan[sc_keep]
    vendor = b.C.scanner[b.c[sc_i]].astype(np.int64)
    sc_ip = np.empty(len(sc_i), dtype=np.int64)
    for v, (name, _, _, _) in enumerate(SCANNERS):
        sel = vendor == v
        sc_ip[sel] = _pool_ip(b, f"scanner:{name}", int(sel.sum()))
    return {"i": sc_i, "t": sc_t, "rescan": sc_rescan, "ip": sc_ip, "ua": np.array(ua_index["scanners"])[vendor],
            "fetches": np.array([s[3] for s in SCANNERS])[vendor]}


def clicks(b: Batch, r: Reactions, sc: dict, keep: np.ndarray, msg: np.ndarray, out: MonthBuckets, st: RunState,
           world=None, view: MonthView | None = None) -> dict:
    """Human content links, human unsubscribe links, scanners (every link) and their re-scans
    (then the world's); returns the click events by candidate send."""
    rng, C, c, camps, k = b.rng, b.C, b.c, b.camps, b.k
    cl_send, cl_ts, cl_url, cl_ua, cl_ip, cl_type = [], [], [], [], [], []
    hc = np.nonzero(r.clicked & keep)[0]
    n_links = 1 + rng.binomial(camps.n_content[k[hc]] - 1, b.p.extra_link_click_prob)
    row, pos = repeat_ranges(n_links)
    gaps = rng.exponential(60.0, len(row)).astype(np.int64) * (pos > 0)  # reading between two links
    cum = np.cumsum(gaps)
    hc_ts = r.first_click_at[hc][row] + cum - cum[row_starts(n_links)][row]
    hc_ip = _device_ip(b, hc)
    cl_send.append(hc[row]), cl_ts.append(hc_ts), cl_url.append(camps.url0[k[hc]][row] + pos)
    cl_ua.append(C.click_ua[c[hc]][row].astype(np.int64)), cl_ip.append(hc_ip[row])
    cl_type.append(np.full(len(row), M_HUMAN))
    uc = np.nonzero(r.unsub & r.via_link & keep)[0]
    cl_send.append(uc), cl_ts.append(r.unsub_click_at[uc]), cl_url.append(camps.url0[k[uc]] + camps.n_content[k[uc]])
    cl_ua.append(C.click_ua[c[uc]].astype(np.int64)), cl_ip.append(_device_ip(b, uc))
    cl_type.append(np.full(len(uc), M_HUMAN))
    sc_i = sc["i"]
    for sc_sel, shift, mtype in ((np.ones(len(sc_i), dtype=bool), None, M_SCANNER), (sc["rescan"], True, M_RESCAN)):
        ii = sc_i[sc_sel]
        nl = camps.n_content[k[ii]] + 1
        row, pos = repeat_ranges(nl)
        t0 = sc["t"][sc_sel]
        if shift:
            t0 = t0 + rng.integers(10 * MINUTE, 40 * MINUTE, len(ii))
        cl_send.append(ii[row]), cl_ts.append(t0[row] + rng.integers(0, 9, len(row)))
        cl_url.append(camps.url0[k[ii]][row] + pos), cl_ua.append(sc["ua"][sc_sel][row])
        cl_ip.append(sc["ip"][sc_sel][row])
        cl_type.append(np.full(len(row), mtype))
    q = {"send": np.concatenate(cl_send), "ts": np.concatenate(cl_ts), "url": np.concatenate(cl_url),
         "ua": np.concatenate(cl_ua), "ip": np.concatenate(cl_ip), "type": np.concatenate(cl_type)}
    if world is not None:  # hook: a world's mechanisms alter or add click events
        q = world.clicks(view, q)
    q = _in_time_order(q, b.end)
    q_num = st.next_click + np.arange(len(q["ts"]))
    st.next_click += len(q_num)
    out.add("clicks", q["ts"], {"msg": msg[q["send"]], "url": q["url"], "ua": q["ua"], "ip": q["ip"], "num": q_num})
    _record_machines(st, 1, q_num, q["type"])
    return q


def complaints(b: Batch, rep: Reports, keep: np.ndarray, msg: np.ndarray, out: MonthBuckets) -> None:
    """The complaint reports the sender receives."""
    cr = np.nonzero(rep.comp_obs & keep)[0]
    redacted = rep.channel[cr] == 0  # Yahoo's CFL redacts the recipient; the Message-ID identifies it
    out.add("complaints", rep.report_at[cr], {"msg": msg[cr], "contact": np.where(redacted, -1, b.c[cr]),
                                              "acc": b.acc[cr], "source": rep.channel[cr]})


def subscriptions(b: Batch, ch: Changes, out: MonthBuckets) -> None:
    """Unsubscribes, suppressions and gift moves, and the gift list B subscriptions of the moves."""
    C, k, rows, mc = b.C, b.k, ch.rows, ch.moved_contact
    sub_rows = {"account": C.account[rows["contact"]].astype(np.int64), "slot": rows["slot"],
                "contact": rows["contact"], "action": np.ones(len(rows["ts"]), dtype=np.int64),
                "source": rows["source"], "campaign": k[rows["send"]], "collected": np.full(len(rows["ts"]), -1)}
    out.add("subscriptions", rows["ts"], sub_rows)
    out.add("subscriptions", ch.moved_at, {"account": C.account[mc].astype(np.int64),
                                           "slot": np.full(len(mc), GIFT_SLOT_B), "contact": mc,
                                           "action": np.zeros(len(mc), dtype=np.int64),
                                           "source": np.full(len(mc), S_GIFT), "campaign": k[rows["send"][ch.moved]],
                                           "collected": np.full(len(mc), -1)})


def orders(b: Batch, r: Reactions, ch: Changes, out: MonthBuckets, st: RunState) -> None:
    """Orders after a human content click (gift re-registrants buy less), plus organic orders."""
    rng, C, c, p, keep = b.rng, b.C, b.c, b.p, ch.keep
    conv = np.array([a.conversion_per_click for a in ACCOUNTS])[b.acc] * np.where(
        ch.rereg_send, p.gift_buyer_mult, C.buyer_mult[c])
    buys = r.clicked & keep & (b.u() < conv)
    bi = np.nonzero(buys)[0]
    soon = rng.random(len(bi)) < 0.3
    o_delay = np.where(soon, rng.integers(120, HOUR, len(bi)), lognormal(rng, 1.5 * DAY, 1.2, len(bi))).astype(np.int64)
    order_ts = r.first_click_at[bi] + o_delay
    # a re-registrant who buys does so after filling in the gift form
    order_ts = np.where(ch.rereg_send[bi], np.maximum(order_ts, r.rereg_at[bi] + 60), order_ts)
    org_c, org_t = _organic_orders(b)
    all_oc = np.concatenate([c[bi], org_c])
    all_ot = np.concatenate([order_ts, org_t])
    all_acc = C.account[all_oc].astype(np.int64)
    all_camp = np.concatenate([b.k[bi], np.full(len(org_c), -1)])
    ok = all_ot < b.end
    all_oc, all_ot, all_acc, all_camp = all_oc[ok], all_ot[ok], all_acc[ok], all_camp[ok]
    median = np.array([a.order_median_eur for a in ACCOUNTS])[all_acc]
    cents = np.round(median * np.exp(0.6 * rng.standard_normal(len(all_oc))) * 100).astype(np.int64)
    onum = st.next_order + np.arange(len(all_oc))
    st.next_order += len(onum)
    out.add("orders", all_ot, {"acc": all_acc, "contact": all_oc, "num": onum, "cents": np.maximum(cents, 100),
                               "camp": all_camp})
    st.orders_contact.append(all_oc)
    st.orders_ts.append(all_ot)


def _organic_orders(b: Batch) -> tuple[np.ndarray, np.ndarray]:
    """Orders without a campaign, from subscribers whose mailbox lives, at each account's rate."""
    rng, C, m0, m1 = b.rng, b.C, b.m0, b.m1
    org_c, org_t = [], []
    for a, (lo, hi) in enumerate(b.pop.account_slices):
        sub_ok = ((C.member_from[lo:hi] <= m0) & (C.member_until[lo:hi] > m0)).any(axis=1)
        elig = lo + np.nonzero(sub_ok & C.checked[lo:hi] & (C.checked_until[lo:hi] > m0)
                               & (C.suppressed_at[lo:hi] > m0))[0]
        lam = ACCOUNTS[a].organic_orders_per_month * C.buyer_mult[elig]
        nb = rng.poisson(lam)
        rr, _ = repeat_ranges(nb)
        org_c.append(elig[rr])
        org_t.append(m0 + (rng.random(len(rr)) * (m1 - m0)).astype(np.int64))
    return np.concatenate(org_c), np.concatenate(org_t)


def message_truth(b: Batch, dl: Delivery, r: Reactions, rep: Reports, ch: Changes, msg: np.ndarray, o: dict,
                  q: dict, st: RunState) -> None:
    """The latent flags of each kept message (``truth_messages.parquet``, the truth accumulators)
    and the gift records: first human clicks and re-registrations of gift campaigns."""
    C, c, k, S, camps = b.C, b.c, b.k, len(b), b.camps
    K = np.nonzero(ch.keep)[0]

    def flag(sends: np.ndarray) -> np.ndarray:
        f = np.zeros(S, dtype=bool)
        f[sends] = True
        return f

    human_cl = q["type"] == M_HUMAN
    content = q["url"] < (camps.url0[k[q["send"]]] + camps.n_content[k[q["send"]]])
    has_human_click = flag(q["send"][human_cl & content])
    # age in whole years between the collection date and the send date (calendar days, UTC), which
    # is what SQL's date_diff('day', collected, sent_at) gives
    days = b.sent // DAY - C.collected[c] // DAY
    age_year = np.floor(days / YEAR_DAYS).astype(np.int64)
    st.truth_parts.append({
        "msg": msg[K], "acc": b.acc[K], "list": b.acc[K] * 2 + b.slot[K], "campaign": k[K], "kind": b.kind[K],
        "contact": c[K], "provider": b.prov[K], "age_year": age_year[K], "sent_at": b.sent[K], "delivered": dl.dlv[K],
        "bounce": np.where(dl.outcome_at[K] < b.end, dl.bounce[K], -1), "read": r.read[K],
        "pixel_loaded": flag(o["send"][o["type"] == M_HUMAN])[K],
        "images_off": C.images_off[c[K]], "plain_text": C.plain_text[c[K]], "mpp_user": C.mpp_user[c[K]],
        "mailbox_alive": dl.alive[K],
        "mpp": flag(o["send"][o["type"] == M_MPP])[K], "machine_open": flag(o["send"][o["type"] != M_HUMAN])[K],
        "scanner_protected": C.scanner[c[K]] >= 0,
        "scanned": flag(q["send"][~human_cl])[K], "human_click": has_human_click[K],
        "complained": r.comp[K], "complaint_source": np.where(rep.comp_obs[K], rep.channel[K], -1),
    })
    gk = K[b.kind[K] == K_GIFT]
    gclick = gk[has_human_click[gk]]
    first_hc = np.full(S, INF_TS, dtype=np.int64)
    hcm = human_cl & content
    np.minimum.at(first_hc, q["send"][hcm], q["ts"][hcm])
    st.gift_clickers.append(np.stack([k[gclick], c[gclick], first_hc[gclick], ch.rereg_send[gclick].astype(np.int64)],
                                     1))
    st.gift_rereg.append(np.stack([k[ch.rows["send"][ch.moved]], ch.moved_contact, ch.moved_at], 1))
