"""``truth.json``: what the logs hide, accumulated month by month over the messages
(``TruthAccumulator``) and assembled at the end from a ``TruthInputs`` (keys in docs/simulator.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from dlvstats.simulate.arrays import iso
from dlvstats.simulate.campaigns import Campaigns
from dlvstats.simulate.params import ACCOUNTS, SHARED_IP, STALE_ACCOUNT, STALE_AGE_YEARS, STALE_SLOT, Params
from dlvstats.simulate.population import Population
from dlvstats.simulate.state import RunState
from dlvstats.simulate.tables import (
    BLOCKLISTED,
    BOUNCE_KINDS,
    DAY,
    IS_FBL_PROVIDER,
    K_GIFT,
    MACHINE_TYPES,
    NP_,
    PROVIDERS,
    REPUTATION,
)


class TruthAccumulator:
    """Counts per provider and per address-age year over delivered messages, plus what the gift,
    stale-client and headline sections need."""

    MAX_AGE = 40

    def __init__(self):
        z = lambda n: np.zeros(n, dtype=np.int64)
        self.by = {axis: {name: z(size) for name in ("delivered", "read", "measurable_delivered",
                                                      "measurable_read", "measurable_blocked", "mpp")}
                   for axis, size in (("provider", NP_), ("age", self.MAX_AGE))}
        self.campaign_delivered: dict[int, int] = {}
        self.stale_daily: list = []
        self.headline = {k: 0 for k in ("messages", "delivered", "opened", "human_opened", "human_clicked", "read",
                                        "hard_bounced", "bounced", "complained_latent", "complaints_reported",
                                        "blocklisted", "reputation_blocked")}
        self.by_account: dict[int, dict] = {}

    def add(self, t: dict) -> None:
        dlv = t["delivered"]
        meas = dlv & ~t["machine_open"]
        flags = {"delivered": dlv, "read": dlv & t["read"], "measurable_delivered": meas,
                 "measurable_read": meas & t["read"], "measurable_blocked": meas & t["read"] & ~t["pixel_loaded"],
                 "mpp": dlv & t["mpp"]}
        for axis, key in (("provider", t["provider"]), ("age", np.clip(t["age_year"], 0, self.MAX_AGE - 1))):
            for name, f in flags.items():
                self.by[axis][name] += np.bincount(key[f], minlength=len(self.by[axis][name]))
        h = self.headline
        hard = np.isin(t["bounce"], [i for i, b in enumerate(BOUNCE_KINDS) if b[0] == "hard"])
        h["messages"] += len(dlv)
        h["delivered"] += int(dlv.sum())
        h["opened"] += int((dlv & (t["machine_open"] | t["pixel_loaded"])).sum())
        h["human_opened"] += int((dlv & t["pixel_loaded"]).sum())
        h["human_clicked"] += int((dlv & t["human_click"]).sum())
        h["read"] += int((dlv & t["read"]).sum())
        h["hard_bounced"] += int(hard.sum())
        h["bounced"] += int((t["bounce"] >= 0).sum())
        h["complained_latent"] += int(t["complained"].sum())
        h["complaints_reported"] += int((t["complaint_source"] >= 0).sum())
        h["blocklisted"] += int((t["bounce"] == BLOCKLISTED).sum())
        h["reputation_blocked"] += int((t["bounce"] == REPUTATION).sum())
        for k_id, n in zip(*np.unique(t["campaign"][dlv], return_counts=True)):
            self.campaign_delivered[int(k_id)] = self.campaign_delivered.get(int(k_id), 0) + int(n)
        for a in np.unique(t["acc"]):
            sel = t["acc"] == a
            acc = self.by_account.setdefault(int(a), {k: 0 for k in ("sends", "delivered", "hard_bounces",
                                                                      "complaints_reported", "read")})
            acc["sends"] += int(sel.sum())
            acc["delivered"] += int((sel & dlv).sum())
            acc["hard_bounces"] += int((sel & hard).sum())
            acc["complaints_reported"] += int((sel & (t["complaint_source"] >= 0)).sum())
            acc["read"] += int((sel & dlv & t["read"]).sum())
        stale = t["acc"] == STALE_ACCOUNT
        fbl = IS_FBL_PROVIDER[t["provider"]]
        self.stale_daily.append(np.stack([
            t["sent_at"][stale] // DAY, t["list"][stale] % 2, (dlv & fbl)[stale],
            (np.isin(t["complaint_source"], [0, 1]))[stale], t["campaign"][stale]], 1))

    @staticmethod
    def rates(b: dict, i: int) -> dict:
        delivered, meas, mread = int(b["delivered"][i]), int(b["measurable_delivered"][i]), int(b["measurable_read"][i])
        ratio = lambda num, den: round(num / den, 6) if den else None
        return {"delivered": delivered, "read_rate": ratio(int(b["read"][i]), delivered),
                "measurable_delivered": meas, "measurable_read_rate": ratio(mread, meas),
                "image_blocked_share": ratio(int(b["measurable_blocked"][i]), mread),
                "mpp_share": ratio(int(b["mpp"][i]), delivered)}


def _buyers_within(orders_c: np.ndarray, orders_t: np.ndarray, who: np.ndarray, t0: np.ndarray,
                   days: float = 90) -> np.ndarray:
    """For each (who, t0): has the contact an order with t0 < ts <= t0 + days?"""
    key = (orders_c.astype(np.int64) << 32) | orders_t.astype(np.int64)
    key.sort()
    lo = np.searchsorted(key, (who.astype(np.int64) << 32) | t0.astype(np.int64), side="right")
    hi = np.searchsorted(key, (who.astype(np.int64) << 32) | (t0 + int(days * DAY)).astype(np.int64), side="right")
    return hi > lo


@dataclass(frozen=True)
class TruthArgs:
    """The arguments of a run, as ``truth.json`` records them."""

    seed: int
    params: Params
    contacts: int
    months: int
    end_month: str
    fmt: str
    as_format: str


@dataclass(frozen=True)
class TruthInputs:
    """What ``truth.json`` is made from: the run's arguments and what the run drew and wrote."""

    args: TruthArgs
    tag: str  # run tag in every id
    bounds: np.ndarray  # month starts, then the end of the period (epoch seconds)
    pop: Population
    camps: Campaigns
    st: RunState
    agg: TruthAccumulator
    written: dict  # the drop writer's summary: drops_dir, rows per kind, files


def build_truth(t: TruthInputs) -> dict:
    """The ``truth.json`` document (keys described in docs/simulator.md), in its key order."""
    agg, st, args = t.agg, t.st, t.args
    providers = {name: TruthAccumulator.rates(agg.by["provider"], i) for i, name in enumerate(PROVIDERS)
                 if agg.by["provider"]["delivered"][i] > 0}
    ages = {str(a): TruthAccumulator.rates(agg.by["age"], a) for a in range(TruthAccumulator.MAX_AGE)
            if agg.by["age"]["delivered"][a] > 0}
    machine = _machine_events(st)
    listing = None
    if st.listing:
        listing = {k: (iso(v) if k.endswith("_at") else v) for k, v in st.listing.items()}
        listing["blocked_sends"] = agg.headline["blocklisted"]  # 5.7.1 citing the blocklist, while listed
        listing["reputation_blocks"] = agg.headline["reputation_blocked"]  # 5.7.x at big providers afterwards
    return {
        "seed": args.seed,
        "run_tag": t.tag,
        "params": {"contacts": args.contacts, "months": args.months, "end_month": args.end_month, "format": args.fmt,
                   "as": args.as_format,
                   **{k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(args.params).items()}},
        "period": {"start": iso(int(t.bounds[0])), "end": iso(int(t.bounds[-1]))},
        "accounts": _accounts(t),
        "providers": providers,
        "read_rate_by_age_year": ages,
        "machine_events": machine,
        "gift_campaigns": _gift_campaigns(t),
        "stale_account": _stale_account(t),
        "shared_ip": {"ip": SHARED_IP, "accounts": [a.account_id for a in ACCOUNTS if SHARED_IP in a.sending_ips]},
        "blocklist_listing": listing,
        "headline": _headline(t, machine),
        "rows": t.written["rows"],
        "row_details": {k: v for k, v in sorted(st.counts.items())},
        "files": {"drops_dir": t.written["drops_dir"], "truth_machine_events": "truth_machine_events.csv.gz",
                  "truth_messages": "truth_messages.parquet"},
    }


def _machine_events(st: RunState) -> dict:
    """Machine opens and clicks by machine type (types that occurred)."""
    mk = np.concatenate(st.machine_kind) if st.machine_kind else np.zeros(0, dtype=np.int8)
    mt = np.concatenate(st.machine_type) if st.machine_type else np.zeros(0, dtype=np.int8)
    return {kind: {MACHINE_TYPES[t]: int(((mk == ki) & (mt == t)).sum()) for t in range(1, len(MACHINE_TYPES))
                   if ((mk == ki) & (mt == t)).any()} for ki, kind in enumerate(("opens", "clicks"))}


def _gift_campaigns(t: TruthInputs) -> dict:
    """Per gift campaign: clickers, re-registrations and 90-day buyers, against the clickers who
    did not re-register (the control)."""
    st, camps, end = t.st, t.camps, int(t.bounds[-1])
    orders_c = np.concatenate(st.orders_contact) if st.orders_contact else np.zeros(0, dtype=np.int64)
    orders_t = np.concatenate(st.orders_ts) if st.orders_ts else np.zeros(0, dtype=np.int64)
    clickers = np.concatenate(st.gift_clickers) if st.gift_clickers else np.zeros((0, 4), dtype=np.int64)
    rereg = np.concatenate(st.gift_rereg) if st.gift_rereg else np.zeros((0, 3), dtype=np.int64)
    gift = {}
    for k_id in np.nonzero(camps.kind == K_GIFT)[0]:
        cl = clickers[clickers[:, 0] == k_id]
        rr = rereg[rereg[:, 0] == k_id]
        ctrl = cl[cl[:, 3] == 0]
        rb = _buyers_within(orders_c, orders_t, rr[:, 1], rr[:, 2])
        cb = _buyers_within(orders_c, orders_t, ctrl[:, 1], ctrl[:, 2])
        gift[camps.ids[k_id]] = {
            "sent_at": iso(camps.start[k_id]),
            "delivered": t.agg.campaign_delivered.get(int(k_id), 0),
            "human_clickers": len(np.unique(cl[:, 1])),
            "reregistered": len(np.unique(rr[:, 1])),
            "removed_from_source": len(rr),
            "buyers_90d": int(rb.sum()),
            "buyer_rate_90d": round(float(rb.mean()), 6) if len(rb) else None,
            "control_clickers": len(ctrl),
            "control_buyers_90d": int(cb.sum()),
            "control_buyer_rate_90d": round(float(cb.mean()), 6) if len(cb) else None,
            "window_runs_past_data": bool(camps.start[k_id] + 90 * DAY > end),
        }
    return gift


def _stale_account(t: TruthInputs) -> dict:
    """The stale client's import and its complaint rates at the feedback-loop providers: overall,
    on its first campaign and on the worst day."""
    camps, pop, agg = t.camps, t.pop, t.agg
    daily = np.concatenate(agg.stale_daily) if agg.stale_daily else np.zeros((0, 5), dtype=np.int64)
    on_stale = daily[:, 1] == STALE_SLOT
    stale_dlv, stale_cmp = int(daily[on_stale, 2].sum()), int(daily[on_stale, 3].sum())
    stale_ids = [camps.ids[i] for i in np.nonzero((camps.account == STALE_ACCOUNT) & (camps.slot == STALE_SLOT))[0]]
    first_stale = None
    if stale_ids:
        k0 = camps.ids.index(stale_ids[0])
        sel = daily[:, 4] == k0
        fd, fc = int(daily[sel, 2].sum()), int(daily[sel, 3].sum())
        first_stale = {"campaign_id": stale_ids[0], "sent_at": iso(camps.start[k0]), "delivered_fbl": fd,
                       "complaints_fbl": fc, "complaint_rate_fbl": round(fc / fd, 6) if fd else None}
    stale_acct = ACCOUNTS[STALE_ACCOUNT]
    lo, hi = pop.account_slices[STALE_ACCOUNT]
    return {
        "account_id": stale_acct.account_id, "list_id": stale_acct.lists[STALE_SLOT].list_id,
        "import_at": iso(pop.stale_import_at), "imported": int(pop.contacts.stale[lo:hi].sum()),
        "collected_years_ago": list(STALE_AGE_YEARS), "campaigns": stale_ids,
        "fbl_providers": ["yahoo", "microsoft"],
        "delivered_fbl": stale_dlv, "complaints_fbl": stale_cmp,
        "complaint_rate_fbl": round(stale_cmp / stale_dlv, 6) if stale_dlv else None,
        "first_campaign": first_stale, "peak_day": _peak_day(daily),
        "honour_lag_hours": stale_acct.honour_lag_hours,
    }


def _peak_day(daily: np.ndarray) -> dict | None:
    """The day with the highest feedback-loop complaint rate among days with 100+ messages."""
    if not len(daily):
        return None
    days_u, inv = np.unique(daily[:, 0], return_inverse=True)
    dd = np.bincount(inv, weights=daily[:, 2])
    dc = np.bincount(inv, weights=daily[:, 3])
    ok = dd >= 100  # a daily rate on fewer messages says little
    if not ok.any():
        return None
    rate = np.where(ok, dc / np.maximum(dd, 1), -1)
    i = int(np.argmax(rate))
    return {"day": str(np.datetime64(int(days_u[i]) * DAY, "s").astype("datetime64[D]")),
            "delivered_fbl": int(dd[i]), "complaints_fbl": int(dc[i]),
            "complaint_rate_fbl": round(float(rate[i]), 6)}


def _headline(t: TruthInputs, machine: dict) -> dict:
    """The run's headline rates (true and measured)."""
    h, rows = t.agg.headline, t.written["rows"]
    subs = {k.split(":", 1)[1]: v for k, v in t.st.counts.items() if k.startswith("subscriptions:")}
    mclicks = sum(machine["clicks"].values())
    return {
        "messages": h["messages"], "delivered": h["delivered"],
        "measured_open_rate": round(h["opened"] / h["delivered"], 6) if h["delivered"] else None,
        "human_open_rate": round(h["human_opened"] / h["delivered"], 6) if h["delivered"] else None,
        "true_read_rate": round(h["read"] / h["delivered"], 6) if h["delivered"] else None,
        "human_click_rate": round(h["human_clicked"] / h["delivered"], 6) if h["delivered"] else None,
        "hard_bounce_rate": round(h["hard_bounced"] / h["messages"], 6) if h["messages"] else None,
        "unsubscribe_rate": round((subs.get("link:unsubscribe", 0) + subs.get("user:unsubscribe", 0))
                                  / h["messages"], 6) if h["messages"] else None,
        "complaint_rate_reported": round(h["complaints_reported"] / h["delivered"], 6) if h["delivered"] else None,
        "complaint_rate_latent": round(h["complained_latent"] / h["delivered"], 6) if h["delivered"] else None,
        "machine_click_share": round(mclicks / rows["clicks"], 6) if rows["clicks"] else None,
        "mpp_open_share": round(machine["opens"].get("apple_mpp", 0) / rows["opens"], 6) if rows["opens"] else None,
    }


def _accounts(t: TruthInputs) -> dict:
    accounts = {}
    for a, spec in enumerate(ACCOUNTS):
        lo, hi = t.pop.account_slices[a]
        stats = t.agg.by_account.get(a, {})
        accounts[spec.account_id] = {
            "segment": spec.segment, "sending_domain": spec.sending_domain, "sending_ips": list(spec.sending_ips),
            "lists": [ls.list_id for ls in spec.lists], "contacts": hi - lo,
            "honour_lag_hours": spec.honour_lag_hours, **stats,
            "read_rate": round(stats["read"] / stats["delivered"], 6) if stats.get("delivered") else None,
        }
    return accounts
