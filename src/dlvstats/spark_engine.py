"""The Spark engine: the metrics' own ``.sql`` files run on Apache Spark over a lake (``dlvstats.lake``).

The only module that imports pyspark and sqlglot, both lazily (``dlvstats --help`` pays for neither):
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
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

#: metrics that run on Spark (tests/test_spark.py checks each against DuckDB).
SPARK_METRICS: tuple[str, ...] = (
    "account-risk", "blocklist-culprits", "blocklist-events", "blocklist-status", "bounce-categories", "campaigns",
    "gift-migration", "gmail-spam-rate", "sender-health", "snds-ip-timeline",
)

#: the others, with why (the CLI's error and docs/scale-out.md say the same).
NOT_ON_SPARK: dict[str, str] = {
    "campaign-kinds": "gift_campaign_kinds.sql uses an ASOF JOIN and DuckDB's simplified PIVOT/UNPIVOT",
    "classification-sensitivity": "sensitivity_base.sql ATTACHes an in-memory scratch database and re-runs the "
                                  "classifier's SQL there; Spark has no ATTACH",
    "compliance": "sender_health_compliance.sql uses ASOF JOINs and DuckDB's simplified PIVOT",
    "engagement-by-age": "engagement_base.sql uses ASOF JOINs, engagement_aggregate.sql list lambdas, and the read "
                         "estimator's bootstrap draws from DuckDB's hash(), which Spark has not (intervals would differ)",
    "gift-campaigns": "gift_campaigns.sql uses an ASOF JOIN and DuckDB's simplified PIVOT/UNPIVOT",
    "gift-grey-list": "gift_grey_list.sql uses an ASOF JOIN and DuckDB's simplified PIVOT/UNPIVOT",
    "hidden-images": "its read weights come from engagement_base.sql (ASOF JOINs) and a bootstrap drawn from "
                     "DuckDB's hash(), which Spark has not (intervals would differ)",
    "reengagement-campaigns": "gift_campaigns.sql uses an ASOF JOIN and DuckDB's simplified PIVOT/UNPIVOT",
}


_TYPES = {
    "VARCHAR": "string", "UUID": "string", "TIMESTAMP": "timestamp_ntz", "DATE": "date", "INTEGER": "int",
    "BIGINT": "bigint", "SMALLINT": "smallint", "BOOLEAN": "boolean", "DOUBLE": "double", "FLOAT": "float",
}


class SparkUnavailable(RuntimeError):
    """pyspark, sqlglot or Java is missing."""


class SparkTranslationError(RuntimeError):
    """A statement of a packaged SQL file has no Spark form."""


def spark_type(duckdb_type: str) -> str:
    """The Spark SQL type of a DuckDB column type of the lake's manifest."""
    if duckdb_type.startswith("DECIMAL"):
        return duckdb_type.lower()
    if duckdb_type not in _TYPES:
        raise SparkTranslationError(f"no Spark type for the DuckDB type {duckdb_type}")
    return _TYPES[duckdb_type]


def _imports():
    try:
        import pyspark  # noqa: F401
        import sqlglot  # noqa: F401
    except ImportError as exc:
        raise SparkUnavailable(
            f"the Spark engine needs pyspark and sqlglot ({exc}): pip install 'dlvstats[spark]' "
            "(and Java 17: apt-get install openjdk-17-jre-headless)"
        ) from exc


def session(master: str | None = None, cores: int | None = None):
    """The active Spark session (spark-submit, Databricks, a test's shared one), or a new local one.

    A new one runs the DLVSTATS_SPARK_MASTER setting (default ``local[2]``, or ``local[cores]``), bound
    to loopback unless SPARK_LOCAL_IP says otherwise, UI off, few shuffle partitions (small results)."""
    _imports()
    from pyspark.sql import SparkSession

    from dlvstats.config import settings

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    master = master or (f"local[{cores}]" if cores else settings().spark_master)
    try:
        builder = (SparkSession.builder.master(master).appName("dlvstats")
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.shuffle.partitions", "4")
                   .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                   .config("spark.driver.bindAddress", os.environ["SPARK_LOCAL_IP"]))
        spark = builder.getOrCreate()
    except Exception as exc:  # no java: pyspark raises PySparkRuntimeError (JAVA_GATEWAY_EXITED)
        raise SparkUnavailable(f"could not start Spark ({exc}); is Java 17 installed "
                               "(apt-get install openjdk-17-jre-headless, or set JAVA_HOME)?") from exc
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _configure(spark) -> None:
    """DuckDB's semantics where Spark's defaults differ: timestamps without zone, UTC, ANSI off."""
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.conf.set("spark.sql.timestampType", "TIMESTAMP_NTZ")
    spark.conf.set("spark.sql.sources.partitionColumnTypeInference.enabled", "false")


class SparkLake:
    """A lake read by Spark: pass it where a metric takes ``db_path``."""

    engine = "spark"

    def __init__(self, lake_dir, spark=None):
        self.lake_dir = str(lake_dir) if is_uri(lake_dir) else Path(lake_dir)  # s3a://, abfss://, dbfs:/, file://
        self._spark = spark

    def __fspath__(self) -> str:
        return str(self.lake_dir)

    def __repr__(self) -> str:
        return f"SparkLake({str(self.lake_dir)!r})"

    @property
    def spark(self):
        if self._spark is None:
            self._spark = session()
        return self._spark

    def connect(self) -> SparkConnection:
        return SparkConnection(self.spark, self.lake_dir)


def is_uri(path) -> bool:
    """An object-storage or filesystem URI (s3a://bucket/lake, abfss://..., dbfs:/..., file:///...)."""
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:/", str(path)))


def table_path(lake_dir, name: str) -> str:
    """Where a lake table (or the manifest) lives, for Spark's readers."""
    if is_uri(lake_dir):
        return f"{str(lake_dir).rstrip('/')}/{name}"
    return str(Path(lake_dir).resolve() / name)


def read_manifest(spark, lake_dir) -> dict:
    """The lake's manifest: a local file through ``dlvstats.lake``; a URI through Spark's filesystems."""
    import json

    from dlvstats import lake

    if not is_uri(lake_dir):
        return lake.manifest(lake_dir)
    try:
        rows = spark.read.text(table_path(lake_dir, lake.MANIFEST), wholetext=True).collect()
    except Exception as exc:  # Spark says "path does not exist" in its own exception types
        raise lake.LakeError(f"{lake_dir}: no {lake.MANIFEST} readable there ({str(exc).splitlines()[0]}); "
                             "write the lake with `dlvstats export --lake` and copy it whole") from exc
    try:
        found = json.loads("".join(r.value for r in rows))
    except ValueError as exc:  # no such file (Spark may read nothing rather than fail), or not JSON
        raise lake.LakeError(f"{lake_dir}: no readable {lake.MANIFEST} there; write the lake with "
                             "`dlvstats export --lake` and copy it whole") from exc
    if found.get("format") != lake.LAKE_FORMAT:
        raise lake.LakeError(f"{lake_dir}: lake format {found.get('format')!r}, this dlvstats reads {lake.LAKE_FORMAT}")
    return found


def lake_frame(spark, lake_dir, table: str, info: dict):
    """One lake table as a Spark DataFrame with the database's columns, in order, typed as in the manifest."""
    from pyspark.sql import functions as F

    schema = ", ".join(f"`{c}` {spark_type(t)}" for c, t in info["columns"])
    if not info["rows"]:
        return spark.createDataFrame([], schema=schema)
    base = table_path(lake_dir, table)
    frame = spark.read.option("basePath", base).parquet(base)
    return frame.select(*[F.col(f"`{c}`").cast(spark_type(t)).alias(c) for c, t in info["columns"]])


_SETTING = re.compile(r"^\s*(SET|RESET|PRAGMA)\b", re.IGNORECASE)
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def _csv_reads(tree) -> list[tuple[str, str, str, dict]]:
    """Replace each ``read_csv($param, header=..., columns={...})`` of ``tree`` by a view name; return
    ``(view, param, schema_ddl, options)`` for the engine to register from the bound path (Spark SQL
    has no CSV table function taking a schema)."""
    from sqlglot import exp

    reads = []
    for node in list(tree.find_all(exp.ReadCSV)):
        if not isinstance(node.this, exp.Placeholder):
            raise SparkTranslationError("read_csv on Spark takes its path as a $parameter")
        options, schema = {}, None
        for setting in node.expressions:
            key = setting.this.name.lower()
            if key == "columns":
                schema = ", ".join(f"`{c.this.name}` {spark_type(c.expression.name.upper())}"
                                   for c in setting.expression.expressions)
            elif key in ("header", "quote", "escape", "delim", "sep"):
                value = setting.expression
                options["sep" if key == "delim" else key] = (
                    "true" if value.this is True else "false" if value.this is False else value.name)
        if schema is None:
            raise SparkTranslationError("read_csv on Spark needs its columns = {...}")
        view = f"__csv_{node.this.name}"
        table = node.parent if isinstance(node.parent, exp.Table) else node
        alias = table.args.get("alias")
        table.replace(exp.Table(this=exp.to_identifier(view), alias=alias))
        reads.append((view, node.this.name, schema, options))
    return reads


def _portable(tree):
    """Rewrites where DuckDB and Spark mean the same with different words, and sqlglot 30 leaves them:
    CTE materialisation hints dropped (Spark plans CTEs itself); ``to_days(n)`` -> ``make_dt_interval(n)``;
    ``hash(...)`` -> ``xxhash64(...)``, a 64-bit key as DuckDB's (Spark's ``hash`` is 32-bit: collisions at
    ESP scale); the values differ from DuckDB's, and the SQL uses them only as join and grouping keys."""
    from sqlglot import exp

    for cte in tree.find_all(exp.CTE):
        cte.set("materialized", None)

    def is_tz(node):
        return isinstance(node, exp.Anonymous) and node.name.lower() == "timezone" and len(node.expressions) == 2

    def is_utc(node):
        return isinstance(node, exp.Literal) and node.is_string and node.name.upper() == "UTC"

    def rewrite(node):
        # DuckDB's pair timezone(tz, timezone('UTC', x)): naive UTC x -> wall time in tz (Spark:
        # from_utc_timestamp); timezone('UTC', timezone(tz, y)): wall time y in tz -> naive UTC (to_utc_timestamp)
        if is_tz(node) and is_tz(node.expressions[1]):
            outer_zone, inner = node.expressions
            inner_zone, value = inner.expressions
            if is_utc(inner_zone):
                return exp.Anonymous(this="from_utc_timestamp", expressions=[value, outer_zone])
            if is_utc(outer_zone):
                return exp.Anonymous(this="to_utc_timestamp", expressions=[value, inner_zone])
        if is_tz(node):
            raise SparkTranslationError(f"no Spark form of a lone DuckDB {node.sql(dialect='duckdb')}")
        if isinstance(node, exp.ToDays):
            return exp.Anonymous(this="make_dt_interval", expressions=[node.this])
        if isinstance(node, exp.Anonymous) and node.name.lower() == "hash":
            return exp.Anonymous(this="xxhash64", expressions=node.expressions)
        return node

    for pivot in list(tree.find_all(exp.Pivot)):
        if pivot.args.get("using") is not None:  # DuckDB's statement form PIVOT t ON c IN (...) USING ... GROUP BY
            pivot.replace(_spark_pivot(pivot))
    for _ in range(8):  # a replaced node's own arguments are rewritten on the next pass
        before = tree.sql(dialect="duckdb")
        tree = tree.transform(rewrite)
        if tree.sql(dialect="duckdb") == before:
            break
    return tree


def _spark_pivot(pivot):
    """DuckDB's ``PIVOT t ON c IN (v...) USING agg(x) AS _a, ... GROUP BY g`` as Spark's
    ``SELECT * FROM (SELECT g, c, x... FROM t) PIVOT (agg(x) AS _a, ... FOR c IN (v...))``: the same rows (one
    per g) and the same column names (``v_<alias>``: 'complaint_rate' and '_num' give complaint_rate__num)."""
    import sqlglot
    from sqlglot import exp

    (on,) = pivot.expressions
    if not isinstance(on, exp.In) or pivot.args.get("group") is None:
        raise SparkTranslationError("only PIVOT ... ON col IN (values) USING ... GROUP BY ... has a Spark form here")
    groups = [g.sql(dialect="spark") for g in pivot.args["group"].expressions]
    inputs = []
    for agg in pivot.args["using"]:
        for column in agg.find_all(exp.Column):
            if column.sql(dialect="spark") not in inputs:
                inputs.append(column.sql(dialect="spark"))
    column = on.this.sql(dialect="spark")
    source = pivot.this.sql(dialect="spark")
    aggs = ", ".join(a.sql(dialect="spark") for a in pivot.args["using"])
    values = ", ".join(v.sql(dialect="spark") for v in on.expressions)
    text = (f"SELECT * FROM (SELECT {', '.join(groups + [column] + inputs)} FROM {source}) "
            f"PIVOT ({aggs} FOR {column} IN ({values}))")
    return sqlglot.parse_one(text, read="spark")


_CTE_COUNTER = [0]


def _split_ctes(tree) -> list[tuple[str, object, bool]]:
    """Take the statement's top-level WITH apart: ``(view, query, cached)`` per CTE, in order, each CTE's
    references renamed to its view. DuckDB computes a CTE referenced more than once once; Spark inlines it
    at every reference (account-risk's, referenced seven times, cost 50 s on 20k messages): those become
    cached views (computed once, as in DuckDB), the others plain (lazy) views."""
    from sqlglot import exp

    with_ = tree.args.get("with_") if "with_" in tree.args else tree.args.get("with")
    if with_ is None or with_.args.get("recursive"):
        return []
    ctes = list(with_.expressions)
    names = {cte.alias: None for cte in ctes}
    counts = {name: 0 for name in names}
    for table in tree.find_all(exp.Table):
        if not table.args.get("db") and table.name in counts:
            counts[table.name] += 1
    if max(counts.values(), default=0) < 2:
        return []
    _CTE_COUNTER[0] += 1
    for cte in ctes:
        names[cte.alias] = f"__cte{_CTE_COUNTER[0]}_{cte.alias}"
    refs = {name: 0 for name in names}
    for table in tree.find_all(exp.Table):
        if not table.args.get("db") and table.name in names:
            refs[table.name] += 1
            if not table.args.get("alias"):
                table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name)))
            table.set("this", exp.to_identifier(names[table.name]))
    key = "with_" if "with_" in tree.args else "with"
    tree.set(key, None)
    return [(names[cte.alias], cte.this, refs[cte.alias] > 1) for cte in ctes]


def translate(statement: str):
    """``(spark_sql, temp_name, csv_reads)`` for one DuckDB statement: ``temp_name`` when it creates a temp
    table (then ``spark_sql`` is its query), ``spark_sql`` None for a DuckDB setting (nothing to do), and
    the CSV files to register as views first (``_csv_reads``)."""
    import sqlglot
    from sqlglot import exp

    if _SETTING.match(statement):
        return None, None, []
    try:
        tree = sqlglot.parse_one(statement, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise SparkTranslationError(f"sqlglot cannot parse this DuckDB statement: {exc}") from exc
    for node in tree.walk():
        if isinstance(node, (exp.Attach, exp.Use)) if hasattr(exp, "Attach") else isinstance(node, exp.Use):
            raise SparkTranslationError(f"no Spark form of {type(node).__name__.upper()} (a scratch database)")
        if isinstance(node, exp.Join) and str(node.args.get("method") or "").upper() == "ASOF":
            raise SparkTranslationError("Spark SQL has no ASOF JOIN (and sqlglot no translation of it): this file "
                                        "needs a Spark form beside it (name.spark.sql)")
    temp = None
    if isinstance(tree, exp.Create) and tree.args.get("kind") in ("TABLE", "VIEW"):
        props = tree.args.get("properties")
        temporary = props is not None and any(isinstance(p, exp.TemporaryProperty) for p in props.expressions)
        if not temporary:
            raise SparkTranslationError("only temporary tables and views are created on Spark (the lake is read-only)")
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        if target.args.get("db") or target.args.get("catalog"):
            raise SparkTranslationError(f"a temp table in another schema ({target.sql()}) has no Spark form")
        temp = target.name
        tree = tree.expression
    reads = _csv_reads(tree)
    tree = _portable(tree)
    ctes = _split_ctes(tree)

    def spark_sql(node) -> str:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return node.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
            except sqlglot.errors.UnsupportedError as exc:
                raise SparkTranslationError(f"sqlglot has no Spark form of part of this statement: {exc}") from exc

    steps = [(view, spark_sql(query), cached) for view, query, cached in ctes]
    return spark_sql(tree), temp, reads, steps


def _bind(value):
    from datetime import datetime

    if isinstance(value, datetime) and value.tzinfo is not None:
        raise TypeError("timestamps are naive UTC in dlvstats")
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return value


def as_duckdb_frame(out, schema):
    """The pandas types DuckDB's ``.df()`` gives, so the metrics' Python sees the same frame: dates and
    timestamps as datetime64[us], decimals as float64 (DuckDB converts DECIMAL and HUGEINT to double)."""
    import pandas as pd
    from pyspark.sql import types as T

    for field in schema.fields:
        name = field.name
        if isinstance(field.dataType, (T.DateType, T.TimestampType, T.TimestampNTZType)):
            out[name] = pd.to_datetime(out[name]).astype("datetime64[us]")
        elif isinstance(field.dataType, T.DecimalType):
            out[name] = out[name].astype("float64")
    return out


class SparkResult:
    """What ``db.run`` returns on Spark: the last statement's (small) result."""

    def __init__(self, frame):
        self.frame = frame

    def df(self):
        import pandas as pd

        if self.frame is None:
            return pd.DataFrame()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyspark's note on pandas 3
            out = self.frame.toPandas()
        return as_duckdb_frame(out, self.frame.schema)

    def fetchall(self):
        return [tuple(row) for row in self.frame.collect()] if self.frame is not None else []

    def fetchone(self):
        rows = self.frame.limit(1).collect() if self.frame is not None else []
        return tuple(rows[0]) if rows else None

    def to_arrow_table(self):
        import pyarrow as pa

        return pa.Table.from_pandas(self.df(), preserve_index=False)


class SparkConnection:
    """A connection-like view of a Spark session over a lake: ``execute`` DuckDB statements, ``close``."""

    engine = "spark"

    def __init__(self, spark, lake_dir):
        from dlvstats import lake

        self.spark = spark
        _configure(spark)
        self._temps: list[str] = []
        self._cached: list = []
        found = read_manifest(spark, lake_dir)
        if found["schema_version"] != lake.db.SCHEMA_VERSION:
            raise lake.LakeError(f"{lake_dir} was exported from a schema-version {found['schema_version']} "
                                 f"database; this dlvstats reads version {lake.db.SCHEMA_VERSION}: export it again")
        for table, info in found["tables"].items():
            lake_frame(spark, lake_dir, table, info).createOrReplaceTempView(table)
            self._temps.append(table)

    def execute(self, statement: str, params: dict | None = None, *, native: bool = False) -> SparkResult:
        """Run one statement: DuckDB SQL (translated), or Spark SQL when ``native`` (a ``.spark.sql`` file)."""
        reads = []
        if native:
            text, temp = _PARAM.sub(r":\1", statement), None
            match = re.match(r"\s*CREATE\s+OR\s+REPLACE\s+TEMP(?:ORARY)?\s+(?:TABLE|VIEW)\s+(\w+)\s+AS\s+(.*)\Z",
                             text, re.IGNORECASE | re.DOTALL)
            if match:
                temp, text = match.group(1), match.group(2)
        else:
            text, temp, reads, steps = translate(statement)
            if text is None:
                return SparkResult(None)
        params = dict(params or {})
        for view, param, schema, options in reads:
            self.spark.read.csv(str(params.pop(param)), schema=schema, **options).createOrReplaceTempView(view)
            self._temps.append(view)
        for view, query, cached in ([] if native else steps):  # the CTEs DuckDB would compute once
            step = self._sql(query, params)
            if cached:
                step = step.cache()
                self._cached.append(step)
            step.createOrReplaceTempView(view)
            self._temps.append(view)
        frame = self._sql(text, params)
        if temp is not None:
            frame = frame.cache()
            frame.count()  # a temp table is computed once, as in DuckDB
            frame.createOrReplaceTempView(temp)
            self._cached.append(frame)
            self._temps.append(temp)
            return SparkResult(None)
        return SparkResult(frame)

    def _sql(self, text: str, params: dict):
        """``spark.sql`` with the values of the ``:name`` markers ``text`` has (a parameter only a CSV path or
        another step used is not passed)."""
        args = {k: _bind(v) for k, v in params.items() if re.search(rf":{k}\b", text)}
        try:
            return self.spark.sql(text, args=args or None)
        except Exception as exc:  # Spark's message, with the statement it was given
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SparkTranslationError(f"Spark refused a statement ({first}): {text[:2000]}") from exc

    def close(self) -> None:
        for frame in self._cached:
            frame.unpersist()
        for name in self._temps:
            self.spark.catalog.dropTempView(name)
        self._cached, self._temps = [], []
