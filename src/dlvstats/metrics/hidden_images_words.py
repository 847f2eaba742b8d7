"""The hidden-images tables in plain words, in the reader's language: how many recorded non-opens
were readers (``in_plain_words``) and what the estimator's assumption checks say
(``checks_in_plain_words``). Small frames in, sentences out; French from the catalogue.

Re-exported by ``dlvstats.metrics.hidden_images``, where the notebooks call them.
"""

from __future__ import annotations

import pandas as pd

from dlvstats.i18n import DEFAULT_LOCALE, format_message, locale_of


def in_plain_words(table: pd.DataFrame, locale: str = DEFAULT_LOCALE) -> str:
    """One or two sentences on how many recorded non-opens were readers, from a hidden_images table,
    in the reader's language (``locale``: the notebook's parameter; French from the catalogue).

    The sum of the table's own ``est_hidden_readers`` (each provider's share used: its own, shrunk
    toward the overall share by its precision), as est_read_rate in engagement-by-age uses it: the
    headline and the table always agree.
    """
    if locale != DEFAULT_LOCALE:
        return _in_plain_words_localized(table, locale)
    machine = table["estimate_status"].eq("unmeasurable") & table["note"].fillna("").str.contains("machine open")
    usable = table[~machine & table["image_blocked_share_used"].notna()]
    if usable.empty:
        return ("No provider has messages without machine opens and human clickers, so hidden readers "
                "cannot be estimated.")
    hidden = float(usable["est_hidden_readers"].sum())
    nonopens = float((usable["measurable_delivered"] - usable["measurable_human_openers"]).sum())
    openers = float(usable["measurable_human_openers"].sum())
    text = (
        f"Of {nonopens:,.0f} recorded non-opens (messages without a machine open), about {hidden:,.0f} "
        f"({hidden / nonopens:.1%}) were people who read the message with images off: opens under-count "
        f"readers by about {hidden / openers:.0%}."
    )
    lost = table.loc[machine, "provider"].tolist()
    missing = table.loc[~machine & table["image_blocked_share_used"].isna(), "provider"].tolist()
    thin = usable.loc[usable["estimate_status"] == "insufficient_data", "provider"].tolist()
    rough = usable.loc[usable["estimate_status"] == "imprecise", "provider"].tolist()
    doubtful = usable.loc[usable["estimate_status"] == "assumption_violated", "provider"].tolist()
    if lost:
        text += (f" No estimate for {', '.join(lost)}: their opens are mostly Apple Mail Privacy Protection "
                 "prefetches, which hide whether anyone read.")
    if missing:
        text += f" Not counted: {', '.join(missing)} (no human clicker, so no blocked share)."
    if thin:
        text += (f" {', '.join(thin)} have too few clicking people for a share of their own: their share is "
                 "pulled toward the overall one by as much as its noise warrants (see status_reason).")
    if rough:
        text += (f" {', '.join(rough)}: known only roughly this period (their intervals are wider than an ok "
                 "estimate allows; see status_reason).")
    if doubtful:
        text += (f" {', '.join(doubtful)}: the data contradict the estimator's assumption (blocked readers click "
                 "as often as others); see the assumption check and the sensitivity band.")
    return text


def _in_plain_words_localized(table: pd.DataFrame, locale: str) -> str:
    """``in_plain_words`` through the catalogue (numbers in the locale's format)."""
    loc = locale_of(locale)
    machine = table["estimate_status"].eq("unmeasurable") & table["note"].fillna("").str.contains("machine open")
    usable = table[~machine & table["image_blocked_share_used"].notna()]
    if usable.empty:
        return format_message(loc, "No provider has messages without machine opens and human clickers, so hidden "
                                   "readers cannot be estimated.")
    hidden = float(usable["est_hidden_readers"].sum())
    nonopens = float((usable["measurable_delivered"] - usable["measurable_human_openers"]).sum())
    openers = float(usable["measurable_human_openers"].sum())
    text = format_message(
        loc, "Of {nonopens} recorded non-opens (messages without a machine open), about {hidden} ({share}) were "
             "people who read the message with images off: opens under-count readers by about {undercount}.",
        {"nonopens": ("integer", round(nonopens)), "hidden": ("integer", round(hidden)),
         "share": ("percent", hidden / nonopens, 1), "undercount": ("percent", hidden / openers, 0)})
    lost = table.loc[machine, "provider"].tolist()
    missing = table.loc[~machine & table["image_blocked_share_used"].isna(), "provider"].tolist()
    thin = usable.loc[usable["estimate_status"] == "insufficient_data", "provider"].tolist()
    rough = usable.loc[usable["estimate_status"] == "imprecise", "provider"].tolist()
    doubtful = usable.loc[usable["estimate_status"] == "assumption_violated", "provider"].tolist()
    if lost:
        text += " " + format_message(loc, "No estimate for {providers}: their opens are mostly Apple Mail Privacy "
                                          "Protection prefetches, which hide whether anyone read.",
                                     {"providers": ", ".join(lost)})
    if missing:
        text += " " + format_message(loc, "Not counted: {providers} (no human clicker, so no blocked share).",
                                     {"providers": ", ".join(missing)})
    if thin:
        text += " " + format_message(loc, "{providers} have too few clicking people for a share of their own: their "
                                          "share is pulled toward the overall one by as much as its noise warrants "
                                          "(see status_reason).", {"providers": ", ".join(thin)})
    if rough:
        text += " " + format_message(loc, "{providers}: known only roughly this period (their intervals are wider "
                                          "than an ok estimate allows; see status_reason).",
                                     {"providers": ", ".join(rough)})
    if doubtful:
        text += " " + format_message(loc, "{providers}: the data contradict the estimator's assumption (blocked "
                                          "readers click as often as others); see the assumption check and the "
                                          "sensitivity band.", {"providers": ", ".join(doubtful)})
    return text


def checks_in_plain_words(checks: pd.DataFrame, locale: str = DEFAULT_LOCALE) -> str:
    """What the assumption check says, in one or two sentences (from ``estimator_checks``), in the
    reader's language."""
    if locale != DEFAULT_LOCALE:
        return _checks_in_plain_words_localized(checks, locale)
    pooled = checks[checks["provider"] == "all"].set_index("evidence")
    if "content click (the estimator)" not in pooled.index:
        return "No human clicker among measurable messages: the assumption cannot be checked."
    ref = pooled.loc["content click (the estimator)"]
    parts = [f"{ref['share_without_open']:.1%} of content clickers showed no open"]
    verdict = []
    for evidence, row in pooled.iterrows():
        if evidence == "content click (the estimator)" or row["readers"] == 0:
            continue
        agrees = not bool(row["differs_from_estimator"])
        verdict.append(agrees)
        parts.append(f"{row['share_without_open']:.1%} for {evidence} "
                     f"({'within' if agrees else 'outside'} its interval "
                     f"{row['share_without_open_low']:.1%}-{row['share_without_open_high']:.1%})")
    text = "; ".join(parts) + "."
    if verdict and all(verdict):
        text += " Every group of proven readers agrees with the clickers: the data do not contradict the assumption."
    elif verdict:
        text += (" Some groups of proven readers differ from the clickers: the blocked share, and the read "
                 "rates built on it, may be biased for the readers those groups stand for.")
    return text


def _checks_in_plain_words_localized(checks: pd.DataFrame, locale: str) -> str:
    """``checks_in_plain_words`` through the catalogue."""
    loc = locale_of(locale)
    pooled = checks[checks["provider"] == "all"].set_index("evidence")
    if "content click (the estimator)" not in pooled.index:
        return format_message(loc, "No human clicker among measurable messages: the assumption cannot be checked.")
    ref = pooled.loc["content click (the estimator)"]
    parts = [format_message(loc, "{share} of content clickers showed no open",
                            {"share": ("percent", ref["share_without_open"], 1)})]
    verdict = []
    for evidence, row in pooled.iterrows():
        if evidence == "content click (the estimator)" or row["readers"] == 0:
            continue
        agrees = not bool(row["differs_from_estimator"])
        verdict.append(agrees)
        template = ("{share} for {evidence} (within its interval {low}-{high})" if agrees
                    else "{share} for {evidence} (outside its interval {low}-{high})")
        parts.append(format_message(loc, template, {
            "share": ("percent", row["share_without_open"], 1), "evidence": str(evidence),
            "low": ("percent", row["share_without_open_low"], 1), "high": ("percent", row["share_without_open_high"], 1)}))
    text = loc.gettext("; ").join(parts) + "."  # French: " ; "
    if verdict and all(verdict):
        text += " " + format_message(loc, "Every group of proven readers agrees with the clickers: the data do not "
                                          "contradict the assumption.")
    elif verdict:
        text += " " + format_message(loc, "Some groups of proven readers differ from the clickers: the blocked share, "
                                          "and the read rates built on it, may be biased for the readers those "
                                          "groups stand for.")
    return text


#: The trailing window, in months, of the monthly report's pooled hidden-images table.
