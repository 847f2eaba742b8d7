"""The world's truth: per provider, per address-age year and per reading device, over delivered
messages, the true read rate and the true share of readers whose pixel never loaded (images blocked,
plain text, or hidden by a proxy cache); the same over the messages with no machine open (what a
read-rate estimate from human opens and clicks can target: ``measurable_*``)."""

from __future__ import annotations

import numpy as np

from dlvstats.simulate.tables import CLIENTS, NP_, PROVIDERS

FIELDS = ("delivered", "read", "read_no_pixel", "measurable_delivered", "measurable_read",
          "measurable_read_no_pixel")
MAX_AGE = 40


def _ratio(num: int, den: int):
    return round(num / den, 6) if den else None


class WorldTruth:
    def __init__(self):
        sizes = {"provider": NP_, "age_year": MAX_AGE, "device": 2, "client": len(CLIENTS),
                 "provider_device": 2 * NP_}
        self.by = {axis: {f: np.zeros(n, dtype=np.int64) for f in FIELDS} for axis, n in sizes.items()}

    def add(self, part: dict, C) -> None:
        dlv = part["delivered"]
        meas = dlv & ~part["machine_open"]
        read = part["read"]
        no_pixel = read & ~part["pixel_loaded"]
        flags = {"delivered": dlv, "read": dlv & read, "read_no_pixel": dlv & no_pixel,
                 "measurable_delivered": meas, "measurable_read": meas & read,
                 "measurable_read_no_pixel": meas & no_pixel}
        mobile = C.mobile[part["contact"]].astype(np.int64)
        keys = {"provider": part["provider"], "age_year": np.clip(part["age_year"], 0, MAX_AGE - 1),
                "device": mobile, "client": C.client[part["contact"]].astype(np.int64),
                "provider_device": part["provider"] * 2 + mobile}
        for axis, key in keys.items():
            for f, mask in flags.items():
                self.by[axis][f] += np.bincount(key[mask], minlength=len(self.by[axis][f]))

    def _rows(self, axis: str, names) -> dict:
        b = self.by[axis]
        out = {}
        for i, name in enumerate(names):
            if not b["delivered"][i]:
                continue
            out[name] = {
                "delivered": int(b["delivered"][i]), "read": int(b["read"][i]),
                "read_rate": _ratio(int(b["read"][i]), int(b["delivered"][i])),
                "pixel_never_loaded_share": _ratio(int(b["read_no_pixel"][i]), int(b["read"][i])),
                "measurable_delivered": int(b["measurable_delivered"][i]),
                "measurable_read_rate": _ratio(int(b["measurable_read"][i]), int(b["measurable_delivered"][i])),
                "image_blocked_share": _ratio(int(b["measurable_read_no_pixel"][i]), int(b["measurable_read"][i])),
            }
        return out

    def result(self) -> dict:
        return {
            "by_provider": self._rows("provider", PROVIDERS),
            "by_age_year": self._rows("age_year", [str(a) for a in range(MAX_AGE)]),
            "by_device": self._rows("device", ["desktop", "mobile"]),
            "by_client": self._rows("client", CLIENTS),
            "by_provider_device": self._rows("provider_device", [f"{p}/{d}" for p in PROVIDERS
                                                                 for d in ("desktop", "mobile")]),
        }
