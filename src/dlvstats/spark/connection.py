"""A lake read by Spark: ``SparkLake`` (pass it where a metric takes a database path) and its connection,
whose ``execute`` takes the packaged DuckDB statements (translated) or a ``.spark.sql`` file's (native)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from dlvstats.spark.session import _configure, session
from dlvstats.spark.translate import _PARAM, SparkTranslationError, spark_type, translate


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
