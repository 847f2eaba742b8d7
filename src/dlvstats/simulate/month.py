"""TODO"""

from __future__ import annotations

import numpy as np

from dlvstats.simulate.arrays import first_per_group, lognormal, paris_offset, repeat_ranges, row_starts
from dlvstats.simulate.campaigns import Campaigns
from dlvstats.simulate.params import (
    ACCOUNTS,
    ALL_SENDING_IPS,
    GIFT_ACCOUNT,
    GIFT_SLOT_B,
    SHARED_IP_CODE,
    Params,
)
from dlvstats.simulate.population import Contacts, Population
from dlvstats.simulate.state import MonthBuckets, MonthView, RunState
from dlvstats.simulate.tables import (
    BAD_DOMAIN,
    BLOCKLISTED,
    CL,
    CONTENT,
    DAY,
    DEFER_PROB,
    DEFERRAL,
    EXPIRED,
    HOUR,
    INF_TS,
    IS_BIG_PROVIDER,
    IS_FRENCH_ISP,
    IS_THROTTLING,
    K_AUTO,
    K_GIFT,
    K_REENGAGE,
    M_HUMAN,
    M_MPP,
    M_RESCAN,
    M_SCANNER,
    M_SCANNER_IMAGE,
    MAILBOX_FULL,
    MINUTE,
    MONTH_S,
    NP_,
    REPUTATION,
    S_BOUNCE,
    S_COMPLAINT,
    S_FORM,
    S_GIFT,
    S_LINK,
    S_MOVED,
    S_USER,
    SCANNERS,
    ST_BOUNCED,
    ST_DEFERRED,
    ST_DELIVERED,
    ST_SENT,
    USER_UNKNOWN,
    YEAR_DAYS,
    P,
)


def _mpp_fetch_times(rng, p: Params, delivered_at: np.ndarray) -> np.ndarray:
    """Apple's proxy: 30% within 15 min of delivery, 70% in the next night window 20:00-07:00 local."""
    n = len(delivered_at)
    soon = delivered_at + (rng.random(n) * 15 * MINUTE).astype(np.int64)
    off = paris_offset(delivered_at)
    local = delivered_at + off
    day0 = (local // DAY) * DAY
    tod = local - day0
    lo = np.where(tod < 5 * HOUR, local, np.where(tod < 20 * HOUR, day0 + 20 * HOUR, local))
    hi = np.where(tod < 5 * HOUR, day0 + 7 * HOUR, day0 + 31 * HOUR)
    night = lo + (rng.random(n) * (hi - lo)).astype(np.int64) - off
    return np.where(rng.random(n) < p.mpp_soon_share, soon, np.maximum(night, delivered_at + 1))


def simulate_month(mi: int, rng: np.random.Generator, p: Params, pop: Population, camps: Campaigns,
                    bounds: np.ndarray, out: MonthBuckets, st: RunState, ua_index: dict, world=None) -> None:
    C = pop.contacts
    m0, m1, end = int(bounds[mi]), int(bounds[mi + 1]), int(bounds[-1])
    lag = (np.array([a.honour_lag_hours for a in ACCOUNTS]) * HOUR).astype(np.int64)
    n_ips = np.array([len(a.sending_ips) for a in ACCOUNTS])
    ip_codes = [np.array([ALL_SENDING_IPS.index(ip) for ip in a.sending_ips]) for a in ACCOUNTS]
    listed_at, delisted_at = st.listing.get("listed_at", INF_TS), st.listing.get("delisted_at", INF_TS)

    # ---- candidate sends of every campaign of the month
    in_month = np.nonzero((camps.start >= m0) & (camps.start < m1))[0]
    parts_c, parts_k, parts_t = [], [], []
    for k in in_month:
        a, s, kind, t0 = int(camps.account[k]), int(camps.slot[k]), int(camps.kind[k]), int(camps.start[k])
        lo, hi = pop.account_slices[a]
        if kind == K_AUTO:
            j = C.member_from[lo:hi, s]
            idx = lo + np.nonzero((j >= m0) & (j < m1) & (C.join_source[lo:hi, s] == S_FORM))[0]
            sent = C.member_from[idx, s] + rng.integers(60, 900, len(idx))
        else:
            ok = (C.member_from[lo:hi, s] <= t0) & (t0 < C.member_until[lo:hi, s] + lag[a])
            ok &= t0 < C.suppressed_at[lo:hi] + lag[a]
            if kind == K_REENGAGE:
                # inactive: nothing read for 6 months (a newcomer who has read nothing yet is not)
                ok &= np.maximum(C.last_read[lo:hi], C.collected[lo:hi]) < t0 - 180 * DAY
            idx = lo + np.nonzero(ok)[0]
            rate = p.send_rate_per_ip * n_ips[a]
            sent = t0 + (rng.permutation(len(idx)) / rate).astype(np.int64)
        parts_c.append(idx.astype(np.int64))
        parts_k.append(np.full(len(idx), k, dtype=np.int64))
        parts_t.append(sent.astype(np.int64))
    if not parts_c:
        return
    c = np.concatenate(parts_c)
    k = np.concatenate(parts_k)
    sent = np.concatenate(parts_t)
    order = np.argsort(sent, kind="stable")
    c, k, sent = c[order], k[order], sent[order]
    S = len(c)
    acc = camps.account[k].astype(np.int64)
    slot = camps.slot[k].astype(np.int64)
    kind = camps.kind[k]
    prov = C.provider[c].astype(np.int64)
    u = lambda: rng.random(S)

    ip = np.empty(S, dtype=np.int64)
    for a in range(len(ACCOUNTS)):
        sel = acc == a
        ip[sel] = ip_codes[a][(rng.random(int(sel.sum())) * n_ips[a]).astype(np.int64)]
    on_shared = ip == SHARED_IP_CODE

    # ---- delivery: bounces, deferrals, delays
    bounce = np.full(S, -1, dtype=np.int64)
    free = np.ones(S, dtype=bool)

    def assign(mask, code):
        nonlocal free
        m = free & mask
        bounce[m] = code
        free &= ~m

    dead = sent >= C.deleted_at[c]
    assign(dead & (C.dead_kind[c] == BAD_DOMAIN), BAD_DOMAIN)
    assign(dead, USER_UNKNOWN)
    listed = on_shared & (sent >= listed_at) & (sent < delisted_at)
    assign(listed & C.ers_receiver[c] & (u() < p.blocklist_block_prob), BLOCKLISTED)
    trouble = on_shared & (sent >= listed_at) & (sent < listed_at + p.reputation_window_days * DAY)
    big = IS_BIG_PROVIDER[prov]
    assign(trouble & big & (u() < p.reputation_block_prob), REPUTATION)
    assign(u() < np.where(C.corporate[c], p.content_block_corporate, p.content_block_other), CONTENT)
    abandoned_isp = IS_FRENCH_ISP[prov] & (sent > C.checked_until[c] + 180 * DAY) & C.checked[c]
    assign((abandoned_isp & (u() < p.mailbox_full_prob_abandoned)) | (u() < p.mailbox_full_prob), MAILBOX_FULL)
    defer_p = DEFER_PROB[prov]
    defer_p = np.where(trouble & big, defer_p * 4, defer_p)
    deferred = free & (u() < defer_p)
    expired = deferred & (u() < p.defer_expire_share)
    assign(expired, EXPIRED)
    delay = lognormal(rng, 2.0, 0.9, S)  # seconds from hand-off to acceptance
    throttled = np.nonzero(IS_THROTTLING[prov] & (u() < 0.15))[0]
    delay[throttled] += lognormal(rng, 300.0, 1.0, len(throttled))
    di = np.nonzero(deferred)[0]
    delay[di] += np.minimum(lognormal(rng, 3000.0, 1.2, len(di)), 70 * HOUR)  # retried after 4xx
    delivered = bounce < 0
    outcome_at = sent + np.where(delivered, delay, rng.uniform(1, 40, S)).astype(np.int64) + 1
    outcome_at = np.where(bounce == EXPIRED, sent + 72 * HOUR, outcome_at)
    delivered_at = np.where(delivered, outcome_at, -1)
    dlv = delivered & (delivered_at < end)  # delivered as far as the data can tell
    alive = dlv & (delivered_at < C.checked_until[c])  # someone still looks at this mailbox

    # ---- Apple MPP: every delivered message of an active MPP user is fetched, read or not
    mpp_msg = alive & C.mpp_user[c]
    mi_idx = np.nonzero(mpp_msg)[0]
    mpp_t = _mpp_fetch_times(rng, p, delivered_at[mi_idx])
    re = rng.random(len(mi_idx)) < p.mpp_refetch_share
    mpp_t2 = mpp_t[re] + rng.integers(HOUR, 20 * HOUR, int(re.sum()))

    # ---- link scanners: every link, unsubscribe included, 1-120 s after delivery
    scanned = dlv & (C.scanner[c] >= 0) & (u() < p.scan_prob_per_message)
    sc_idx = np.nonzero(scanned)[0]
    scan_at = delivered_at[sc_idx] + rng.integers(1, 110, len(sc_idx))
    rescan = rng.random(len(sc_idx)) < p.rescan_share

    # ---- latent complaints (need an owner who looks at the mailbox; not necessarily a read)
    age_y = (sent - C.collected[c]) / (YEAR_DAYS * DAY)
    inactive_days = (sent - np.maximum(C.last_read[c], C.collected[c])) / DAY  # since the last read, or since collection
    on_list_days = (sent - C.member_from[c, slot]) / DAY
    pc = (p.complaint_base * (1 + p.complaint_age_slope * age_y)
          * np.where(inactive_days >= 365, p.complaint_inactive_mult, 1.0)
          * np.array([a.complaint_mult for a in ACCOUNTS])[acc]
          * np.where(C.stale[c], p.stale_complaint_mult, 1.0)
          * np.where(on_list_days < 30, p.complaint_new_mult, 1.0))
    comp = alive & (delivered_at < C.complained_at[c]) & (u() < pc)
    ci = np.nonzero(comp)[0]
    comp_at = np.full(S, INF_TS, dtype=np.int64)
    comp_at[ci] = delivered_at[ci] + lognormal(rng, 5 * HOUR, 1.2, len(ci)).astype(np.int64)
    comp &= comp_at < end
    first_comp = np.full(len(C), INF_TS, dtype=np.int64)
    np.minimum.at(first_comp, c[comp], comp_at[comp])
    comp &= comp_at == first_comp[c]
    spam_folder_from = np.minimum(C.complained_at[c], first_comp[c])

    # ---- human reads (true), then what the pixel and the links show of them
    tenure_m = np.maximum(sent - C.collected[c], 0) / MONTH_S
    m_t = p.tenure_plateau + (1 - p.tenure_plateau) * np.exp(-(tenure_m / p.tenure_scale_months) ** 2)
    g_d = np.where(inactive_days <= p.inactivity_grace_days, 1.0,
                   p.inactivity_floor + (1 - p.inactivity_floor)
                   * np.exp(-(inactive_days - p.inactivity_grace_days) / p.inactivity_scale_days))
    p_read = (C.read_prop[c] * m_t * g_d * camps.read_appeal[k]
              * np.where(on_list_days < 30, p.honeymoon_mult, 1.0)
              * np.where(C.gift_cohort[c] & (slot == GIFT_SLOT_B) & (acc == GIFT_ACCOUNT), p.gift_read_mult, 1.0))
    # a win-back can wake up someone who had stopped reading, as long as the mailbox is alive
    winback = (kind == K_REENGAGE) & C.checked[c]
    p_read = np.where(winback, np.maximum(p_read, p.winback_read_prob * camps.read_appeal[k] / 1.5), p_read)
    can_read = alive & ((delivered_at < C.reads_until[c]) | winback) & (delivered_at < spam_folder_from)
    read = can_read & (u() < np.minimum(p_read, 0.97))
    ri = np.nonzero(read)[0]
    nr = len(ri)
    read_delay = np.where(rng.random(nr) < p.immediate_read_share,  # a notification, read at once
                          20 + rng.exponential(90.0, nr), lognormal(rng, 3 * HOUR, 1.5, nr))
    read_at = np.full(S, INF_TS, dtype=np.int64)
    read_at[ri] = delivered_at[ri] + read_delay.astype(np.int64)
    read &= (read_at < end) & (read_at < C.checked_until[c])

    pixel = read & ~mpp_msg & ~C.plain_text[c] & (~C.images_off[c] | (u() < p.images_off_pixel_load_prob))
    open_at = read_at + rng.integers(0, 5, S)
    pixel &= open_at < end
    clicked = read & (u() < C.click_prop[c] * camps.click_appeal[k])
    first_click_at = read_at + 8 + rng.exponential(40.0, S).astype(np.int64)
    clicked &= first_click_at < end
    unsub = read & (u() < np.array([a.unsub_per_read for a in ACCOUNTS])[acc]
                    * np.where(on_list_days < 30, np.where(C.gift_cohort[c], p.gift_early_unsub_mult,
                                                           p.early_unsub_mult), 1.0)
                    * np.where(inactive_days > 180, p.inactive_unsub_mult, 1.0)
                    * np.where(C.stale[c], 3.0, 1.0))
    via_link = u() < p.unsubscribe_link_share
    unsub_click_at = read_at + 10 + rng.exponential(60.0, S).astype(np.int64)
    unsub_at = np.where(via_link, unsub_click_at + rng.integers(1, 15, S), read_at + rng.integers(30, 600, S))
    unsub &= unsub_at < end
    rereg = clicked & (kind == K_GIFT) & (u() < p.gift_rereg_prob)
    rereg_at = first_click_at + rng.integers(60, 600, S)
    rereg &= rereg_at + 1 < end

    # ---- complaint reports the sender receives (per-message feedback only from some providers)
    channel = np.full(S, -1, dtype=np.int64)
    channel[prov == P["yahoo"]] = 0
    channel[prov == P["microsoft"]] = 1
    channel[IS_FRENCH_ISP[prov] & C.plugin[c]] = 2
    abuse = (prov == P["other"]) & (u() < np.where(C.corporate[c], p.abuse_desk_share_corporate,
                                                     p.abuse_desk_share_other))
    channel[abuse] = 3
    # report delays: Yahoo minutes, Microsoft hours, Signal Spam at once, abuse desks days
    delay_lo = np.array([60, 600, 10, HOUR])[np.maximum(channel, 0)]
    delay_hi = np.array([HOUR, 6 * HOUR, 600, 3 * DAY])[np.maximum(channel, 0)]
    report_at = comp_at + (delay_lo + rng.random(S) * (delay_hi - delay_lo)).astype(np.int64)
    comp_obs = comp & (channel >= 0) & (report_at < end)
    # only dead addresses are unsubscribed after a bounce; blocks and full mailboxes are not
    hard_supp = ((bounce == USER_UNKNOWN) | (bounce == BAD_DOMAIN)) & (outcome_at < end)
    supp_at = np.where(hard_supp, outcome_at + rng.integers(1, 60, S), report_at + rng.integers(60, 900, S))

    # ---- subscription changes and the sends they cancel (fixed point: a cancelled send causes none)
    pre_keep = (sent < C.member_until[c, slot] + lag[acc]) & (sent < C.suppressed_at[c] + lag[acc])
    keep = pre_keep.copy()
    for _ in range(6):
        terms = _terminations(C, keep, c, slot, acc, k, unsub, unsub_at, via_link, rereg, rereg_at,
                              hard_supp | comp_obs, supp_at, hard_supp)
        limit = np.minimum(terms["until"][c, slot], terms["supp"][c])
        new_keep = pre_keep & (sent < limit + lag[acc])
        if np.array_equal(new_keep, keep):
            break
        keep = new_keep
    rows = terms["rows"]
    src_ok = keep[rows["send"]]  # safety: never emit a change caused by a cancelled send
    rows = {key: v[src_ok] for key, v in rows.items()}

    # commit subscription state
    C.member_until[rows["contact"], rows["slot"]] = np.minimum(C.member_until[rows["contact"], rows["slot"]],
                                                               rows["ts"])
    sup_c, sup_t = terms["supp_contacts"], terms["supp_ts"]
    sup_ok = keep[terms["supp_send"]]
    C.suppressed_at[sup_c[sup_ok]] = np.minimum(C.suppressed_at[sup_c[sup_ok]], sup_t[sup_ok])
    moved = rows["source"] == S_MOVED
    mc, mt = rows["contact"][moved], rows["ts"][moved] - 1  # subscribe to B, then removal from A
    C.member_from[mc, GIFT_SLOT_B] = mt
    C.member_until[mc, GIFT_SLOT_B] = INF_TS
    C.join_source[mc, GIFT_SLOT_B] = S_GIFT
    C.gift_cohort[mc] = True
    C.buyer_mult[mc] = p.gift_buyer_mult
    rereg_send = np.zeros(S, dtype=bool)
    rereg_send[rows["send"][moved]] = True

    # ---- keep the surviving sends and number them
    kept = np.nonzero(keep)[0]
    newpos = np.full(S, -1, dtype=np.int64)
    newpos[kept] = np.arange(len(kept))
    msg = st.next_message + newpos  # message number of each candidate (valid where kept)
    st.next_message += len(kept)

    # latent state for next months
    rk = kept[read[kept]]
    np.maximum.at(C.last_read, c[rk], read_at[rk])
    woken = rk[kind[rk] == K_REENGAGE]  # a read win-back revives interest (Return Path: 45% read again)
    C.reads_until[c[woken]] = np.maximum(C.reads_until[c[woken]], C.checked_until[c[woken]])
    ck = kept[comp[kept]]
    np.minimum.at(C.complained_at, c[ck], comp_at[ck])

    # ---- sends rows: final status in the month it settles; an interim row if that is later
    K = kept
    status = np.where(delivered[K], ST_DELIVERED, ST_BOUNCED)
    info = np.where(delivered[K], -1, bounce[K] * NP_ + prov[K])
    settled_later = outcome_at[K] >= m1
    base_cols = {"msg": msg[K], "sent_at": sent[K], "acc": acc[K], "list": acc[K] * 2 + slot[K], "camp": k[K], "contact": c[K],
                     "ip": ip[K]}
    final = dict(base_cols, status=status, delivered_at=np.where(delivered[K], delivered_at[K], -1), info=info)
    out.add("sends", np.where(settled_later, outcome_at[K], sent[K]), final)
    if settled_later.any():
        L = settled_later
        was_deferred = deferred[K][L]
        interim = {key: v[L] for key, v in base_cols.items()}
        interim.update(status=np.where(was_deferred, ST_DEFERRED, ST_SENT), delivered_at=np.full(int(L.sum()), -1),
                       info=np.where(was_deferred, DEFERRAL * NP_ + prov[K][L], -1))
        out.add("sends", sent[K][L], interim)

    # ---- opens
    ev_send, ev_ts, ev_ua, ev_ip, ev_type = [], [], [], [], []
    ua_mpp = ua_index["mpp"]  # the proxies' own user agents come with the gmail_app / yahoo_app devices

    def pool_ip(name, n):
        off, size = pop.ip_pools[name]
        return off + rng.integers(0, size, n)

    def device_ip(idx):
        """Index into the IP table: home (or office) connection, or a mobile network for phones."""
        ips = c[idx].copy()
        mob = C.mobile[c[idx]] & ~C.corporate[c[idx]] & (rng.random(len(idx)) < 0.4)
        ips[mob] = pool_ip("mobile", int(mob.sum()))
        return ips

    h = np.nonzero(pixel & keep)[0]
    h_client = C.client[c[h]]
    h_ua = C.open_ua[c[h]].astype(np.int64)
    h_ip = device_ip(h)
    g = h_client == CL["gmail_app"]
    y = h_client == CL["yahoo_app"]
    h_ip[g] = pool_ip("google", int(g.sum()))
    h_ip[y] = pool_ip("yahoo", int(y.sum()))
    ev_send.append(h), ev_ts.append(open_at[h]), ev_ua.append(h_ua), ev_ip.append(h_ip)
    ev_type.append(np.full(len(h), M_HUMAN))
    # re-opens (Gmail's proxy caches the image: later opens are invisible)
    n_re = np.where(g, 0, rng.poisson(p.reopen_mean, len(h)))
    rrow, _ = repeat_ranges(n_re)
    ev_send.append(h[rrow]), ev_ts.append(open_at[h][rrow] + rng.exponential(DAY, len(rrow)).astype(np.int64))
    ev_ua.append(h_ua[rrow]), ev_ip.append(h_ip[rrow]), ev_type.append(np.full(len(rrow), M_HUMAN))
    mpp_keep = keep[mi_idx]
    for sends_i, times in ((mi_idx[mpp_keep], mpp_t[mpp_keep]), (mi_idx[re][mpp_keep[re]], mpp_t2[mpp_keep[re]])):
        ev_send.append(sends_i), ev_ts.append(times), ev_ua.append(np.full(len(sends_i), ua_mpp))
        ev_ip.append(pool_ip("apple", len(sends_i)))
        ev_type.append(np.full(len(sends_i), M_MPP))
    sc_keep = keep[sc_idx]
    sc_i, sc_t, sc_rescan = sc_idx[sc_keep], scan_at[sc_keep], rescan[sc_keep]
    vendor = C.scanner[c[sc_i]].astype(np.int64)
    sc_ip = np.empty(len(sc_i), dtype=np.int64)
    for v, (name, _, _, _) in enumerate(SCANNERS):
        sel = vendor == v
        sc_ip[sel] = pool_ip(f"scanner:{name}", int(sel.sum()))
    sc_ua = np.array(ua_index["scanners"])[vendor]
    fetches = np.array([s[3] for s in SCANNERS])[vendor]
    ev_send.append(sc_i[fetches]), ev_ts.append(sc_t[fetches] + rng.integers(0, 6, int(fetches.sum())))
    ev_ua.append(sc_ua[fetches]), ev_ip.append(sc_ip[fetches]), ev_type.append(np.full(int(fetches.sum()), M_SCANNER_IMAGE))
    o_send = np.concatenate(ev_send)
    o = {"send": o_send, "ts": np.concatenate(ev_ts), "ua": np.concatenate(ev_ua), "ip": np.concatenate(ev_ip),
             "type": np.concatenate(ev_type)}
    if world is not None:  # hook: a world's mechanisms alter or add open events
        view = MonthView(mi, world.month_rng(mi), p, pop, camps, ua_index, c, prov, k, keep, alive, delivered_at,
                         read, read_at, end)
        o = world.opens(view, o)
    ok = o["ts"] < end
    o = {key: v[ok] for key, v in o.items()}
    o_order = np.argsort(o["ts"], kind="stable")
    o = {key: v[o_order] for key, v in o.items()}
    o_num = st.next_open + np.arange(len(o["ts"]))
    st.next_open += len(o_num)
    out.add("opens", o["ts"], {"msg": msg[o["send"]], "ua": o["ua"], "ip": o["ip"], "num": o_num})
    mach = o["type"] != M_HUMAN
    st.machine_kind.append(np.zeros(int(mach.sum()), dtype=np.int8))
    st.machine_num.append(o_num[mach])
    st.machine_type.append(o["type"][mach].astype(np.int8))

    # ---- clicks: human content links, human unsubscribe links, scanners (every link), re-scans
    cl_send, cl_ts, cl_url, cl_ua, cl_ip, cl_type = [], [], [], [], [], []
    hc = np.nonzero(clicked & keep)[0]
    n_links = 1 + rng.binomial(camps.n_content[k[hc]] - 1, p.extra_link_click_prob)
    row, pos = repeat_ranges(n_links)
    gaps = rng.exponential(60.0, len(row)).astype(np.int64) * (pos > 0)  # reading between two links
    cum = np.cumsum(gaps)
    hc_ts = first_click_at[hc][row] + cum - cum[row_starts(n_links)][row]
    hc_ip = device_ip(hc)
    cl_send.append(hc[row]), cl_ts.append(hc_ts), cl_url.append(camps.url0[k[hc]][row] + pos)
    cl_ua.append(C.click_ua[c[hc]][row].astype(np.int64)), cl_ip.append(hc_ip[row])
    cl_type.append(np.full(len(row), M_HUMAN))
    uc = np.nonzero(unsub & via_link & keep)[0]
    cl_send.append(uc), cl_ts.append(unsub_click_at[uc]), cl_url.append(camps.url0[k[uc]] + camps.n_content[k[uc]])
    cl_ua.append(C.click_ua[c[uc]].astype(np.int64)), cl_ip.append(device_ip(uc)), cl_type.append(np.full(len(uc), M_HUMAN))
    for sc_sel, shift, mtype in ((np.ones(len(sc_i), dtype=bool), None, M_SCANNER), (sc_rescan, True, M_RESCAN)):
        ii = sc_i[sc_sel]
        nl = camps.n_content[k[ii]] + 1
        row, pos = repeat_ranges(nl)
        t0 = sc_t[sc_sel]
        if shift:
            t0 = t0 + rng.integers(10 * MINUTE, 40 * MINUTE, len(ii))
        cl_send.append(ii[row]), cl_ts.append(t0[row] + rng.integers(0, 9, len(row)))
        cl_url.append(camps.url0[k[ii]][row] + pos), cl_ua.append(sc_ua[sc_sel][row]), cl_ip.append(sc_ip[sc_sel][row])
        cl_type.append(np.full(len(row), mtype))
    q = {"send": np.concatenate(cl_send), "ts": np.concatenate(cl_ts), "url": np.concatenate(cl_url),
             "ua": np.concatenate(cl_ua), "ip": np.concatenate(cl_ip), "type": np.concatenate(cl_type)}
    if world is not None:  # hook: a world's mechanisms alter or add click events
        q = world.clicks(view, q)
    ok = q["ts"] < end
    q = {key: v[ok] for key, v in q.items()}
    q_order = np.argsort(q["ts"], kind="stable")
    q = {key: v[q_order] for key, v in q.items()}
    q_num = st.next_click + np.arange(len(q["ts"]))
    st.next_click += len(q_num)
    out.add("clicks", q["ts"], {"msg": msg[q["send"]], "url": q["url"], "ua": q["ua"], "ip": q["ip"], "num": q_num})
    mach = q["type"] != M_HUMAN
    st.machine_kind.append(np.ones(int(mach.sum()), dtype=np.int8))
    st.machine_num.append(q_num[mach])
    st.machine_type.append(q["type"][mach].astype(np.int8))

    # ---- complaints the sender receives
    cr = np.nonzero(comp_obs & keep)[0]
    redacted = channel[cr] == 0  # Yahoo's CFL redacts the recipient; the Message-ID identifies it
    out.add("complaints", report_at[cr], {"msg": msg[cr], "contact": np.where(redacted, -1, c[cr]), "acc": acc[cr],
                                              "source": channel[cr]})

    # ---- subscription changes
    sub_rows = {"account": C.account[rows["contact"]].astype(np.int64), "slot": rows["slot"], "contact": rows["contact"],
                    "action": np.ones(len(rows["ts"]), dtype=np.int64), "source": rows["source"],
                    "campaign": k[rows["send"]], "collected": np.full(len(rows["ts"]), -1)}
    out.add("subscriptions", rows["ts"], sub_rows)
    out.add("subscriptions", mt, {"account": C.account[mc].astype(np.int64), "slot": np.full(len(mc), GIFT_SLOT_B),
                                      "contact": mc, "action": np.zeros(len(mc), dtype=np.int64),
                                      "source": np.full(len(mc), S_GIFT), "campaign": k[rows["send"][moved]],
                                      "collected": np.full(len(mc), -1)})

    # ---- orders: after a human content click (gift re-registrants buy less), plus organic orders
    conv = np.array([a.conversion_per_click for a in ACCOUNTS])[acc] * np.where(
        rereg_send, p.gift_buyer_mult, C.buyer_mult[c])
    buys = clicked & keep & (u() < conv)
    bi = np.nonzero(buys)[0]
    soon = rng.random(len(bi)) < 0.3
    o_delay = np.where(soon, rng.integers(120, HOUR, len(bi)), lognormal(rng, 1.5 * DAY, 1.2, len(bi))).astype(np.int64)
    order_ts = first_click_at[bi] + o_delay
    # a re-registrant who buys does so after filling in the gift form
    order_ts = np.where(rereg_send[bi], np.maximum(order_ts, rereg_at[bi] + 60), order_ts)
    order_contact, order_camp = c[bi], k[bi]
    org_c, org_t = [], []
    for a, (lo, hi) in enumerate(pop.account_slices):
        sub_ok = ((C.member_from[lo:hi] <= m0) & (C.member_until[lo:hi] > m0)).any(axis=1)
        elig = lo + np.nonzero(sub_ok & C.checked[lo:hi] & (C.checked_until[lo:hi] > m0)
                               & (C.suppressed_at[lo:hi] > m0))[0]
        lam = ACCOUNTS[a].organic_orders_per_month * C.buyer_mult[elig]
        nb = rng.poisson(lam)
        rr, _ = repeat_ranges(nb)
        org_c.append(elig[rr])
        org_t.append(m0 + (rng.random(len(rr)) * (m1 - m0)).astype(np.int64))
    org_c = np.concatenate(org_c)
    all_oc = np.concatenate([order_contact, org_c])
    all_ot = np.concatenate([order_ts, np.concatenate(org_t)])
    all_acc = C.account[all_oc].astype(np.int64)
    all_camp = np.concatenate([order_camp, np.full(len(org_c), -1)])
    ok = all_ot < end
    all_oc, all_ot, all_acc, all_camp = all_oc[ok], all_ot[ok], all_acc[ok], all_camp[ok]
    median = np.array([a.order_median_eur for a in ACCOUNTS])[all_acc]
    cents = np.round(median * np.exp(0.6 * rng.standard_normal(len(all_oc))) * 100).astype(np.int64)
    onum = st.next_order + np.arange(len(all_oc))
    st.next_order += len(onum)
    out.add("orders", all_ot, {"acc": all_acc, "contact": all_oc, "num": onum, "cents": np.maximum(cents, 100),
                                   "camp": all_camp})
    st.orders_contact.append(all_oc)
    st.orders_ts.append(all_ot)

    # ---- truth per kept message
    has_machine_open = np.zeros(S, dtype=bool)
    has_machine_open[o["send"][o["type"] != M_HUMAN]] = True
    has_human_open = np.zeros(S, dtype=bool)
    has_human_open[o["send"][o["type"] == M_HUMAN]] = True
    has_mpp = np.zeros(S, dtype=bool)
    has_mpp[o["send"][o["type"] == M_MPP]] = True
    human_cl = q["type"] == M_HUMAN
    content = q["url"] < (camps.url0[k[q["send"]]] + camps.n_content[k[q["send"]]])
    has_human_click = np.zeros(S, dtype=bool)
    has_human_click[q["send"][human_cl & content]] = True
    has_scan = np.zeros(S, dtype=bool)
    has_scan[q["send"][~human_cl]] = True
    # age in whole years between the collection date and the send date (calendar days, UTC), which
    # is what SQL's date_diff('day', collected, sent_at) gives
    days = sent // DAY - C.collected[c] // DAY
    age_year = np.floor(days / YEAR_DAYS).astype(np.int64)
    st.truth_parts.append({
        "msg": msg[K], "acc": acc[K], "list": acc[K] * 2 + slot[K], "campaign": k[K], "kind": kind[K], "contact": c[K],
        "provider": prov[K], "age_year": age_year[K], "sent_at": sent[K], "delivered": dlv[K],
        "bounce": np.where(outcome_at[K] < end, bounce[K], -1), "read": read[K], "pixel_loaded": has_human_open[K],
        "images_off": C.images_off[c[K]], "plain_text": C.plain_text[c[K]], "mpp_user": C.mpp_user[c[K]],
        "mailbox_alive": alive[K],
        "mpp": has_mpp[K], "machine_open": has_machine_open[K], "scanner_protected": C.scanner[c[K]] >= 0,
        "scanned": has_scan[K], "human_click": has_human_click[K],
        "complained": comp[K], "complaint_source": np.where(comp_obs[K], channel[K], -1),
    })
    # gift records: delivered recipients of gift campaigns, their first human clicks, re-registrations
    gk = K[kind[K] == K_GIFT]
    gclick = gk[has_human_click[gk]]
    first_hc = np.full(S, INF_TS, dtype=np.int64)
    hcm = human_cl & content
    np.minimum.at(first_hc, q["send"][hcm], q["ts"][hcm])
    st.gift_clickers.append(np.stack([k[gclick], c[gclick], first_hc[gclick], rereg_send[gclick].astype(np.int64)], 1))
    st.gift_rereg.append(np.stack([k[rows["send"][moved]], mc, mt], 1))


def _terminations(C: Contacts, keep, c, slot, acc, k, unsub, unsub_at, via_link, rereg, rereg_at, supp_mask,
                  supp_at, hard_supp) -> dict:
    """Subscription changes caused by the kept sends: the earliest per (recipient, list) that is
    earlier than what is known, and the earliest suppression per recipient (dead address or a
    complaint report), which unsubscribes the recipient from every list they are on."""
    # suppressions
    si = np.nonzero(keep & supp_mask)[0]
    first = si[first_per_group(c[si], supp_at[si])]
    sc, sts = c[first], supp_at[first]
    better = sts < C.suppressed_at[sc]
    first, sc, sts = first[better], sc[better], sts[better]
    supp = C.suppressed_at.copy()
    supp[sc] = sts
    s_source = np.where(hard_supp[first], S_BOUNCE, S_COMPLAINT)
    # candidate rows: unsubscribes and gift moves, and the suppressions on each list joined
    ui = np.nonzero(keep & unsub)[0]
    gi = np.nonzero(keep & rereg)[0]
    cand_c = [c[ui], c[gi]]
    cand_slot = [slot[ui], slot[gi]]
    cand_ts = [unsub_at[ui], rereg_at[gi] + 1]
    cand_src = [np.where(via_link[ui], S_LINK, S_USER), np.full(len(gi), S_MOVED)]
    cand_send = [ui, gi]
    for s in (0, 1):
        member = C.member_from[sc, s] <= sts
        cand_c.append(sc[member]), cand_slot.append(np.full(int(member.sum()), s)), cand_ts.append(sts[member])
        cand_src.append(s_source[member]), cand_send.append(first[member])
    cc, cs, ct = np.concatenate(cand_c), np.concatenate(cand_slot), np.concatenate(cand_ts)
    csrc, csend = np.concatenate(cand_src), np.concatenate(cand_send)
    win = first_per_group(cc * 2 + cs, ct)
    win = win[ct[win] < C.member_until[cc[win], cs[win]]]
    until = C.member_until.copy()
    until[cc[win], cs[win]] = ct[win]
    rows = {"contact": cc[win], "slot": cs[win], "ts": ct[win], "source": csrc[win], "send": csend[win]}
    return {"rows": rows, "until": until, "supp": supp, "supp_contacts": sc, "supp_ts": sts, "supp_send": first}
