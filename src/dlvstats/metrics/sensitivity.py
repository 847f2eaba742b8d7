"""Classification sensitivity: the headline rates under each alternative rule set.

``classification_sensitivity`` (CLI ``classification-sensitivity``) copies the period's delivered
messages that have events, and their opens and clicks, into a private in-memory scratch database
(``sql/metrics/sensitivity_base.sql``; the file itself is only read), labels them under every rule set
of ``classify.ALTERNATIVE_RULES`` into temporary tables (``classify.classify_previews``: the
classifier's own SQL, unchanged; the scope and the events' networks are built once for all rule sets) and computes the headline rates of ``sql/metrics/sensitivity.sql``
for each. A rate that moves a lot
between rule sets is one to quote with care.
"""

from __future__ import annotations

import pandas as pd

from dlvstats import classify, db
from dlvstats.config import MIN_CELL_DELIVERED
from dlvstats.metrics.common import Period, finish_rates, readonly
from dlvstats.metrics.hidden_images import quiet

RATES = ["human_open_rate", "human_click_rate", "machine_open_share", "bot_click_share", "measured_open_rate"]


def classification_sensitivity(db_path, date_from, date_to, account_id: str | None = None, *,
                               rule_sets=None, min_delivered: int = MIN_CELL_DELIVERED) -> pd.DataFrame:
    """One row per rule set: ``rules, human_open_rate, human_click_rate, machine_open_share,
    bot_click_share, measured_open_rate`` with intervals and counts, and ``*_change`` columns (the
    difference from the default rules, in rate points). See sql/metrics/sensitivity.sql."""
    period = Period.parse(date_from, date_to)
    rule_sets = tuple(rule_sets) if rule_sets is not None else classify.ALTERNATIVE_RULES
    rows = []
    with readonly(db_path) as con:
        quiet(con)
        db.run(con, "metrics/sensitivity_base", **period.params(), account_id=account_id)
        # the scope and the events' networks do not depend on the rules: built once, not per rule set
        for rules in classify.classify_previews(con, rule_sets, period.start, period.end):
            row = db.query_df(con, "metrics/sensitivity")
            row.insert(0, "rules", rules.name)
            rows.append(row)
    df = finish_rates(pd.concat(rows, ignore_index=True), RATES, min_delivered=min_delivered)
    base = df.iloc[0]
    for rate in RATES:
        df[f"{rate}_change"] = df[rate] - base[rate]
    rates_cols = [c for r in RATES for c in (r, f"{r}_low", f"{r}_high", f"{r}_change")]
    rest = [c for c in df.columns if c not in rates_cols and c != "rules"]
    return df[["rules"] + rates_cols + rest]
