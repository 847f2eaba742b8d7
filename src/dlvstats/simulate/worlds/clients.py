"""Readers and their clients: image blocking by device within one provider, blocked readers who
click more or less often, plain-text readers."""

from __future__ import annotations

import numpy as np

from dlvstats.simulate.tables import P
from dlvstats.simulate.worlds.base import Mechanism, SetupContext


def _renders(C) -> np.ndarray:
    """Contacts whose opens a pixel could show at all (not MPP, which prefetches regardless)."""
    return ~C.mpp_user


class DeviceBlocking(Mechanism):
    name = "device_blocking"
    summary = ("within Orange, desktop clients block images and mobile apps load them, and desktop readers "
               "click more often than mobile readers")
    source = ("Litmus, 'Email client market share' and image-blocking defaults (litmus.com/blog/"
              "the-ultimate-guide-to-email-image-blocking); Outlook desktop blocks external images by default "
              "(support.microsoft.com, 'Block or unblock automatic picture downloads')")
    default_strength = 1.0
    strength_meaning = ("share of Orange desktop readers whose client blocks images (mobile ones load them); "
                        "desktop clicks 1 + 0.5 x strength times as often, mobile 1 - 0.3 x strength")
    provider = "orange"

    def setup(self, ctx: SetupContext) -> None:
        C = ctx.pop.contacts
        mine = (C.provider == P[self.provider]) & _renders(C) & ~C.plain_text
        s = min(self.strength, 1.0)
        desktop = mine & ~C.mobile
        C.images_off[desktop] = ctx.rng.random(int(desktop.sum())) < s
        C.images_off[mine & C.mobile] = False
        C.click_prop[desktop] *= np.float32(1 + 0.5 * s)
        C.click_prop[mine & C.mobile] *= np.float32(1 - 0.3 * s)


class BlockedClickRatio(Mechanism):
    name = "blocked_click_ratio"
    summary = "readers whose images are blocked click `strength` times as often as readers who load images"
    source = ("the click-pixel dependence is the correlation bias of two-sample capture-recapture "
              "(Chao 1987; Hook & Regal 1995, Epidemiologic Reviews 17:243)")
    default_strength = 1.5
    strength_meaning = "click-propensity ratio, images-blocked readers over image-loading readers (1 = independent)"

    def setup(self, ctx: SetupContext) -> None:
        C = ctx.pop.contacts
        C.click_prop[C.images_off] = np.minimum(C.click_prop[C.images_off] * np.float32(self.strength), 1)


class PlainTextReaders(Mechanism):
    name = "plain_text"
    summary = "a share of readers read the text part: no pixel can load, but they click"
    source = ("RFC 2046 multipart/alternative (the text part); Litmus, 'Plain text emails' (litmus.com/blog); "
              "text-only clients and accessibility settings")
    default_strength = 0.10
    strength_meaning = "share of non-MPP recipients who read the text part"

    def setup(self, ctx: SetupContext) -> None:
        C = ctx.pop.contacts
        new = _renders(C) & (ctx.rng.random(len(C)) < min(self.strength, 1.0))
        C.plain_text[new] = True
        C.images_off[new] = False
