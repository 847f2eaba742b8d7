"""The campaigns of a run, drawn once from their own random stream: every account's regular
sends, welcome autoresponders, the gift campaigns, the month-end late sends, quarterly win-backs
and the stale client's mailings; with their names, subjects and links."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlvstats.simulate.arrays import local_to_utc
from dlvstats.simulate.params import ACCOUNTS, GIFT_ACCOUNT, GIFT_SLOT_A, STALE_ACCOUNT, STALE_SLOT, Params
from dlvstats.simulate.tables import (
    CAMPAIGN_KINDS,
    DAY,
    HOUR,
    K_AUTO,
    K_GIFT,
    K_REENGAGE,
    K_REGULAR,
    MINUTE,
    SUBJECTS,
)


@dataclass
class Campaigns:
    account: np.ndarray
    slot: np.ndarray
    kind: np.ndarray
    start: np.ndarray
    read_appeal: np.ndarray
    click_appeal: np.ndarray
    n_content: np.ndarray  # content links; the unsubscribe link comes after them
    url0: np.ndarray  # index of the first URL in the URL table
    ids: list[str]
    names: list[str]
    subjects: list[str]
    urls: list[str]

    def __len__(self) -> int:
        return len(self.account)


def schedule_campaigns(rng: np.random.Generator, p: Params, bounds: np.ndarray, stale_import_at: int,
                        tag: str) -> Campaigns:
    rows = []  # (start, account, slot, kind)
    months = len(bounds) - 1
    for mi in range(months):
        m0, m1 = int(bounds[mi]), int(bounds[mi + 1])
        days = (m1 - m0) // DAY
        for a, spec in enumerate(ACCOUNTS):
            for s, ls in enumerate(spec.lists):
                if a == STALE_ACCOUNT and s == STALE_SLOT:
                    continue
                n = int(ls.campaigns_per_month) + int(rng.random() < ls.campaigns_per_month % 1)
                day = ((np.arange(n) + rng.uniform(0.15, 0.85, n)) * days / max(n, 1)).astype(np.int64)
                hour = np.array(spec.hours)[rng.integers(0, len(spec.hours), n)]
                local = m0 + day * DAY + hour * HOUR + rng.integers(0, 4, n) * 15 * MINUTE
                for t in local_to_utc(local):
                    rows.append((int(t), a, s, K_REGULAR))
                # welcome autoresponder: one campaign a month, each new subscriber gets it at sign-up
                if ls.signup_share > 0:
                    rows.append((m0, a, s, K_AUTO))
            if a == GIFT_ACCOUNT:  # one gift campaign a month on list A
                local = m0 + int(rng.integers(8, 20)) * DAY + 10 * HOUR
                rows.append((int(local_to_utc(np.array([local]))[0]), a, GIFT_SLOT_A, K_GIFT))
            if spec.month_end_late_send:  # last-minute offers late on the last day: their deferrals
                local = m1 - DAY + 22 * HOUR + 30 * MINUTE  # settle in the next month's drop
                rows.append((int(local_to_utc(np.array([local]))[0]), a, 0, K_REGULAR))
            if mi % 3 == 1 and spec.reengage_slot >= 0:
                local = m0 + int(rng.integers(3, 25)) * DAY + 11 * HOUR
                rows.append((int(local_to_utc(np.array([local]))[0]), a, spec.reengage_slot, K_REENGAGE))
    # the stale client mails its freshly imported archive every couple of weeks
    t = stale_import_at + 2 * DAY
    while t < bounds[-1]:
        rows.append((int(t), STALE_ACCOUNT, STALE_SLOT, K_REGULAR))
        t += int(p.stale_campaign_every_days * DAY)
    rows.sort()
    arr = np.array(rows, dtype=np.int64).reshape(-1, 4)
    n = len(arr)
    kind = arr[:, 3]
    read_appeal = np.exp(0.15 * rng.standard_normal(n))
    read_appeal[kind == K_REENGAGE] *= 1.5  # "Vous nous manquez": curiosity
    click_appeal = np.exp(0.3 * rng.standard_normal(n))
    click_appeal[kind == K_GIFT] *= p.gift_click_appeal
    n_content = rng.integers(1, 4, n)
    ids, names, subjects, urls, url0 = [], [], [], [], []
    for i in range(n):
        spec = ACCOUNTS[arr[i, 1]]
        ls = spec.lists[arr[i, 2]]
        k = int(kind[i])
        day = str(np.datetime64(int(arr[i, 0]), "s").astype("datetime64[D]"))
        if k == K_GIFT:
            pool = SUBJECTS["cadeaux_gift"]
        elif k == K_REENGAGE:
            pool = SUBJECTS["reengagement"]
        elif k == K_AUTO:
            pool = SUBJECTS["welcome"]
        else:
            pool = SUBJECTS[spec.short]
        subjects.append(pool[int(rng.integers(0, len(pool)))])
        names.append(f"{spec.short} {ls.list_id} {CAMPAIGN_KINDS[k]} {day}")
        cid = f"cmp-{tag}-{i + 1:05d}"
        ids.append(cid)
        paths = list(spec.paths)
        first = "cadeau" if k == K_GIFT else ("preferences" if k == K_REENGAGE else None)
        chosen = [paths[j] for j in rng.permutation(len(paths))[: n_content[i]]]
        if first:
            chosen[0] = first
        url0.append(len(urls))
        for path in chosen:
            urls.append(f"https://www.{spec.site}/{path}?utm_source=email&utm_campaign={cid}")
        urls.append(f"https://{spec.sending_domain}/unsubscribe?c={cid}")
    return Campaigns(account=arr[:, 1].astype(np.int16), slot=arr[:, 2].astype(np.int8), kind=kind.astype(np.int8),
                     start=arr[:, 0], read_appeal=read_appeal, click_appeal=click_appeal,
                     n_content=n_content.astype(np.int64), url0=np.array(url0, dtype=np.int64), ids=ids, names=names,
                     subjects=subjects, urls=urls)
