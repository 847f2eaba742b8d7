"""Writing a lake from Spark: the month partitions a drop touches, rewritten whole and swapped in.

A table's new contents for a set of months (a Spark DataFrame with the table's columns and ``month``) is
written under ``LAKE/_ingest/<drop>/staged/<table>/month=M/`` (Spark cannot overwrite the files it reads),
then each touched ``LAKE/<table>/month=M`` directory is renamed to ``_ingest/<drop>/previous/`` and the
staged one renamed into its place. Renames go through Hadoop's FileSystem, so the same code runs on a local
path, HDFS or an object store (where a rename is a copy). ``LakeWriter.rollback`` renames back what was
swapped (an exception mid-way leaves the lake as it was); ``commit`` deletes the previous partitions.
A month left with no rows has no directory, as after ``dlvstats export``.
"""

from __future__ import annotations

from dlvstats.spark.connection import table_path
from dlvstats.spark.translate import spark_type


def month_of(column: str) -> str:
    """Spark's form of lake.py's month of a row (strftime(col, '%Y-%m'), 'unknown' without a time)."""
    return f"coalesce(date_format(`{column}`, 'yyyy-MM'), 'unknown')"


class LakeWriter:
    """The swaps of one ingest into ``lake_dir`` (staging under ``_ingest/<tag>``)."""

    def __init__(self, spark, lake_dir, tag: str):
        self.spark = spark
        self.lake_dir = lake_dir
        self.work = table_path(lake_dir, f"_ingest/{tag}")
        self._done: list[tuple[str, str]] = []  # (from, to) renames, in order

    # -- Hadoop FileSystem, through Spark's JVM
    def _path(self, text: str):
        jvm = self.spark.sparkContext._jvm
        path = jvm.org.apache.hadoop.fs.Path(text)
        return path.getFileSystem(self.spark.sparkContext._jsc.hadoopConfiguration()), path

    def exists(self, text: str) -> bool:
        fs, path = self._path(text)
        return bool(fs.exists(path))

    def delete(self, text: str) -> None:
        fs, path = self._path(text)
        if fs.exists(path):
            fs.delete(path, True)

    def rename(self, source: str, target: str) -> None:
        fs, src = self._path(source)
        _, dst = self._path(target)
        fs.mkdirs(dst.getParent())
        if not fs.rename(src, dst):
            raise OSError(f"could not rename {source} to {target}")
        self._done.append((source, target))

    def upload(self, local_file: str, target: str) -> None:
        """A file of the driver's disk (DuckDB's staged rows) to ``target`` in the lake's filesystem."""
        fs, dst = self._path(target)
        jvm = self.spark.sparkContext._jvm
        fs.copyFromLocalFile(False, True, jvm.org.apache.hadoop.fs.Path(f"file://{local_file}"), dst)

    # -- tables
    def month_rows(self, table: str, info: dict, months: list[str] | None):
        """The stored rows of ``months`` (all when None), with their ``month``, typed as in the manifest
        (read afresh: a frame read before a swap lists the files that were swapped out)."""
        from pyspark.sql import functions as F

        schema = ", ".join([f"`{c}` {spark_type(t)}" for c, t in info["columns"]] + ["month string"])
        if not info["rows"] or months == []:
            return self.spark.createDataFrame([], schema=schema)
        base = table_path(self.lake_dir, table)
        frame = self.spark.read.option("basePath", base).parquet(base)
        if not info["partitioned_by"]:
            frame = frame.withColumn("month", F.lit(None).cast("string"))
        elif months is not None:
            frame = frame.where(F.col("month").isin(months))
        return frame.select(*[F.col(f"`{c}`").cast(spark_type(t)).alias(c) for c, t in info["columns"]],
                            F.col("month").cast("string"))

    def read_file(self, path: str, info: dict, month: str | None = None):
        """A Parquet file of rows (DuckDB's staged drop) typed as the manifest says, with the ``month`` of
        each row (of ``month``, a column name of the table, when given)."""
        from pyspark.sql import functions as F

        frame = self.spark.read.parquet(path)
        columns = [F.col(f"`{c}`").cast(spark_type(t)).alias(c) for c, t in info["columns"]]
        frame = frame.select(*columns)
        label = F.expr(month_of(month)) if month else F.lit(None).cast("string")
        return frame.withColumn("month", label)

    def stage(self, table: str, info: dict, frame) -> int:
        """Write ``frame`` (the table's columns and ``month``) as the staged months of ``table``; its rows."""
        from pyspark.sql import functions as F

        columns = [F.col(f"`{c}`").cast(spark_type(t)).alias(c) for c, t in info["columns"]]
        target = f"{self.work}/staged/{table}"
        self.delete(target)
        frame = frame.select(*columns, F.col("month")).cache()
        try:
            count = frame.count()
            if info["partitioned_by"]:
                frame.write.partitionBy("month").mode("overwrite").parquet(target)
            else:
                frame.drop("month").coalesce(1).write.mode("overwrite").parquet(target)
        finally:
            frame.unpersist()
        return count

    def swap(self, table: str, info: dict, months: list[str]) -> None:
        """The staged months of ``table`` in place of the stored ones (all of it when unpartitioned)."""
        live_base = table_path(self.lake_dir, table)
        parts = [f"month={m}" for m in months] if info["partitioned_by"] else [""]
        for part in parts:
            live = f"{live_base}/{part}".rstrip("/")
            staged = f"{self.work}/staged/{table}/{part}".rstrip("/")
            if self.exists(live):
                self.rename(live, f"{self.work}/previous/{table}/{part}".rstrip("/"))
            if self.exists(staged):
                self.rename(staged, live)

    def rollback(self) -> None:
        """Undo the swaps, newest first; then drop the staging."""
        for source, target in reversed(self._done):
            fs, dst = self._path(target)
            _, src = self._path(source)
            fs.mkdirs(src.getParent())
            fs.rename(dst, src)
        self._done = []
        self.delete(self.work)

    def commit(self) -> None:
        self._done = []
        self.delete(self.work)
        parent = table_path(self.lake_dir, "_ingest")
        fs, path = self._path(parent)
        if fs.exists(path) and not fs.listStatus(path):
            fs.delete(path, True)
