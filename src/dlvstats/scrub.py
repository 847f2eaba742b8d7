"""No e-mail address leaves in what dlvstats writes for people: the monthly report (page, notebooks,
CSV files) and the CSV files of ``dlvstats metrics --out``.

Metric tables are aggregates, but some of their text cells are free text an account controls
(campaign and list names, bounce reasons, blocklist targets) and can quote an address. Written
files replace every address by a tag. Imports nothing heavy (the report and the CLI both use it).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

_ADDRESS = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


class AddressScrubber:
    """Replaces every e-mail address in text by ``[address hidden #xxxxxxxx]``.

    The tag is a keyed hash (a random key per run), so the same address gets the same tag within one
    report (an example stays an example) but tags cannot be linked across reports or reversed.
    """

    def __init__(self) -> None:
        self._key = secrets.token_bytes(16)
        self.count = 0

    def _tag(self, match: re.Match) -> str:
        self.count += 1
        digest = hmac.new(self._key, match.group(0).lower().encode(), hashlib.sha256).hexdigest()[:8]
        return f"[address hidden #{digest}]"

    def text(self, value: str) -> str:
        return _ADDRESS.sub(self._tag, value) if "@" in value else value

    def deep(self, value):
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.deep(v) for v in value]
        if isinstance(value, dict):
            return {k: self.deep(v) for k, v in value.items()}
        return value


__all__ = ["AddressScrubber"]
