"""The report's language: translated text from gettext catalogues, numbers and dates from Babel.

``Locale("fr")`` carries the French catalogue (``locale/fr/LC_MESSAGES/dlvstats.po``, shipped as package
data and compiled with Babel when first used, so no build step is needed) and the French formats:
``102 285``, ``98,24 %``, ``octobre 2026``. English is the default and the catalogue's source language:
an English ``Locale`` translates nothing. A string with no French entry stays English (``untranslated``
lists those met, so a test can say which are missing).

This module knows nothing of data or of the report: it turns strings and numbers into text.
"""

from __future__ import annotations

import gettext
import io
import math
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "dlvstats"
DEFAULT_LOCALE = "en"
SUPPORTED_LOCALES = ("en", "fr")


def check_locale(name: str | None) -> str:
    """The locale code, or ValueError naming the supported ones."""
    code = (name or DEFAULT_LOCALE).strip().lower().replace("-", "_").split("_")[0]
    if code not in SUPPORTED_LOCALES:
        raise ValueError(f"unknown locale {name!r}: use one of {', '.join(SUPPORTED_LOCALES)}")
    return code


@cache
def catalogue(code: str) -> gettext.NullTranslations:
    """The compiled gettext catalogue of a locale (English: the identity)."""
    if code == DEFAULT_LOCALE:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    path = LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        po = read_po(handle, locale=code, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, po, use_fuzzy=False)
    buffer.seek(0)
    translations = gettext.GNUTranslations(buffer)
    # the entries the catalogue holds, plural ones by their singular (a word French writes as English
    # does, "Analyses", is translated all the same)
    translations.dlvstats_ids = frozenset(
        (m.id[0] if isinstance(m.id, tuple) else m.id) for m in po if m.id and m.string)
    return translations


def _finite(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class Locale:
    """Translate and format for one reader's language."""

    def __init__(self, name: str | None = None):
        self.code = check_locale(name)
        self._catalogue = catalogue(self.code)
        self.untranslated: set[str] = set()

    # -- text
    def gettext(self, message: str) -> str:
        if self.code == DEFAULT_LOCALE or not message:
            return message
        if not self.has(message):
            self.untranslated.add(message)
        return self._catalogue.gettext(message)

    def ngettext(self, one: str, many: str, count: int) -> str:
        if self.code == DEFAULT_LOCALE:
            return one if count == 1 else many
        return self._catalogue.ngettext(one, many, count)

    def has(self, message: str) -> bool:
        """Whether the catalogue translates this exact string (English: always)."""
        return self.code == DEFAULT_LOCALE or message in getattr(self._catalogue, "dlvstats_ids", ())

    # -- numbers
    def integer(self, value) -> str:
        number = _finite(value)
        if number is None:
            return "–"
        from babel.numbers import format_decimal

        return format_decimal(int(number), format="#,##0", locale=self.code)

    def decimal(self, value, digits: int = 2, sign: bool = False) -> str:
        number = _finite(value)
        if number is None:
            return "–"
        from babel.numbers import format_decimal

        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        if sign:
            pattern = f"+{pattern};-{pattern}"
        return format_decimal(number, format=pattern, locale=self.code)

    def percent(self, value, digits: int = 2) -> str:
        """A fraction as a percentage: 0.98237 -> '98.24%' (en), '98,24 %' (fr)."""
        number = _finite(value)
        if number is None:
            return "–"
        from babel.numbers import format_percent

        pattern = "#,##0" + ("." + "0" * digits if digits else "") + ("%" if self.code == "en" else "\u00a0%")
        return format_percent(number, format=pattern, locale=self.code)

    def points(self, delta_pp: float, digits: int = 2) -> str:
        """A change in percentage points: '+0.04 pp' (en), '+0,04 pt' (fr)."""
        unit = self.gettext("pp")
        return f"{self.decimal(delta_pp, digits, sign=True)}\u00a0{unit}" if self.code != "en" \
            else f"{self.decimal(delta_pp, digits, sign=True)} {unit}"

    def significant(self, value, digits: int = 4) -> str:
        number = _finite(value)
        if number is None:
            return "–"
        text = f"{number:.{digits}g}"
        if "e" in text or self.code == "en":
            return text
        from babel.numbers import format_decimal

        decimals = len(text.split(".")[1]) if "." in text else 0
        return format_decimal(number, format="#,##0." + "0" * decimals if decimals else "#,##0", locale=self.code)

    # -- dates
    def month_long(self, day: date | datetime) -> str:
        """'October 2026' / 'octobre 2026'."""
        from babel.dates import format_date

        return format_date(day, "LLLL y", locale=self.code)

    def month_short(self, day: date | datetime) -> str:
        """'Oct 2026' / 'oct. 2026'."""
        from babel.dates import format_date

        return format_date(day, "LLL y", locale=self.code)

    def day(self, day: date | datetime) -> str:
        """'2026-10-31' (en, as before) / '31 octobre 2026' (fr)."""
        if self.code == "en":
            return f"{day:%Y-%m-%d}"
        from babel.dates import format_date

        return format_date(day, "d MMMM y", locale=self.code)

    def moment(self, when: datetime) -> str:
        """'2026-10-31 23:59' (en, as before) / '31 octobre 2026 23:59' (fr)."""
        return f"{self.day(when)} {when:%H:%M}"


def format_message(loc: Locale, template: str, args: dict | None = None) -> str:
    """A catalogue template filled in the reader's language: each ``{name}`` from ``args``, where a
    string is translated when the catalogue knows it, and a number given as ``("percent", 0.125, 1)``,
    ``("decimal", 2.5, 1)`` or ``("integer", 1234)`` is written in the locale's format (English:
    ``12.5%``, ``2.5``, ``1,234``; French: ``12,5 %``, ``2,5``, ``1 234``)."""
    def value(arg):
        if isinstance(arg, (list, tuple)) and arg and arg[0] in ("percent", "decimal", "integer"):
            kind, number, *digits = arg
            if kind == "integer":
                return loc.integer(number)
            return getattr(loc, kind)(number, *digits)
        if isinstance(arg, str):
            return loc.gettext(arg) if loc.has(arg) else arg
        return str(arg)

    return loc.gettext(template).format(**{k: value(v) for k, v in (args or {}).items()})


def locale_of(locale: str | Locale | None) -> Locale:
    """A Locale from a code (the notebooks' ``locale`` parameter) or a Locale; None: English."""
    return locale if isinstance(locale, Locale) else (ENGLISH if locale in (None, DEFAULT_LOCALE) else Locale(locale))


ENGLISH = Locale(DEFAULT_LOCALE)
#: plotly's ``separators``: the decimal mark, then the thousands separator (1 234,5 in French)
SEPARATORS = {"en": ".,", "fr": ", "}
COLUMNS_FILE = Path(__file__).resolve().parent / "data" / "columns.csv"


@lru_cache(maxsize=1)
def column_dictionary() -> dict[str, str]:
    """Column name -> its English label (data/columns.csv); the catalogues translate the labels."""
    import csv

    with COLUMNS_FILE.open(encoding="utf-8", newline="") as handle:
        return {row["column"]: row["label"] for row in csv.DictReader(handle)}


def column_label(name: str, loc: Locale = ENGLISH) -> str | None:
    """A reader's label for a column (``human_click_rate_low`` -> 'Click rate, 95% interval low'), or None
    when the dictionary does not know it."""
    labels = column_dictionary()
    if name in labels:
        return loc.gettext(labels[name])
    for suffix, pattern in (("_low", "{label}, 95% interval low"), ("_high", "{label}, 95% interval high")):
        base = name.removesuffix(suffix)
        if base != name and base in labels:
            return loc.gettext(pattern).format(label=loc.gettext(labels[base]))
    return None


def translate_figure(spec: dict, loc: Locale) -> dict:
    """A plotly figure with its title, axis titles, trace names and annotations in the reader's
    language (each string the catalogue knows), and the locale's decimal and thousands separators."""
    if loc.code == DEFAULT_LOCALE:
        return spec

    def text(value):
        if isinstance(value, str):
            return loc.gettext(value)
        if isinstance(value, dict) and isinstance(value.get("text"), str):
            return {**value, "text": loc.gettext(value["text"])}
        return value

    layout = dict(spec.get("layout", {}))
    # a title built from the data carries its catalogue template and arguments (``plots.base._finish``)
    built = ((layout.get("meta") or {}).get("i18n") or {}).get("title") if isinstance(layout.get("meta"), dict) else None
    shown = layout.get("title", {}).get("text") if isinstance(layout.get("title"), dict) else layout.get("title")
    if isinstance(shown, str) and loc.has(shown):
        built = None  # the catalogue has this very title: its own entry wins over the template
    for key, value in list(layout.items()):
        if key == "title" and built:
            layout[key] = {**value, "text": format_message(loc, *built)} if isinstance(value, dict) \
                else format_message(loc, *built)
        elif key == "title":
            layout[key] = text(value)
        elif key.startswith(("xaxis", "yaxis")) and isinstance(value, dict) and "title" in value:
            layout[key] = {**value, "title": text(value["title"])}
    if isinstance(layout.get("annotations"), list):
        layout["annotations"] = [
            {**a, "text": loc.gettext(a["text"])} if isinstance(a, dict) and isinstance(a.get("text"), str) else a
            for a in layout["annotations"]]
    if isinstance(layout.get("legend"), dict) and "title" in layout["legend"]:
        layout["legend"] = {**layout["legend"], "title": text(layout["legend"]["title"])}
    layout["separators"] = SEPARATORS.get(loc.code, ".,")
    data = [{**trace, "name": loc.gettext(trace["name"])} if isinstance(trace.get("name"), str) else trace
            for trace in spec.get("data", [])]
    return {**spec, "layout": layout, "data": data}


__all__ = ["DEFAULT_LOCALE", "ENGLISH", "SUPPORTED_LOCALES", "Locale", "catalogue", "check_locale", "column_label",
           "format_message", "locale_of", "translate_figure"]
