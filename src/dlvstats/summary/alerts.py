"""The summary's alerts, from the month's sender-health tables: complaint rates over Gmail's 0.1% and
0.3% lines per account and provider, hard-bounce spikes (month and day), blocklist listings (with the
likeliest culprit in the ESP's report) and the latest DNS blocklist check. Frames in, ``Alert`` out."""

from __future__ import annotations

from dlvstats.config import COMPLAINT_RATE_CRITICAL, COMPLAINT_RATE_TARGET
from dlvstats.formatting import number
from dlvstats.i18n import ENGLISH, Locale
from dlvstats.summary.model import Alert

#: Hard-bounce rate (per send) above which a month, or a day, counts as a spike (with the rules in
#: ``month_alerts`` and ``daily_bounce_alerts``).
HARD_BOUNCE_LINE = 0.02
HARD_BOUNCE_DAY_LINE = 0.05
HARD_BOUNCE_DAY_MIN_SENDS = 200
_NOT_A_TIME = ("NaT", "None", "nan", "<NA>")
_LEVELS = {"critical": 0, "warning": 1, "info": 2}
_SPIKE = "Hard-bounce spike for {name}: {rate} of messages sent, {since} ({bounces} hard bounces on {sends} sends)."


def bounce_dimensions(account_id: str | None) -> list[str]:
    """Where hard-bounce spikes are looked for: the account in its pack, every account in the ESP's."""
    return ["all"] if account_id else ["account"]


def _who(dimension: str, value: str, account_id: str | None, loc: Locale) -> str:
    _ = loc.gettext
    if dimension == "all":
        return _("account {name}").format(name=account_id) if account_id else _("all traffic")
    kind = _("mailbox provider") if dimension == "provider" else _(dimension)
    return f"{kind} {value}"


def _complaint_alert(row, name: str, loc: Locale) -> Alert | None:
    rate = number(row.complaint_rate_fbl)
    if rate is None or rate <= COMPLAINT_RATE_TARGET:
        return None
    _ = loc.gettext
    critical = rate > COMPLAINT_RATE_CRITICAL
    line = loc.percent(COMPLAINT_RATE_CRITICAL if critical else COMPLAINT_RATE_TARGET, 1)
    text = _("Complaint rate {rate} for {name}, over the {line} line ({complaints} complaints on "
             "{delivered} messages delivered to providers with a feedback loop; 95% interval "
             "{low}–{high})").format(
        rate=loc.percent(rate, 2), name=name, line=line, complaints=loc.integer(row.complaints_fbl),
        delivered=loc.integer(row.delivered_fbl), low=loc.percent(number(row.complaint_rate_fbl_low), 2),
        high=loc.percent(number(row.complaint_rate_fbl_high), 2))
    if bool(getattr(row, "small_cell_fbl", False)):
        text += _("; small volume, so the rate is fragile")
    return Alert("critical" if critical else "warning", text + ".")


def _bounce_alert(row, name: str, prev_rate: float | None, loc: Locale) -> Alert | None:
    bounce = number(row.hard_bounce_rate)
    if bounce is None or bounce < HARD_BOUNCE_LINE or (prev_rate is not None and bounce < 2 * prev_rate):
        return None
    _ = loc.gettext
    since = (_("up from {rate} the month before").format(rate=loc.percent(prev_rate, 2)) if prev_rate is not None
             else _("no sends the month before"))
    return Alert("critical" if bounce >= HARD_BOUNCE_DAY_LINE else "warning", _(_SPIKE).format(
        name=name, rate=loc.percent(bounce, 2), since=since, bounces=loc.integer(row.hard_bounces),
        sends=loc.integer(row.sends)))


def month_alerts(month_health, previous_health, account_id: str | None, loc: Locale | None = None) -> list[Alert]:
    """Complaint-rate alerts (accounts and providers; the account itself in its pack) and month
    hard-bounce spikes (at least 2%, and at least twice the month before), from sender health pooled
    over this month and the previous one."""
    loc = loc or ENGLISH
    prev_bounce = {(r.dimension, r.dimension_value): number(r.hard_bounce_rate)
                   for r in previous_health.itertuples()}
    # In an account's pack the 'all' row is that account; in the ESP's report the accounts say more.
    complaint_dims = {"account", "provider"} | ({"all"} if account_id else set())
    bounce_dims = bounce_dimensions(account_id)
    alerts: list[Alert] = []
    ordered = month_health.sort_values(["dimension", "complaint_rate_fbl"], ascending=[True, False])
    for row in ordered.itertuples():
        name = _who(row.dimension, row.dimension_value, account_id, loc)
        found = [
            _complaint_alert(row, name, loc) if row.dimension in complaint_dims else None,
            _bounce_alert(row, name, prev_bounce.get((row.dimension, row.dimension_value)), loc)
            if row.dimension in bounce_dims else None,
        ]
        alerts += [a for a in found if a is not None]
    return alerts


def daily_bounce_alerts(daily_health, already: list[Alert], account_id: str | None,
                        loc: Locale | None = None) -> list[Alert]:
    """A day with at least 5% hard bounces on at least 200 sends, unless the month's alert names it."""
    loc = loc or ENGLISH
    _ = loc.gettext
    spiked = {a.text.split(":")[0] for a in already}
    spike_prefix = _(_SPIKE).split(":")[0]
    alerts = []
    for row in daily_health.itertuples():
        bounce = number(row.hard_bounce_rate)
        if bounce is None or bounce < HARD_BOUNCE_DAY_LINE or (row.sends or 0) < HARD_BOUNCE_DAY_MIN_SENDS:
            continue
        name = _who(row.dimension, row.dimension_value, account_id, loc)
        if spike_prefix.format(name=name) in spiked:
            continue  # the month's alert already says it
        alerts.append(Alert("warning", _("Hard-bounce spike on {day} for {name}: {rate} of {sends} messages "
                                         "sent that day.").format(day=str(row.period_start)[:10], name=name,
                                                                  rate=loc.percent(bounce, 2),
                                                                  sends=loc.integer(row.sends))))
    return alerts


def _culprit(culprits, listing, loc: Locale) -> str:
    """'; likeliest culprit ACCOUNT (N complaints of M delivered in the 14 days before)' or ''."""
    if culprits is None:
        return ""
    top = culprits[(culprits["target"] == listing.target) & (culprits["blocklist"] == listing.blocklist)
                   & (culprits["listed_at"] == listing.listed_at) & (culprits["rank"] == 1)]
    if top.empty:
        return ""
    r = top.iloc[0]
    return loc.gettext("; likeliest culprit {account} ({complaints} complaints of {delivered} delivered, "
                       "{bounces} hard bounces, {share} of the sends in the 14 days before)").format(
        account=r.account_id, complaints=loc.integer(r.complaints), delivered=loc.integer(r.delivered),
        bounces=loc.integer(r.hard_bounces), share=loc.percent(r.share_of_target_sends, 0))


def listing_alerts(listings, culprits, account_id: str | None, loc: Locale | None = None) -> list[Alert]:
    """One critical alert per blocklist listing of the month; ``culprits`` (the blocklist-culprits
    table, None in an account's pack: it names no other client) adds the likeliest account."""
    loc = loc or ENGLISH
    _ = loc.gettext
    alerts = []
    for row in listings.itertuples():
        delisted = str(row.delisted_at)
        status = (_("still listed at the end of the data") if delisted in _NOT_A_TIME
                  else _("delisted {when}").format(when=delisted[:16]))
        text = _("Blocklist: {kind} {target} listed on {blocklist} on {when} UTC ({status})").format(
            kind=_(str(row.target_kind)), target=row.target, blocklist=row.blocklist, when=str(row.listed_at)[:16],
            status=status)
        users = number(getattr(row, "accounts_using", None))
        if not account_id and users:
            text += _("; {count} account(s) sent from it in the 30 days before").format(count=int(users))
        text += _culprit(culprits, row, loc)
        alerts.append(Alert("critical", text + "."))
    return alerts


def open_listings(listings) -> set:
    """(target, blocklist) of the month's listings still open at the end of the data."""
    return {(r.target, r.blocklist) for r in listings.itertuples() if str(r.delisted_at) in _NOT_A_TIME}


def blocklist_now_alerts(status, already: set) -> list[Alert]:
    """Alerts from the latest DNS blocklist check (dated: it may be after the month), for the
    listings the month's own alerts do not already show, and a line when some lists could not say."""
    out = []
    for row in status[status["status"] == "listed"].itertuples():
        if (row.target, row.blocklist) in already:
            continue
        since = ("" if str(row.listed_since) in _NOT_A_TIME
                 else f", listed since {str(row.listed_since)[:16]} UTC")
        out.append(Alert("critical", f"Blocklist now: {row.target_kind} {row.target} is listed on {row.blocklist} "
                                     f"({row.meaning or row.return_code}) at the DNS check of "
                                     f"{str(row.checked_at)[:16]} UTC{since}."))
    unknown = status[status["status"] == "unknown"]
    if len(unknown):
        out.append(Alert("info", f"Blocklist check of {str(status['checked_at'].max())[:16]} UTC: "
                                 f"{len(unknown)} answer(s) of {unknown['blocklist'].nunique()} list(s) were unknown "
                                 "(query refused, policy code or no answer): neither listed nor clean."))
    return out


def sort_alerts(alerts: list[Alert]) -> list[Alert]:
    """Critical first, then warnings, then notes (stable: the order within a level stays)."""
    return sorted(alerts, key=lambda a: _LEVELS[a.level])
