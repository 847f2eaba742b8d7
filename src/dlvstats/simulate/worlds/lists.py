"""Lists and providers: old imports (with and without collected_at), thin national providers."""

from __future__ import annotations

import numpy as np

from dlvstats.simulate.params import ACCOUNTS
from dlvstats.simulate.tables import DAY, YEAR_DAYS, P
from dlvstats.simulate.worlds.base import Mechanism, SetupContext


class OldLists(Mechanism):
    name = "old_lists"
    summary = ("two accounts hold old imported lists: acct_librairie's import carries collected_at, "
               "acct_voyages's does not (the logs then cannot tell the age)")
    source = ("M3AAWG Sender Best Common Practices (list age and re-permission); Return Path / Validity, "
              "'List churn' (engagement decays with address age); CNIL on consent duration for prospects")
    default_strength = 1.0
    strength_meaning = "share of each account's imported base that is an old list, aged 3-10 years more"
    accounts = (("acct_librairie", True), ("acct_voyages", False))  # account, the import carries collected_at

    def setup(self, ctx: SetupContext) -> None:
        pop, C = ctx.pop, ctx.pop.contacts
        rows = pop.signup_rows
        ids = [a.account_id for a in ACCOUNTS]
        s = min(self.strength, 1.0)
        self.aged = np.zeros(len(C), dtype=bool)
        for account, with_date in self.accounts:
            a = ids.index(account)
            imported = rows["contact"][(rows["account"] == a) & (rows["collected"] >= 0)]
            pick = np.unique(imported[ctx.rng.random(len(imported)) < s])
            extra = (ctx.rng.uniform(3, 10, len(pick)) * YEAR_DAYS * DAY).astype(np.int64)
            C.collected[pick] -= extra
            C.read_prop[pick] *= np.float32(0.5)  # an old list reads about half as much (Validity)
            self.aged[pick] = True
            on = np.isin(rows["contact"], pick) & (rows["collected"] >= 0)
            rows["collected"][on] = C.collected[rows["contact"][on]] if with_date else -1


class ThinProviders(Mechanism):
    name = "thin_providers"
    summary = "small national providers (SFR, La Poste, Bouygues) with few clickers"
    source = ("Arcep, 'Observatoire des marches des communications electroniques' (small French mailbox "
              "providers); Sarbacane / Mailjet French benchmarks (click rates by provider)")
    default_strength = 0.8
    strength_meaning = "fall of the click propensity at SFR, La Poste and Bouygues (0.8 = 80% fewer clicks)"
    providers = ("sfr", "laposte", "bouygues")

    def setup(self, ctx: SetupContext) -> None:
        C = ctx.pop.contacts
        thin = np.isin(C.provider, [P[p] for p in self.providers])
        C.click_prop[thin] *= np.float32(max(0.0, 1 - self.strength))
