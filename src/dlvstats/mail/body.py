"""The e-mail's body, HTML and text, from the Jinja templates ``templates/mail_summary.*.j2``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dlvstats.config import PACKAGE_DIR
from dlvstats.i18n import Locale

#: Widest the HTML body gets; mail clients (Outlook especially) handle fixed widths best.
MAX_WIDTH_PX = 640
TEMPLATES_DIR = PACKAGE_DIR / "templates"


# --------------------------------------------------------------------------------------------------
# Rendering the body

_ALERT_STYLES = {
    # level: (label, background, border, text colour). The label is printed, not only coloured.
    "critical": ("ALERT", "#fdecea", "#c62828", "#7f1d1d"),
    "warning": ("WARNING", "#fff8e1", "#f9a825", "#6d4c00"),
    "info": ("NOTE", "#e8f1fb", "#1565c0", "#0d3c75"),
}
_TONES = {"good": "#1b5e20", "bad": "#b71c1c", "neutral": "#444444"}


@dataclass(frozen=True)
class _Row:
    label: str
    value: str
    change: str = ""
    note: str = ""
    tone: str = "neutral"
    interval: str = ""


def _headline_rows(rows: Sequence[Mapping[str, object] | Sequence[object]]) -> list[_Row]:
    """Accept dicts (``label``/``metric``, ``value``, ``change``, ``note``, ``tone``) or tuples
    ``(label, value[, change[, note]])`` of already-formatted values."""
    out: list[_Row] = []
    allowed = {"label", "metric", "value", "change", "note", "tone", "interval"}
    for i, row in enumerate(rows):
        if isinstance(row, Mapping):
            unknown = set(row) - allowed
            if unknown:
                raise ValueError(f"headline row {i}: unknown keys {sorted(unknown)}; use {sorted(allowed)}")
            label = row.get("label", row.get("metric"))
            if label is None or "value" not in row:
                raise ValueError(f"headline row {i}: needs a 'label' and a 'value'")
            tone = str(row.get("tone") or "neutral")
            if tone not in _TONES:
                raise ValueError(f"headline row {i}: tone must be one of {sorted(_TONES)}, not {tone!r}")
            out.append(
                _Row(
                    label=_s(label),
                    value=_s(row["value"]),
                    change=_s(row.get("change")),
                    note=_s(row.get("note")),
                    tone=tone,
                    interval=_s(row.get("interval")),
                )
            )
        elif isinstance(row, Sequence) and not isinstance(row, str | bytes) and 2 <= len(row) <= 4:
            cells = [_s(c) for c in row] + [""] * (4 - len(row))
            out.append(_Row(*cells))
        else:
            raise ValueError(
                f"headline row {i}: expected a dict or a (label, value[, change[, note]]) tuple, got {row!r}"
            )
    return out


def _alerts(alerts: Sequence[object]) -> list[tuple[str, str]]:
    """Accept strings (critical), ``(level, text)`` tuples or ``{"level": ..., "text": ...}`` dicts."""
    out: list[tuple[str, str]] = []
    for i, alert in enumerate(alerts):
        if isinstance(alert, str):
            level, text = "critical", alert
        elif isinstance(alert, Mapping):
            level, text = str(alert.get("level") or "critical"), _s(alert.get("text"))
        elif isinstance(alert, Sequence) and len(alert) == 2:
            level, text = str(alert[0]), _s(alert[1])
        else:
            raise ValueError(f"alert {i}: expected a string, a (level, text) tuple or a dict, got {alert!r}")
        if level not in _ALERT_STYLES:
            raise ValueError(f"alert {i}: level must be one of {sorted(_ALERT_STYLES)}, not {level!r}")
        out.append((level, text))
    return out


def _s(value: object) -> str:
    return "" if value is None else str(value)


def _environment(autoescape: bool):
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), autoescape=autoescape,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )


def _context(title, month, account, headline_rows, alerts, notes, footer, locale, conclusions) -> dict:
    """What both parts show, checked and translated; the templates only lay it out."""
    rows = _headline_rows(headline_rows)
    loc = Locale(locale)
    _ = loc.gettext
    account_part = _("Account: {account}").format(account=account) if account else _("All accounts")
    return {
        "lang": loc.code, "title": title, "rows": rows, "has_change": any(r.change for r in rows),
        "heading": f"{title} \u2014 {month}" + (f" \u2014 {account}" if account else ""),
        "month_part": _("Month: {month}").format(month=month), "account_part": account_part,
        "alerts": [{"label": _(_ALERT_STYLES[level][0]), "bg": _ALERT_STYLES[level][1],
                    "border": _ALERT_STYLES[level][2], "colour": _ALERT_STYLES[level][3], "text": text}
                   for level, text in _alerts(alerts)],
        "notes": list(notes), "footer": footer or "", "conclusions": list(conclusions),
        "t": {"headline": _("Headline"), "value": _("Value"), "vs_previous": _("vs previous month"),
              "conclusions": _("What each analysis says")},
        "tones": _TONES, "max_width": MAX_WIDTH_PX,
    }


_DEFAULT_FOOTER = "The full report (index.html) and the metric tables (CSV) are attached."


def render_summary_html(
    title: str,
    month: str,
    account: str | None,
    headline_rows: Sequence[Mapping[str, object] | Sequence[object]],
    alerts: Sequence[object],
    notes: Sequence[str],
    *,
    footer: str | None = _DEFAULT_FOOTER,
    locale: str = "en",
    conclusions: Sequence[tuple[str, str]] = (),
) -> str:
    """The e-mail's HTML body (``templates/mail_summary.html.j2``): a complete document made of tables
    with inline styles only.

    Every value is escaped (Jinja autoescape), so attacker-controlled text (campaign or account names)
    shows as text. ``headline_rows``: dicts with ``label``, ``value`` and optional ``change``, ``note``,
    ``interval``, ``tone`` (``good``/``bad``/``neutral``) or tuples ``(label, value[, change[, note]])``;
    ``alerts``: strings or ``(level, text)`` with level ``critical``/``warning``/``info``; ``notes``:
    strings; ``conclusions``: ``(analysis title, its conclusion in a sentence or two)``, after the
    headline numbers.
    """
    context = _context(title, month, account, headline_rows, alerts, notes, footer, locale, conclusions)
    context["subtitle"] = context["month_part"] + " \u00b7 " + context["account_part"]
    return _environment(autoescape=True).get_template("mail_summary.html.j2").render(context)


def render_summary_text(
    title: str,
    month: str,
    account: str | None,
    headline_rows: Sequence[Mapping[str, object] | Sequence[object]],
    alerts: Sequence[object],
    notes: Sequence[str],
    *,
    footer: str | None = _DEFAULT_FOOTER,
    locale: str = "en",
    conclusions: Sequence[tuple[str, str]] = (),
) -> str:
    """The plain-text alternative of ``render_summary_html`` (same arguments;
    ``templates/mail_summary.txt.j2``)."""
    context = _context(title, month, account, headline_rows, alerts, notes, footer, locale, conclusions)
    context["subtitle"] = context["month_part"] + " - " + context["account_part"]
    rows = context["rows"]
    context["label_width"] = max((len(r.label) for r in rows), default=0)
    context["value_width"] = max((len(r.value) for r in rows), default=0)
    text = _environment(autoescape=False).get_template("mail_summary.txt.j2").render(context)
    return text.rstrip() + "\n"
