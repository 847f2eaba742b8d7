"""The summary's dataclasses: what the page, the manifest and the e-mail show (formatted strings)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Headline:
    label: str
    value: str
    previous: str = ""
    change: str = ""
    tone: str = "neutral"  # good | bad | neutral (for the change)
    note: str = ""
    interval: str = ""  # the rate's 95 % interval, formatted ("" for counts)
    year_before: str = ""  # the same month a year earlier, when the data reach back that far


@dataclass
class Alert:
    level: str  # critical | warning | info
    text: str


@dataclass
class Summary:
    headlines: list[Headline] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: dict = field(default_factory=dict)  # CSV name -> DataFrame
    trend: list = field(default_factory=list)  # the page's 12-month trend: one dict of formatted cells per month
    conclusions: list = field(default_factory=list)  # (analysis, its conclusion in a sentence): the e-mail's
