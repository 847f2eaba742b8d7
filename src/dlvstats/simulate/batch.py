"""The month's candidate sends (``Batch``) and what each step of ``month`` finds about them: one
value per candidate send, in send-time order, unless a field says otherwise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlvstats.simulate.campaigns import Campaigns
from dlvstats.simulate.params import Params
from dlvstats.simulate.population import Contacts, Population


@dataclass
class Batch:
    """The month and its candidate sends (every campaign's recipients), in send-time order."""

    mi: int
    rng: np.random.Generator
    p: Params
    pop: Population
    camps: Campaigns
    m0: int
    m1: int
    end: int  # end of the simulated period: nothing is logged at or after it
    c: np.ndarray  # contact row
    k: np.ndarray  # campaign
    sent: np.ndarray
    acc: np.ndarray
    slot: np.ndarray
    kind: np.ndarray  # campaign kind
    prov: np.ndarray

    @property
    def C(self) -> Contacts:
        return self.pop.contacts

    def __len__(self) -> int:
        return len(self.c)

    def u(self) -> np.ndarray:
        """One uniform draw per candidate send."""
        return self.rng.random(len(self.c))


@dataclass
class Delivery:
    ip: np.ndarray  # sending IP code
    bounce: np.ndarray  # bounce kind, -1 if none
    deferred: np.ndarray
    delivered: np.ndarray
    outcome_at: np.ndarray
    delivered_at: np.ndarray  # -1 if not delivered
    dlv: np.ndarray  # delivered as far as the data can tell
    alive: np.ndarray  # someone still looks at this mailbox


@dataclass
class Machines:
    """Apple MPP fetches and link-scanner visits, by candidate-send index."""

    mpp_msg: np.ndarray
    mpp_idx: np.ndarray
    mpp_t: np.ndarray
    refetch: np.ndarray  # per mpp_idx: a second proxy fetch
    mpp_t2: np.ndarray
    sc_idx: np.ndarray
    scan_at: np.ndarray
    rescan: np.ndarray  # per sc_idx


@dataclass
class Reactions:
    """What the recipients do: latent complaints, true reads and what the pixel and links show."""

    inactive_days: np.ndarray
    on_list_days: np.ndarray
    comp: np.ndarray
    comp_at: np.ndarray
    read: np.ndarray
    read_at: np.ndarray
    pixel: np.ndarray
    open_at: np.ndarray
    clicked: np.ndarray
    first_click_at: np.ndarray
    unsub: np.ndarray
    via_link: np.ndarray
    unsub_click_at: np.ndarray
    unsub_at: np.ndarray
    rereg: np.ndarray
    rereg_at: np.ndarray


@dataclass
class Reports:
    """Complaint reports the sender receives and the suppressions they and hard bounces cause."""

    channel: np.ndarray  # index into COMPLAINT_SOURCES, -1: not reported
    report_at: np.ndarray
    comp_obs: np.ndarray
    hard_supp: np.ndarray
    supp_at: np.ndarray


@dataclass
class Changes:
    """The subscription changes of the month and the sends that survive them."""

    keep: np.ndarray
    rows: dict  # unsubscribes, suppressions and gift moves: contact, slot, ts, source, send
    moved_contact: np.ndarray
    moved_at: np.ndarray  # the subscription to the gift list B
    moved: np.ndarray  # per row of rows
    rereg_send: np.ndarray  # per candidate send: its recipient re-registered through it
