"""One month of sends: who is mailed, what happens to each message, which subscription changes it
causes and the sends those changes cancel; then the rows of each kind (``events``) and the
per-message truth.

Each step is a function from the month's ``Batch`` (and the earlier steps' results) to a small
dataclass of arrays, one value per candidate send. The steps draw from the month's random stream
in a fixed order, so the order of the calls in ``simulate_month`` is part of the output: moving a
draw changes every file (``tests/test_simulate.py`` checks that one seed gives the same bytes).
Nothing here writes files or reads any."""

from __future__ import annotations

import numpy as np

from dlvstats.simulate import events
from dlvstats.simulate.arrays import first_per_group, lognormal, paris_offset
from dlvstats.simulate.batch import Batch, Changes, Delivery, Machines, Reactions, Reports
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
from dlvstats.simulate.state import MonthBuckets, RunState
from dlvstats.simulate.tables import (
    BAD_DOMAIN,
    BLOCKLISTED,
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
    ST_BOUNCED,
    ST_DEFERRED,
    ST_DELIVERED,
    ST_SENT,
    USER_UNKNOWN,
    YEAR_DAYS,
    P,
)

#: How long each account takes to stop mailing after an unsubscribe, in seconds.
HONOUR_LAG = (np.array([a.honour_lag_hours for a in ACCOUNTS]) * HOUR).astype(np.int64)
_N_IPS = np.array([len(a.sending_ips) for a in ACCOUNTS])
_IP_CODES = [np.array([ALL_SENDING_IPS.index(ip) for ip in a.sending_ips]) for a in ACCOUNTS]


def simulate_month(mi: int, rng: np.random.Generator, p: Params, pop: Population, camps: Campaigns,
                   bounds: np.ndarray, out: MonthBuckets, st: RunState, ua_index: dict, world=None) -> None:
    """Simulate month ``mi``: rows go to ``out`` (by the month of their time), counters and truth
    records to ``st``, and the recipients' state (subscriptions, last read...) is updated."""
    b = _candidate_sends(mi, rng, p, pop, camps, bounds)
    if b is None:
        return
    dl = _deliver(b, st.listing)
    mach = _machines(b, dl)
    react = _react(b, dl)
    rep = _reports(b, dl, react)
    ch = _subscription_changes(b, react, rep)
    msg = _number_and_remember(b, react, ch, st)
    _add_sends(b, dl, ch.keep, msg, out)
    o, scanners, view = events.opens(b, dl, mach, react, ch.keep, msg, ua_index, out, st, world)
    q = events.clicks(b, react, scanners, ch.keep, msg, out, st, world, view)
    events.complaints(b, rep, ch.keep, msg, out)
    events.subscriptions(b, ch, out)
    events.orders(b, react, ch, out, st)
    events.message_truth(b, dl, react, rep, ch, msg, o, q, st)


def _candidate_sends(mi: int, rng, p: Params, pop: Population, camps: Campaigns, bounds) -> Batch | None:
    """Every campaign of the month to its list members (the welcome autoresponder to the month's
    sign-ups); None when the month has no campaign."""
    C = pop.contacts
    m0, m1, end = int(bounds[mi]), int(bounds[mi + 1]), int(bounds[-1])
    lag = HONOUR_LAG
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
            rate = p.send_rate_per_ip * _N_IPS[a]
            sent = t0 + (rng.permutation(len(idx)) / rate).astype(np.int64)
        parts_c.append(idx.astype(np.int64))
        parts_k.append(np.full(len(idx), k, dtype=np.int64))
        parts_t.append(sent.astype(np.int64))
    if not parts_c:
        return None
    c = np.concatenate(parts_c)
    k = np.concatenate(parts_k)
    sent = np.concatenate(parts_t)
    order = np.argsort(sent, kind="stable")
    c, k, sent = c[order], k[order], sent[order]
    return Batch(mi=mi, rng=rng, p=p, pop=pop, camps=camps, m0=m0, m1=m1, end=end, c=c, k=k, sent=sent,
                 acc=camps.account[k].astype(np.int64), slot=camps.slot[k].astype(np.int64), kind=camps.kind[k],
                 prov=C.provider[c].astype(np.int64))


def _deliver(b: Batch, listing: dict) -> Delivery:
    """Sending IP, bounces (dead address, blocklist, reputation, content, full mailbox, expired
    deferral), deferrals and delays."""
    C, c, p, rng, sent, prov, S = b.C, b.c, b.p, b.rng, b.sent, b.prov, len(b)
    u = b.u
    listed_at, delisted_at = listing.get("listed_at", INF_TS), listing.get("delisted_at", INF_TS)
    ip = np.empty(S, dtype=np.int64)
    for a in range(len(ACCOUNTS)):
        sel = b.acc == a
        ip[sel] = _IP_CODES[a][(rng.random(int(sel.sum())) * _N_IPS[a]).astype(np.int64)]
    on_shared = ip == SHARED_IP_CODE

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
    dlv = delivered & (delivered_at < b.end)
    alive = dlv & (delivered_at < C.checked_until[c])
    return Delivery(ip=ip, bounce=bounce, deferred=deferred, delivered=delivered, outcome_at=outcome_at,
                    delivered_at=delivered_at, dlv=dlv, alive=alive)


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


def _machines(b: Batch, dl: Delivery) -> Machines:
    """Apple MPP fetches every delivered message of an active MPP user, read or not; link scanners
    follow every link, unsubscribe included, 1-120 s after delivery."""
    C, c, p, rng = b.C, b.c, b.p, b.rng
    mpp_msg = dl.alive & C.mpp_user[c]
    mpp_idx = np.nonzero(mpp_msg)[0]
    mpp_t = _mpp_fetch_times(rng, p, dl.delivered_at[mpp_idx])
    refetch = rng.random(len(mpp_idx)) < p.mpp_refetch_share
    mpp_t2 = mpp_t[refetch] + rng.integers(HOUR, 20 * HOUR, int(refetch.sum()))
    scanned = dl.dlv & (C.scanner[c] >= 0) & (b.u() < p.scan_prob_per_message)
    sc_idx = np.nonzero(scanned)[0]
    scan_at = dl.delivered_at[sc_idx] + rng.integers(1, 110, len(sc_idx))
    rescan = rng.random(len(sc_idx)) < p.rescan_share
    return Machines(mpp_msg=mpp_msg, mpp_idx=mpp_idx, mpp_t=mpp_t, refetch=refetch, mpp_t2=mpp_t2, sc_idx=sc_idx,
                    scan_at=scan_at, rescan=rescan)


def _react(b: Batch, dl: Delivery) -> Reactions:
    """Latent complaints (an owner who looks at the mailbox, not necessarily a read), then true
    human reads and what the pixel and the links show of them."""
    C, c, sent = b.C, b.c, b.sent
    inactive_days = (sent - np.maximum(C.last_read[c], C.collected[c])) / DAY  # since the last read, or collection
    on_list_days = (sent - C.member_from[c, b.slot]) / DAY
    comp, comp_at, spam_folder_from = _latent_complaints(b, dl, inactive_days, on_list_days)
    read, read_at = _reads(b, dl, inactive_days, on_list_days, spam_folder_from)
    return _show(b, inactive_days, on_list_days, comp, comp_at, read, read_at)


def _latent_complaints(b: Batch, dl: Delivery, inactive_days, on_list_days):
    C, c, p, rng, S, end = b.C, b.c, b.p, b.rng, len(b), b.end
    age_y = (b.sent - C.collected[c]) / (YEAR_DAYS * DAY)
    pc = (p.complaint_base * (1 + p.complaint_age_slope * age_y)
          * np.where(inactive_days >= 365, p.complaint_inactive_mult, 1.0)
          * np.array([a.complaint_mult for a in ACCOUNTS])[b.acc]
          * np.where(C.stale[c], p.stale_complaint_mult, 1.0)
          * np.where(on_list_days < 30, p.complaint_new_mult, 1.0))
    comp = dl.alive & (dl.delivered_at < C.complained_at[c]) & (b.u() < pc)
    ci = np.nonzero(comp)[0]
    comp_at = np.full(S, INF_TS, dtype=np.int64)
    comp_at[ci] = dl.delivered_at[ci] + lognormal(rng, 5 * HOUR, 1.2, len(ci)).astype(np.int64)
    comp &= comp_at < end
    first_comp = np.full(len(C), INF_TS, dtype=np.int64)
    np.minimum.at(first_comp, c[comp], comp_at[comp])
    comp &= comp_at == first_comp[c]
    spam_folder_from = np.minimum(C.complained_at[c], first_comp[c])
    return comp, comp_at, spam_folder_from


def _reads(b: Batch, dl: Delivery, inactive_days, on_list_days, spam_folder_from):
    """True reads: propensity x tenure decay x inactivity decay x campaign appeal."""
    C, c, p, rng, S, k, slot = b.C, b.c, b.p, b.rng, len(b), b.k, b.slot
    tenure_m = np.maximum(b.sent - C.collected[c], 0) / MONTH_S
    m_t = p.tenure_plateau + (1 - p.tenure_plateau) * np.exp(-(tenure_m / p.tenure_scale_months) ** 2)
    g_d = np.where(inactive_days <= p.inactivity_grace_days, 1.0,
                   p.inactivity_floor + (1 - p.inactivity_floor)
                   * np.exp(-(inactive_days - p.inactivity_grace_days) / p.inactivity_scale_days))
    p_read = (C.read_prop[c] * m_t * g_d * b.camps.read_appeal[k]
              * np.where(on_list_days < 30, p.honeymoon_mult, 1.0)
              * np.where(C.gift_cohort[c] & (slot == GIFT_SLOT_B) & (b.acc == GIFT_ACCOUNT), p.gift_read_mult, 1.0))
    # a win-back can wake up someone who had stopped reading, as long as the mailbox is alive
    winback = (b.kind == K_REENGAGE) & C.checked[c]
    p_read = np.where(winback, np.maximum(p_read, p.winback_read_prob * b.camps.read_appeal[k] / 1.5), p_read)
    can_read = dl.alive & ((dl.delivered_at < C.reads_until[c]) | winback) & (dl.delivered_at < spam_folder_from)
    read = can_read & (b.u() < np.minimum(p_read, 0.97))
    ri = np.nonzero(read)[0]
    nr = len(ri)
    read_delay = np.where(rng.random(nr) < p.immediate_read_share,  # a notification, read at once
                          20 + rng.exponential(90.0, nr), lognormal(rng, 3 * HOUR, 1.5, nr))
    read_at = np.full(S, INF_TS, dtype=np.int64)
    read_at[ri] = dl.delivered_at[ri] + read_delay.astype(np.int64)
    read &= (read_at < b.end) & (read_at < C.checked_until[c])
    return read, read_at


def _show(b: Batch, inactive_days, on_list_days, comp, comp_at, read, read_at) -> Reactions:
    """What a read shows: the pixel, clicks, unsubscribes and gift re-registrations."""
    C, c, p, rng, S, end, u = b.C, b.c, b.p, b.rng, len(b), b.end, b.u
    # a read is on a live mailbox, so ~mpp_user here is "not an MPP message"
    pixel = read & ~C.mpp_user[c] & ~C.plain_text[c] & (~C.images_off[c] | (u() < p.images_off_pixel_load_prob))
    open_at = read_at + rng.integers(0, 5, S)
    pixel &= open_at < end
    clicked = read & (u() < C.click_prop[c] * b.camps.click_appeal[b.k])
    first_click_at = read_at + 8 + rng.exponential(40.0, S).astype(np.int64)
    clicked &= first_click_at < end
    unsub = read & (u() < np.array([a.unsub_per_read for a in ACCOUNTS])[b.acc]
                    * np.where(on_list_days < 30, np.where(C.gift_cohort[c], p.gift_early_unsub_mult,
                                                           p.early_unsub_mult), 1.0)
                    * np.where(inactive_days > 180, p.inactive_unsub_mult, 1.0)
                    * np.where(C.stale[c], 3.0, 1.0))
    via_link = u() < p.unsubscribe_link_share
    unsub_click_at = read_at + 10 + rng.exponential(60.0, S).astype(np.int64)
    unsub_at = np.where(via_link, unsub_click_at + rng.integers(1, 15, S), read_at + rng.integers(30, 600, S))
    unsub &= unsub_at < end
    rereg = clicked & (b.kind == K_GIFT) & (u() < p.gift_rereg_prob)
    rereg_at = first_click_at + rng.integers(60, 600, S)
    rereg &= rereg_at + 1 < end
    return Reactions(inactive_days=inactive_days, on_list_days=on_list_days, comp=comp, comp_at=comp_at, read=read,
                     read_at=read_at, pixel=pixel, open_at=open_at, clicked=clicked, first_click_at=first_click_at,
                     unsub=unsub, via_link=via_link, unsub_click_at=unsub_click_at, unsub_at=unsub_at, rereg=rereg,
                     rereg_at=rereg_at)


def _reports(b: Batch, dl: Delivery, r: Reactions) -> Reports:
    """Complaint reports (per-message feedback only from some providers) and suppressions: only
    dead addresses are unsubscribed after a bounce; blocks and full mailboxes are not."""
    C, c, p, rng, S, prov, end = b.C, b.c, b.p, b.rng, len(b), b.prov, b.end
    channel = np.full(S, -1, dtype=np.int64)
    channel[prov == P["yahoo"]] = 0
    channel[prov == P["microsoft"]] = 1
    channel[IS_FRENCH_ISP[prov] & C.plugin[c]] = 2
    abuse = (prov == P["other"]) & (b.u() < np.where(C.corporate[c], p.abuse_desk_share_corporate,
                                                       p.abuse_desk_share_other))
    channel[abuse] = 3
    # report delays: Yahoo minutes, Microsoft hours, Signal Spam at once, abuse desks days
    delay_lo = np.array([60, 600, 10, HOUR])[np.maximum(channel, 0)]
    delay_hi = np.array([HOUR, 6 * HOUR, 600, 3 * DAY])[np.maximum(channel, 0)]
    report_at = r.comp_at + (delay_lo + rng.random(S) * (delay_hi - delay_lo)).astype(np.int64)
    comp_obs = r.comp & (channel >= 0) & (report_at < end)
    hard_supp = ((dl.bounce == USER_UNKNOWN) | (dl.bounce == BAD_DOMAIN)) & (dl.outcome_at < end)
    supp_at = np.where(hard_supp, dl.outcome_at + rng.integers(1, 60, S), report_at + rng.integers(60, 900, S))
    return Reports(channel=channel, report_at=report_at, comp_obs=comp_obs, hard_supp=hard_supp, supp_at=supp_at)


def _subscription_changes(b: Batch, r: Reactions, rep: Reports) -> Changes:
    """The changes and the sends they cancel, to a fixed point (a cancelled send causes none),
    then committed to the recipients' state."""
    C, c, slot, sent, lag = b.C, b.c, b.slot, b.sent, HONOUR_LAG[b.acc]
    pre_keep = (sent < C.member_until[c, slot] + lag) & (sent < C.suppressed_at[c] + lag)
    keep = pre_keep.copy()
    for _ in range(6):
        terms = _terminations(C, keep, b, r, rep)
        limit = np.minimum(terms["until"][c, slot], terms["supp"][c])
        new_keep = pre_keep & (sent < limit + lag)
        if np.array_equal(new_keep, keep):
            break
        keep = new_keep
    rows = terms["rows"]
    src_ok = keep[rows["send"]]  # safety: never emit a change caused by a cancelled send
    rows = {key: v[src_ok] for key, v in rows.items()}

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
    C.buyer_mult[mc] = b.p.gift_buyer_mult
    rereg_send = np.zeros(len(b), dtype=bool)
    rereg_send[rows["send"][moved]] = True
    return Changes(keep=keep, rows=rows, moved_contact=mc, moved_at=mt, moved=moved, rereg_send=rereg_send)


def _terminations(C: Contacts, keep: np.ndarray, b: Batch, r: Reactions, rep: Reports) -> dict:
    """Subscription changes caused by the kept sends: the earliest per (recipient, list) that is
    earlier than what is known, and the earliest suppression per recipient (dead address or a
    complaint report), which unsubscribes the recipient from every list they are on."""
    c, slot = b.c, b.slot
    supp_mask, supp_at = rep.hard_supp | rep.comp_obs, rep.supp_at
    # suppressions
    si = np.nonzero(keep & supp_mask)[0]
    first = si[first_per_group(c[si], supp_at[si])]
    sc, sts = c[first], supp_at[first]
    better = sts < C.suppressed_at[sc]
    first, sc, sts = first[better], sc[better], sts[better]
    supp = C.suppressed_at.copy()
    supp[sc] = sts
    s_source = np.where(rep.hard_supp[first], S_BOUNCE, S_COMPLAINT)
    # candidate rows: unsubscribes and gift moves, and the suppressions on each list joined
    ui = np.nonzero(keep & r.unsub)[0]
    gi = np.nonzero(keep & r.rereg)[0]
    cand_c = [c[ui], c[gi]]
    cand_slot = [slot[ui], slot[gi]]
    cand_ts = [r.unsub_at[ui], r.rereg_at[gi] + 1]
    cand_src = [np.where(r.via_link[ui], S_LINK, S_USER), np.full(len(gi), S_MOVED)]
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


def _number_and_remember(b: Batch, r: Reactions, ch: Changes, st: RunState) -> np.ndarray:
    """Number the surviving sends (the message number of each candidate, valid where kept) and
    carry the month's reads, revived interest and complaints into the recipients' state."""
    C, c, keep = b.C, b.c, ch.keep
    kept = np.nonzero(keep)[0]
    newpos = np.full(len(b), -1, dtype=np.int64)
    newpos[kept] = np.arange(len(kept))
    msg = st.next_message + newpos
    st.next_message += len(kept)
    rk = kept[r.read[kept]]
    np.maximum.at(C.last_read, c[rk], r.read_at[rk])
    woken = rk[b.kind[rk] == K_REENGAGE]  # a read win-back revives interest (Return Path: 45% read again)
    C.reads_until[c[woken]] = np.maximum(C.reads_until[c[woken]], C.checked_until[c[woken]])
    ck = kept[r.comp[kept]]
    np.minimum.at(C.complained_at, c[ck], r.comp_at[ck])
    return msg


def _add_sends(b: Batch, dl: Delivery, keep: np.ndarray, msg: np.ndarray, out: MonthBuckets) -> None:
    """Sends rows: the final status in the month it settles, and an interim row (deferred or only
    accepted) in the send month when that is earlier."""
    K = np.nonzero(keep)[0]
    prov, sent, outcome_at = b.prov, b.sent, dl.outcome_at
    status = np.where(dl.delivered[K], ST_DELIVERED, ST_BOUNCED)
    info = np.where(dl.delivered[K], -1, dl.bounce[K] * NP_ + prov[K])
    settled_later = outcome_at[K] >= b.m1
    base_cols = {"msg": msg[K], "sent_at": sent[K], "acc": b.acc[K], "list": b.acc[K] * 2 + b.slot[K],
                 "camp": b.k[K], "contact": b.c[K], "ip": dl.ip[K]}
    final = dict(base_cols, status=status, delivered_at=np.where(dl.delivered[K], dl.delivered_at[K], -1), info=info)
    out.add("sends", np.where(settled_later, outcome_at[K], sent[K]), final)
    if settled_later.any():
        L = settled_later
        was_deferred = dl.deferred[K][L]
        interim = {key: v[L] for key, v in base_cols.items()}
        interim.update(status=np.where(was_deferred, ST_DEFERRED, ST_SENT), delivered_at=np.full(int(L.sum()), -1),
                       info=np.where(was_deferred, DEFERRAL * NP_ + prov[K][L], -1))
        out.add("sends", sent[K][L], interim)
