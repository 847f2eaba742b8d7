"""The Spark engine (a package): the metrics' own ``.sql`` files run on Apache Spark over a lake (``dlvstats.lake``).

The only package that imports pyspark and sqlglot, both lazily (``dlvstats --help`` pays for neither):
``pip install 'dlvstats[spark]'``. A metric function is given a ``SparkLake`` instead of a database path;
its ``readonly()`` connection is a ``SparkConnection``, whose ``execute(statement, params)`` takes the
DuckDB statements of the packaged SQL files, translates each with sqlglot (DuckDB -> Spark SQL) and runs it
with its ``$named`` values bound by Spark as parameters (``:name`` markers; never pasted into the text).
A temporary table (``CREATE TEMP TABLE x AS ...``) becomes a cached temporary view. Where a file does not
translate, a Spark form of it sits beside it (``name.spark.sql``, written in Spark SQL with the same
``$named`` parameters, its header saying why), and ``db.run`` picks it for a Spark connection. The
results come back as small pandas frames, and the metric's own Python finishes them as on DuckDB.

``SPARK_METRICS`` lists the metrics whose every SQL file runs here (each tested equal to DuckDB on the
same lake: counts exact, rates within 1e-9); ``NOT_ON_SPARK`` says why each other one does not yet.

Modules: ``session`` (the Spark session, DuckDB's semantics), ``translate`` (DuckDB SQL -> Spark SQL with
sqlglot), ``macros`` (the packaged SQL macros of ``sql/macros/`` expanded inline: Spark has none), ``connection`` (``SparkLake``, ``SparkConnection``: a lake's tables as Spark views), ``lakewrite``
(month partitions rewritten in place: the Spark ingest job's writer). This package is the only importer of
pyspark and sqlglot, inside its functions.
"""

from __future__ import annotations

from dlvstats.spark.connection import (
    SparkConnection,
    SparkLake,
    SparkResult,
    is_uri,
    lake_frame,
    read_manifest,
    table_path,
)
from dlvstats.spark.session import SparkUnavailable, session
from dlvstats.spark.translate import SparkTranslationError, spark_type, translate

__all__ = [
    "NOT_ON_SPARK", "SPARK_METRICS", "SparkConnection", "SparkLake", "SparkResult",
    "SparkTranslationError", "SparkUnavailable", "is_uri", "lake_frame", "read_manifest", "session", "spark_type",
    "table_path", "translate",
]

#: metrics that run on Spark (tests/test_spark.py checks each against DuckDB).
SPARK_METRICS: tuple[str, ...] = (
    "account-risk", "blocklist-culprits", "blocklist-events", "blocklist-status", "bounce-categories", "campaign-kinds",
    "campaigns", "compliance", "gift-campaigns", "gift-grey-list", "gift-migration", "gmail-spam-rate",
    "reengagement-campaigns", "sender-health", "snds-ip-timeline",
)

#: the others, with why (the CLI's error and docs/scale-out.md say the same).
NOT_ON_SPARK: dict[str, str] = {
    "classification-sensitivity": "sensitivity_base.sql ATTACHes an in-memory scratch database and re-runs the "
                                  "classifier's SQL there; Spark has no ATTACH",
    "engagement-by-age": "engagement_aggregate.sql uses DuckDB list lambdas, the sunset table registers an Arrow "
                         "table, and the read estimator's bootstrap draws from DuckDB's hash(), which Spark has "
                         "not (intervals would differ)",
    "hidden-images": "its read estimator's bootstrap draws each person's weight from DuckDB's hash(), which Spark "
                     "has not (intervals would differ)",
}
