"""DuckDB SQL -> Spark SQL, statement by statement, with sqlglot and the rewrites it does not do."""

from __future__ import annotations

import re
import warnings

from dlvstats.spark.macros import MacroError
from dlvstats.spark.macros import expand as expand_macros

_TYPES = {
    "VARCHAR": "string", "UUID": "string", "TIMESTAMP": "timestamp_ntz", "DATE": "date", "INTEGER": "int",
    "BIGINT": "bigint", "SMALLINT": "smallint", "BOOLEAN": "boolean", "DOUBLE": "double", "FLOAT": "float",
}


class SparkTranslationError(RuntimeError):
    """A statement of a packaged SQL file has no Spark form."""


def spark_type(duckdb_type: str) -> str:
    """The Spark SQL type of a DuckDB column type of the lake's manifest."""
    if duckdb_type.startswith("DECIMAL"):
        return duckdb_type.lower()
    if duckdb_type not in _TYPES:
        raise SparkTranslationError(f"no Spark type for the DuckDB type {duckdb_type}")
    return _TYPES[duckdb_type]



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
    CTE materialisation hints dropped (Spark plans CTEs itself); ``to_days(n)`` -> ``make_dt_interval(n)``
    (``to_hours``, ``to_minutes``, ``to_seconds`` likewise); a division by a decimal literal in DOUBLE, as DuckDB
    divides (Spark's DECIMAL division rounds to 6 places);
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
        unit = type(node).__name__.lower() if not isinstance(node, exp.Anonymous) else node.name.lower()
        if unit in ("tohours", "to_hours", "tominutes", "to_minutes", "toseconds", "to_seconds"):
            # make_dt_interval(days, hours, mins, secs)
            value = node.this if not isinstance(node, exp.Anonymous) else node.expressions[0]
            position = {"h": 1, "m": 2, "s": 3}[unit.replace("to_", "").replace("to", "")[0]]
            args = [exp.Literal.number(0)] * position + [value]
            return exp.Anonymous(this="make_dt_interval", expressions=args)
        if isinstance(node, exp.Div):
            # DuckDB divides by a decimal literal (x / 3600.0) in DOUBLE; Spark in DECIMAL, rounded to 6 places
            for key in ("this", "expression"):
                side = node.args.get(key)
                if isinstance(side, exp.Literal) and not side.is_string and "." in side.name:
                    node.set(key, exp.Cast(this=side.copy(), to=exp.DataType.build("double")))
            return node
        if isinstance(node, exp.PercentileCont) and node.args.get("expression") is not None:
            # quantile_cont(x, p): the same linear interpolation as Spark's exact percentile(x, p)
            return exp.Anonymous(this="percentile", expressions=[node.this, node.expression])
        if isinstance(node, exp.Anonymous) and node.name.lower() == "hash":
            return exp.Anonymous(this="xxhash64", expressions=node.expressions)
        return node

    for pivot in list(tree.find_all(exp.Pivot)):
        if pivot.args.get("unpivot") and pivot.args.get("into") is not None:  # UNPIVOT t ON ... INTO NAME n VALUE v
            pivot.replace(_spark_unpivot(pivot))
        elif pivot.args.get("using"):  # DuckDB's statement form PIVOT t ON c IN (...) USING ... GROUP BY
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


def _asof_as_range_join(join) -> None:
    """DuckDB's ``l ASOF [LEFT] JOIN r ON r.k = l.k ... AND l.t > r.ts`` (or ``>=``) as a plain join on a range,
    which Spark has: each ``r`` row is the latest for the ``l.t`` up to the next ``r.ts`` of its keys, so
    ``r`` gains ``__asof_next = lead(ts) OVER (PARTITION BY keys ORDER BY ts)`` and the ON clause
    ``AND (r.__asof_next IS NULL OR l.t <= r.__asof_next)`` (``<`` for ``>=``). Each ``l`` row meets at most
    one ``r`` row, the one ASOF picks; of ``r`` rows tied on ``ts`` within a key the last in Spark's sort
    order is kept (DuckDB keeps one of them too; these files' tied rows do not differ in what is read).
    The match is chosen in the ON clause, before WHERE, as in DuckDB. Rewrites ``join`` in place."""
    import sqlglot
    from sqlglot import exp

    right = join.this
    alias = right.alias_or_name
    keys, bound = [], None
    for cond in join.args["on"].flatten() if isinstance(join.args["on"], exp.And) else [join.args["on"]]:
        if isinstance(cond, exp.EQ):
            keys += [side.sql(dialect="spark") for side in (cond.this, cond.expression)
                     if isinstance(side, exp.Column) and side.table == alias]
        elif isinstance(cond, (exp.GT, exp.GTE, exp.LT, exp.LTE)):
            flip = isinstance(cond.this, exp.Column) and cond.this.table == alias
            value, ts = (cond.expression, cond.this) if flip else (cond.this, cond.expression)
            strict = isinstance(cond, (exp.LT if flip else exp.GT))
            if not isinstance(cond, (exp.LT, exp.LTE) if flip else (exp.GT, exp.GTE)):
                raise SparkTranslationError("only ASOF joins on 'left > right' or 'left >= right' have a Spark form")
            bound = (value, ts, strict)
    if bound is None or not keys:
        raise SparkTranslationError("an ASOF JOIN needs equalities and one inequality in its ON clause here")
    value, ts, strict = bound
    source = right.copy()
    source.set("alias", None)
    ts_name = ts.name
    partition = ", ".join(k.split(".")[-1] for k in keys)
    inner = sqlglot.parse_one(
        f"SELECT *, lead(`{ts_name}`) OVER (PARTITION BY {partition} ORDER BY `{ts_name}`) AS __asof_next "
        f"FROM {source.sql(dialect='spark')}" + (" AS __asof_source" if isinstance(source, exp.Subquery) else ""),
        read="spark")
    join.set("this", exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias))))
    upper = "<=" if strict else "<"
    extra = sqlglot.parse_one(f"({alias}.__asof_next IS NULL OR {value.sql(dialect='spark')} {upper} "
                              f"{alias}.__asof_next)", read="spark")
    join.set("on", exp.and_(join.args["on"], extra))
    join.set("method", None)


def _spark_unpivot(pivot):
    """DuckDB's ``UNPIVOT t ON (y1, n1) AS r1, ... INTO NAME rate VALUE y, n`` (or ``ON a, b ... VALUE y``) as
    Spark's ``SELECT * FROM t UNPIVOT ((y, n) FOR rate IN ((y1, n1) AS r1, ...))``: the same rows (both leave
    out the rows whose values are all NULL) and columns (the others, then ``rate``, then the values)."""
    import sqlglot

    into = pivot.args["into"]
    values = [v.sql(dialect="spark") for v in into.expressions]
    value = values[0] if len(values) == 1 else f"({', '.join(values)})"
    inputs = ", ".join(e.sql(dialect="spark") for e in pivot.expressions)
    source = pivot.this.sql(dialect="spark")
    text = f"SELECT * FROM {source} UNPIVOT ({value} FOR {into.this.sql(dialect='spark')} IN ({inputs}))"
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
        return None, None, [], []
    try:
        tree = sqlglot.parse_one(statement, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise SparkTranslationError(f"sqlglot cannot parse this DuckDB statement: {exc}") from exc
    for node in tree.walk():
        if isinstance(node, (exp.Attach, exp.Use)) if hasattr(exp, "Attach") else isinstance(node, exp.Use):
            raise SparkTranslationError(f"no Spark form of {type(node).__name__.upper()} (a scratch database)")
    try:  # the packaged macros (sql/macros/) inline: Spark has none
        tree = expand_macros(tree)
    except MacroError as exc:
        raise SparkTranslationError(f"cannot expand a packaged macro: {exc}") from exc
    macros = sorted({f.name.lower() for f in tree.find_all(exp.Anonymous) if f.name.lower().startswith("dlv_")})
    if macros:  # another file's DuckDB macros (the adapters' dlv_ts, ...): not in sql/macros/
        raise SparkTranslationError(f"no Spark form of the DuckDB macro {', '.join(macros)} (not in sql/macros/)")
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
    for join in list(tree.find_all(exp.Join)):
        if str(join.args.get("method") or "").upper() == "ASOF":
            _asof_as_range_join(join)
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


