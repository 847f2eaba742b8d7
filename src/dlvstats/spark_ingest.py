"""The Spark ingest job: ``dlvstats ingest DROP --engine spark --lake DIR`` adds a drop to a lake.

What runs where, and why:

1. **The drop is read, validated and deduplicated within itself by DuckDB** — the DuckDB ingest itself
   (``ingest_paths``) into a scratch database seeded with the lake's small tables (``meta``,
   ``provider_domains``, ``drops``). A drop is the increment (a day's or a month's files), and its
   validation — the CSV reader's structural errors, physical line numbers, types, the spec's rules,
   pseudonymisation, the refusal message — is one definition, not a second copy in Spark: the same
   refusal rules and messages by construction. A refused drop stops here; the lake is untouched.
2. **Deduplication against the lake's history and the rewrite of the month partitions run on Spark**
   (the history is what outgrows one machine): each kind's new rows are anti-joined with the stored ones
   on the spec's natural keys (``event_key`` within the new rows' time range, as merge_<kind>.sql;
   ``message_id``; ``campaign_id``; ``account_id, order_id``), the sends a drop settles become their
   settled rows (ingest/lake_sends_update.spark.sql, the rule of update_sends_status.sql), and every
   month partition the drop touches is written again whole and swapped in (``spark.lakewrite``).
   The accounting is corrected by what Spark found: read = loaded + updated + duplicates + rejected.
3. **Classification and the ``message_facts`` refresh run on DuckDB over the lake** (the classifier's
   SQL through ``lake.connect``, scoped to the drop as ``classify(con, only_drop_id=...)`` scopes it); the
   relabelled events and refreshed facts are written into their month partitions by Spark. This step
   reads the history on one machine (DuckDB scans only the columns and row groups it needs): the one
   step not yet distributed; the lake must be a local or mounted path for it.

While the partitions are swapped the manifest is replaced by ``dlvstats_lake.json.partial``, so both
readers refuse the lake rather than read half a drop; an exception puts every swapped partition back.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from dlvstats import aggregates, classify, db, lake
from dlvstats.ingest import IngestSummary, ingest_paths
from dlvstats.spark.lakewrite import month_of

#: kinds keyed by event_key (their time range bounds the stored rows a key can match)
EVENT_KINDS = ("opens", "clicks", "complaints", "subscriptions", "blocklists")
#: kinds keyed by other columns of the spec
KEYS = {"sends": ("message_id",), "campaigns": ("campaign_id",), "orders": ("account_id", "order_id")}
SEEDED = ("meta", "provider_domains", "drops")


class LakeIngestError(RuntimeError):
    """The lake cannot take a drop here (a URI, another schema version)."""


def _ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def ingest_lake(lake_dir, paths, *, spark=None, **options) -> IngestSummary:
    """Add the drop(s) at ``paths`` to the lake ``lake_dir`` as one ingest; the options are those of
    ``dlvstats.ingest.ingest_paths`` (``on_error``, ``timezone_name``, ``read_options``, ...)."""
    from dlvstats import spark as engine

    if engine.is_uri(lake_dir):
        raise LakeIngestError(f"{lake_dir}: the Spark ingest classifies the drop with DuckDB over the lake, "
                              "which needs a local or mounted path (docs/scale-out.md)")
    found = lake.manifest(lake_dir)
    if found["schema_version"] != db.SCHEMA_VERSION:
        raise LakeIngestError(f"{lake_dir} holds schema version {found['schema_version']}; this dlvstats writes "
                              f"{db.SCHEMA_VERSION}: export the lake again from a migrated database")
    spark = spark or engine.session()
    with tempfile.TemporaryDirectory(prefix="dlvstats-spark-ingest-") as tmp:
        scratch = Path(tmp) / "drop.duckdb"
        _seed(Path(lake_dir), found, scratch)
        summary = ingest_paths(scratch, paths, classify=False, **options)  # refusals: the DuckDB ingest's own
        _Job(spark, Path(lake_dir), found, scratch, Path(tmp), summary).run()
    return summary


def _seed(lake_dir: Path, found: dict, scratch: Path) -> None:
    """A scratch database knowing what the drop's ingest reads of the lake: its recipient mode and
    settings (meta), provider mapping and drop ids."""
    con = db.connect(scratch)
    try:
        db.migrate(con)
        for table in SEEDED:
            info = found["tables"].get(table)
            if info and info["rows"]:
                verb = "INSERT OR REPLACE" if table == "meta" else "INSERT"
                con.execute(f"{verb} INTO {table} {lake.duckdb_view_sql(lake_dir, table, info)}")
    finally:
        con.close()


class _Job:
    """One drop's Spark side: stage the new rows, merge, swap, classify, swap, write the manifest."""

    def __init__(self, spark, lake_dir: Path, found: dict, scratch: Path, tmp: Path, summary: IngestSummary):
        from dlvstats.spark import SparkConnection, lakewrite

        self.spark, self.lake_dir, self.found, self.scratch, self.tmp = spark, lake_dir, found, scratch, tmp
        self.summary, self.drop_id = summary, summary.drop_id
        self.writer = lakewrite.LakeWriter(spark, str(lake_dir.resolve()), f"drop={self.drop_id}")
        self.con = SparkConnection(spark, lake_dir)  # the lake's tables as Spark views (as before the drop)
        self.rows = {t: info["rows"] for t, info in found["tables"].items()}

    def info(self, table: str) -> dict:
        """The manifest's entry for ``table``, with its row count as the job has left it so far."""
        return {**self.found["tables"][table], "rows": int(self.rows[table])}

    def run(self) -> None:
        manifest = self.lake_dir / lake.MANIFEST
        partial = self.lake_dir / (lake.MANIFEST + ".partial")
        try:
            first = self._merge()
            partial.write_text(f"ingest of drop {self.drop_id} under way\n")
            manifest.unlink()
            self._swap(first)
            self._swap(self._classify())
            updated = {**self.found, "tables": {t: {**i, "rows": int(self.rows[t])}
                                                for t, i in self.found["tables"].items()}}
            manifest.write_text(json.dumps(updated, indent=2) + "\n")
            partial.unlink()
        except BaseException:
            self.writer.rollback()
            if not manifest.exists():
                manifest.write_text(json.dumps(self.found, indent=2) + "\n")
            partial.unlink(missing_ok=True)
            raise
        finally:
            self.con.close()
        self.writer.commit()

    # -- files between DuckDB and Spark
    def _export(self, con, name: str, select: str) -> str:
        """A DuckDB query's rows as a Parquet file in the job's staging; its path for Spark."""
        local = self.tmp / f"{name}.parquet"
        con.execute(f"COPY ({select}) TO '{local}' (FORMAT parquet)")
        target = f"{self.writer.work}/new/{name}.parquet"
        self.writer.upload(str(local), target)
        return target

    def _scratch_rows(self, con, table: str) -> str | None:
        """The drop's rows of ``table`` in the scratch database, staged for Spark (None: none)."""
        where = f"WHERE drop_id = {int(self.drop_id)}"
        if not con.execute(f"SELECT count(*) FROM {table} {where}").fetchone()[0]:
            return None
        cols = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" if t == "UUID" else c for c, t in self.info(table)["columns"])
        return self._export(con, table, f"SELECT {cols} FROM {table} {where}")

    # -- 1. merge with the stored rows
    def _merge(self) -> dict:
        """Stage every table the drop adds to; correct the summary's counts; return table -> months."""
        con = db.connect(self.scratch, read_only=True)
        try:
            files = {t: self._scratch_rows(con, t) for t in (*EVENT_KINDS, *KEYS, "rejects")}
        finally:
            con.close()
        staged = {}
        for table, path in files.items():
            if path is None:
                continue
            month_col = lake.MONTH_COLUMN[table]
            if table == "rejects":
                month_col = None  # a reject takes the month its drop is loaded: set with the drop below
            new = self.writer.read_file(path, self.info(table), month_col)
            new.createOrReplaceTempView(f"__new_{table}")
            staged[table] = self._merge_rejects(new) if table == "rejects" else self._merge_kind(table, new)
        for kind, count in self.summary.counts.items():
            if not count.balanced():  # a bug, never a user error: refuse rather than lose rows silently
                raise AssertionError(f"row accounting does not balance for {kind}: {count}")
        staged["drops"] = self._merge_drop()
        return staged

    def _merge_kind(self, table: str, new) -> list[str]:
        """The stored rows a new row duplicates, the settled sends, and the months to rewrite."""
        n_new = new.count()
        if table in EVENT_KINDS:
            stored = (f"(SELECT event_key FROM {table} WHERE ts BETWEEN (SELECT min(ts) FROM __new_{table}) "
                      f"AND (SELECT max(ts) FROM __new_{table}))")
            on = "e.event_key = n.event_key"
        else:
            stored, on = table, " AND ".join(f"e.{k} = n.{k}" for k in KEYS[table])
        twin = ""
        if table == "complaints":  # and a stored twin with no recipient where it has one (merge_complaints.sql)
            twin = (f" LEFT ANTI JOIN (SELECT message_id, recipient, ts, source FROM complaints WHERE message_id "
                    f"IS NOT NULL AND ts BETWEEN (SELECT min(ts) FROM __new_{table}) AND (SELECT max(ts) FROM "
                    f"__new_{table})) AS t ON t.message_id = n.message_id AND t.ts = n.ts AND t.source <=> n.source "
                    f"AND (t.recipient IS NULL OR n.recipient IS NULL)")
        inserted = self.spark.sql(f"SELECT n.* FROM __new_{table} AS n LEFT ANTI JOIN {stored} AS e ON {on}{twin}").cache()
        count = self.summary.counts[table]
        matched = n_new - inserted.count()
        settled = None
        if table == "sends":
            (statement,) = db.split_statements(db.sql_text("ingest/lake_sends_update.spark"))
            self.con.execute(statement, native=True)
            settled = self.spark.table("__settled_sends").cache()
            count.updated += settled.count()
        count.loaded -= matched
        count.duplicates += matched - (count.updated if table == "sends" else 0)
        months = {r[0] for r in inserted.select("month").distinct().collect()}
        if settled is not None:
            months |= {r[0] for r in settled.selectExpr("previous_month").distinct().collect()}
            months |= {r[0] for r in settled.selectExpr(month_of("sent_at")).distinct().collect()}
        months = sorted(months)
        stored_rows = self.writer.month_rows(table, self.info(table), months)
        content = stored_rows
        if settled is not None:
            content = content.join(settled.select("message_id"), "message_id", "left_anti").unionByName(
                settled.drop("previous_month").selectExpr("*", f"{month_of('sent_at')} AS month"))
        content = content.unionByName(inserted)
        self._stage(table, stored_rows, content)
        return months

    def _merge_rejects(self, new) -> list[str]:
        month = self._drop_month()
        new = new.selectExpr(*[_ident(c) for c, _ in self.info("rejects")["columns"]], f"'{month}' AS month")
        stored = self.writer.month_rows("rejects", self.info("rejects"), [month])
        self._stage("rejects", stored, stored.unionByName(new))
        return [month]

    def _drop_month(self) -> str:
        con = db.connect(self.scratch, read_only=True)
        try:
            return con.execute("SELECT strftime(loaded_at, '%Y-%m') FROM drops WHERE drop_id = $d",
                               {"d": self.drop_id}).fetchone()[0]
        finally:
            con.close()

    def _merge_drop(self) -> list[str]:
        """The drop's row, with the counts Spark corrected."""
        con = db.connect(self.scratch)
        try:
            con.execute("UPDATE drops SET summary_json = $s WHERE drop_id = $d",
                        {"s": json.dumps(self.summary.as_dict()), "d": self.drop_id})
            path = self._scratch_rows(con, "drops")
        finally:
            con.close()
        month = self._drop_month()
        stored = self.writer.month_rows("drops", self.info("drops"), [month])
        self._stage("drops", stored, stored.unionByName(self.writer.read_file(path, self.info("drops"), "loaded_at")))
        return [month]

    def _stage(self, table: str, stored, content) -> None:
        before = stored.count()
        self.rows[table] += self.writer.stage(table, self.info(table), content) - before

    def _swap(self, staged: dict) -> None:
        for table, months in staged.items():
            self.writer.swap(table, self.info(table), months)

    # -- 2. classification and message_facts (DuckDB over the lake), written by Spark
    def _classify(self) -> dict:
        """Label the drop's scope, refresh its facts; stage the relabelled months and the facts."""
        tables = {t: {**i, "rows": int(self.rows[t])} for t, i in self.found["tables"].items()}
        with_aggregates = set(aggregates.TABLES) <= set(tables)
        shadowed = ["opens", "clicks"] + (["message_facts", "meta", *aggregates.TABLES] if with_aggregates else [])
        con = lake.connect(self.lake_dir, {**self.found, "tables": tables},
                           prefix={t: f"__lake_{t}" for t in shadowed})
        try:
            con.execute("CREATE VIEW opens AS SELECT * FROM __lake_opens")
            con.execute("CREATE VIEW clicks AS SELECT * FROM __lake_clicks")
            classify.label_drop(con, self.drop_id)
            db.run(con, "classify/lake_labels")
            db.run(con, "relations/message_facts_scope", drop_id=self.drop_id)
            db.run(con, "relations/message_facts")
            if with_aggregates:
                self._refresh_aggregates(con)
            files = {
                "opens": self._export(con, "labels_opens", "SELECT CAST(event_key AS VARCHAR) AS event_key, actor, "
                                      "actor_rule FROM opens SEMI JOIN __open_actor USING (event_key)"),
                "clicks": self._export(con, "labels_clicks", "SELECT CAST(event_key AS VARCHAR) AS event_key, actor, "
                                       "actor_rule, is_unsubscribe_link FROM clicks SEMI JOIN __click_actor "
                                       "USING (event_key)"),
                "facts": self._export(con, "facts", "SELECT * FROM __message_facts_rows"),
                "scope": self._export(con, "facts_scope", "SELECT DISTINCT message_id FROM __facts_scope"),
            }
            if with_aggregates:
                files.update({t: self._export(con, t, f"SELECT * FROM {t}") for t in aggregates.TABLES})
                self.aggregates_record = con.execute("SELECT value FROM meta WHERE key = $k",
                                                     {"k": aggregates.META_KEY}).fetchone()
        finally:
            con.close()
        staged = {t: self._relabel(t, files[t]) for t in ("opens", "clicks")}
        staged["message_facts"] = self._refresh_facts(files["facts"], files["scope"])
        for table in ("meta", "provider_domains"):
            staged[table] = self._rewrite_small(table)
        for table in aggregates.TABLES if with_aggregates else ():
            stored = self.writer.month_rows(table, self.info(table), None)
            self._stage(table, stored, self.writer.read_file(files[table], self.info(table)))
            staged[table] = []
        return staged

    def _refresh_aggregates(self, con) -> None:
        """The monthly aggregates of the months the drop touched (``aggregates.refresh``, as the DuckDB
        ingest refreshes them after ``message_facts``), over the lake: the refreshed facts, ``meta`` and
        the stored aggregates are copied into the in-memory connection's own tables (the lake's views of
        them are shadowed), refreshed there, then written whole by Spark (they are small)."""
        con.execute("CREATE TABLE message_facts AS SELECT * FROM __lake_message_facts "
                    "WHERE message_id NOT IN (SELECT message_id FROM __facts_scope) "
                    "UNION ALL BY NAME SELECT * FROM __message_facts_rows")
        con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")  # as the schema's
        con.execute("INSERT INTO meta SELECT key, value FROM __lake_meta")
        for table in aggregates.TABLES:
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM __lake_{table}")
        aggregates.refresh(con)

    def _relabel(self, table: str, labels_path: str) -> list[str]:
        labels = self.spark.read.parquet(labels_path)
        label_cols = [c for c in labels.columns if c != "event_key"]
        stored = self.writer.month_rows(table, self.info(table), None)
        months = sorted(r[0] for r in stored.join(labels.select("event_key"), "event_key", "left_semi")
                        .select("month").distinct().collect())
        stored = self.writer.month_rows(table, self.info(table), months)
        stored.createOrReplaceTempView(f"__stored_{table}")
        labels.createOrReplaceTempView(f"__labels_{table}")
        cols = ", ".join(f"CASE WHEN l.event_key IS NULL THEN s.{_ident(c)} ELSE l.{_ident(c)} END AS {_ident(c)}"
                         if c in label_cols else f"s.{_ident(c)}" for c, _ in self.info(table)["columns"])
        content = self.spark.sql(f"SELECT {cols}, s.month FROM __stored_{table} AS s "
                                 f"LEFT JOIN __labels_{table} AS l ON l.event_key = s.event_key")
        self._stage(table, stored, content)
        return months

    def _refresh_facts(self, facts_path: str, scope_path: str) -> list[str]:
        info = self.info("message_facts")
        new = self.writer.read_file(facts_path, info, "sent_at")
        scope = self.spark.read.parquet(scope_path)
        every = self.writer.month_rows("message_facts", info, None)
        months = {r[0] for r in every.join(scope, "message_id", "left_semi").select("month").distinct().collect()}
        months = sorted(months | {r[0] for r in new.select("month").distinct().collect()})
        stored = self.writer.month_rows("message_facts", info, months)
        self._stage("message_facts", stored, stored.join(scope, "message_id", "left_anti").unionByName(new))
        return months

    def _rewrite_small(self, table: str) -> list[str]:
        """``meta`` (with the classification rules, as classify() records them) and ``provider_domains``
        (seeded on a first ingest) from the scratch database: one small file each."""
        con = db.connect(self.scratch)
        try:
            if table == "meta":
                rules = classify.DEFAULT_RULES
                con.execute("INSERT OR REPLACE INTO meta VALUES ('classification_rules', $r)",
                            {"r": json.dumps({"name": rules.name, **rules.params()})})
                if getattr(self, "aggregates_record", None):  # what the refresh over the lake recorded
                    con.execute("INSERT OR REPLACE INTO meta VALUES ($k, $v)",
                                {"k": aggregates.META_KEY, "v": self.aggregates_record[0]})
            path = self._export(con, table, f"SELECT * FROM {table}")
        finally:
            con.close()
        stored = self.writer.month_rows(table, self.info(table), None)
        self._stage(table, stored, self.writer.read_file(path, self.info(table)))
        return []
