"""The monthly report's pooled engagement headlines, each with its 95 % interval.

The report's headline table pools engagement-by-age over its age buckets. The pooled rate is the
sum of the buckets' numerators over the sum of their denominators. Its interval cannot be pooled
from the buckets' intervals: a person can fall in two buckets in one month. So this one-row metric
recomputes it from ``message_facts``, clustered by recipient like every other rate. The numbers are
the same as the pooled engagement-by-age figures; ``tests/test_report.py`` checks that they agree.
"""

from __future__ import annotations

import pandas as pd

from dlvstats import db
from dlvstats.metrics.common import Period, finish_rates, readonly

RATES = ["human_open_rate", "click_rate", "unsubscribe_rate"]


def headline_rates(db_path, date_from, date_to, account_id: str | None = None) -> pd.DataFrame:
    """One row: ``delivered, human_openers, human_clickers, unsubscribes`` and ``human_open_rate,
    click_rate, unsubscribe_rate``, each with ``_low``/``_high`` (see sql/metrics/headline_rates.sql)."""
    period = Period.parse(date_from, date_to)
    with readonly(db_path) as con:
        raw = db.query_df(con, "metrics/headline_rates", date_from=period.start, date_to=period.end,
                          account_id=account_id)
    return finish_rates(raw, RATES, min_delivered=0)
