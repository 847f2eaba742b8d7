"""Each analysis's conclusion in a sentence, for the e-mail: the same figures as the page's sections,
each from its metric's own table and plain-words function. An analysis whose table is missing is left
out, never given a number. Frames in, ``(analysis title, sentence)`` pairs out."""

from __future__ import annotations

from dlvstats.i18n import ENGLISH, Locale
from dlvstats.metrics.read_estimator import HIDDEN_AGE_REASON


def age_conclusion(by_age, loc: Locale) -> str | None:
    """The decay in one sentence: the youngest and the oldest age years whose estimate is ok."""
    if by_age is None or not len(by_age) or "estimate_status" not in by_age.columns:
        return None
    ok = by_age[(by_age["estimate_status"] == "ok") & by_age["age_years"].notna()].sort_values("age_years")
    if len(ok) < 2 and "status_reason" in by_age.columns and \
            by_age["status_reason"].astype("string").str.contains(HIDDEN_AGE_REASON, regex=False).any():
        return loc.gettext("No read rate by address age can be promised: many addresses have only a lower bound "
                           "for their age (imported without collected_at), so an age year may be missing some of "
                           "its addresses. Give collected_at with the imports.")
    if len(ok) < 2:
        return loc.gettext("Too few messages this month for a read rate by address age that can be trusted: see "
                           "the trailing-year table in the report.")
    young, old = ok.iloc[0], ok.iloc[-1]
    return loc.gettext("Estimated read rate {young} for addresses collected {young_age}, {old} for those {old_age} "
                       "years old (the oldest age with a trustworthy estimate).").format(
        young=loc.percent(young["est_read_rate"], 1),
        young_age=loc.gettext("under a year ago") if int(young["age_years"]) == 0 else
        loc.gettext("{years} years ago").format(years=int(young["age_years"])),
        old=loc.percent(old["est_read_rate"], 1), old_age=int(old["age_years"]))


def _complaint_conclusion(now: dict, loc: Locale) -> str | None:
    rate = now.get("complaint_rate_fbl")
    if rate is None:
        return None
    line = (loc.gettext("over the 0.3% line Gmail and Yahoo enforce") if rate > 0.003 else
            loc.gettext("over the 0.1% target line") if rate > 0.001 else loc.gettext("under the 0.1% target line"))
    return loc.gettext(
        "Complaint rate {rate} on the providers with a feedback loop (95% CI {low} – {high}), {line}.").format(
        rate=loc.percent(rate, 3), low=loc.percent(now.get("complaint_rate_fbl_low"), 3),
        high=loc.percent(now.get("complaint_rate_fbl_high"), 3), line=line)


def analysis_conclusions(tables: dict, now: dict, gift_pooled=None, loc: Locale | None = None) -> list:
    """``tables``: the run's metric tables by CSV name; ``now``: the month's headline totals;
    ``gift_pooled``: the matured gift campaigns pooled (``metrics.gift.matured_pooled``), or None
    when this build has no gift analysis."""
    loc = loc or ENGLISH
    out = []
    age = age_conclusion(tables.get("engagement-by-age"), loc)
    if age:
        out.append((loc.gettext("Engagement decay by address age"), age))
    if gift_pooled is not None:
        from dlvstats.metrics.gift import gift_in_plain_words

        out.append((loc.gettext("Gift campaigns"), gift_in_plain_words(gift_pooled, locale=loc.code)))
    hidden = tables.get("hidden-images")
    if hidden is not None and len(hidden):
        from dlvstats.metrics.hidden_images import in_plain_words

        first = in_plain_words(hidden, locale=loc.code).split(". ")[0]  # the count; the page says the rest
        out.append((loc.gettext("Hidden images: how many non-opens were readers"), first.rstrip(".") + "."))
    complaints = _complaint_conclusion(now, loc)
    if complaints:
        out.append((loc.gettext("Sender health"), complaints))
    campaigns = tables.get("campaigns")
    if campaigns is not None:
        from dlvstats.metrics.campaigns import campaigns_in_plain_words

        out.append((loc.gettext("Campaigns: what each mailing of the period did"),
                    campaigns_in_plain_words(campaigns, locale=loc.code)))
    return out
