"""The package's SQL macros (``sql/macros/*.sql``, ``db.MACRO_FILES``) expanded inline, so that a DuckDB
statement calling them has a Spark form: Spark has no DuckDB macros, and the files both engines run then
share one definition of each filter and sum.

Each ``CREATE ... MACRO name(params) AS body`` is parsed with sqlglot. A call of a scalar macro becomes its
body, each parameter replaced by the call's argument (in parentheses where precedence could leak); a call of
a table macro (``AS TABLE SELECT ...``) in a FROM clause becomes that query as a subquery, aliased as the
call was (or by the macro's name). A scalar macro whose body is a ``struct_pack(...)`` also gives its field
names to DuckDB's spread ``COLUMNS(r.*) AS 'r__\\0'`` of a column ``r`` holding it (Spark has no COLUMNS):
the spread becomes ``r.f AS r__f`` for each field ``f``, in order."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


class MacroError(ValueError):
    """A macro call that cannot be expanded (wrong argument count, a spread of an unknown struct)."""


@dataclass(frozen=True)
class Macro:
    """One parsed macro: its parameters, body (an expression, or a query for a table macro)."""

    name: str
    params: tuple[str, ...]
    body: object
    table: bool

    @property
    def fields(self) -> tuple[str, ...] | None:
        """The field names of a ``struct_pack`` body, in order (None for another body)."""
        from sqlglot import exp

        if self.table or not isinstance(self.body, exp.Struct):
            return None
        return tuple(e.this.name if isinstance(e, exp.PropertyEQ) else e.alias_or_name for e in self.body.expressions)


def parse_macros(sql: str) -> dict[str, Macro]:
    """The macros defined by the ``CREATE [OR REPLACE] [TEMP] MACRO`` statements of ``sql``, by lower-case name."""
    import sqlglot
    from sqlglot import exp

    from dlvstats import db

    macros: dict[str, Macro] = {}
    for statement in db.split_statements(sql):
        tree = sqlglot.parse_one(statement, read="duckdb")
        if not (isinstance(tree, exp.Create) and str(tree.args.get("kind") or "").upper() == "MACRO"):
            raise MacroError(f"not a macro definition: {statement[:60]}...")
        udf = tree.this
        name = udf.this.name.lower()
        params = tuple(p.name.lower() for p in udf.expressions)
        body = tree.expression
        macros[name] = Macro(name, params, body, isinstance(body, exp.Query))
    return macros


@cache
def packaged_macros() -> dict[str, Macro]:
    """The macros of ``db.MACRO_FILES``, the ones every dlvstats DuckDB connection has."""
    from dlvstats import db

    found: dict[str, Macro] = {}
    for name in db.MACRO_FILES:
        found.update(parse_macros(db.sql_text(name)))
    return found


def _call_name(node) -> str | None:
    from sqlglot import exp

    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    return None


def _loose(node) -> bool:
    """Whether ``node`` needs parentheses to stay one operand where it is put (sqlglot's AND and OR are
    functions too: anything but a column, a literal, a parameter or a plain function call)."""
    from sqlglot import exp

    if isinstance(node, (exp.Column, exp.Literal, exp.Placeholder, exp.Paren, exp.Null, exp.Boolean)):
        return False
    return not isinstance(node, exp.Func) or isinstance(node, (exp.Binary, exp.Unary, exp.Connector, exp.Predicate))


def _substituted(macro: Macro, args: list):
    """The macro's body with each parameter column replaced by its argument."""
    from sqlglot import exp

    if len(args) != len(macro.params):
        raise MacroError(f"{macro.name} takes {len(macro.params)} arguments, not {len(args)}")
    values = dict(zip(macro.params, args))

    def atom(value):
        return exp.Paren(this=value.copy()) if _loose(value) else value.copy()

    def put(node):
        if isinstance(node, exp.Column) and not node.table and node.name.lower() in values:
            return atom(values[node.name.lower()])
        return node

    return macro.body.copy().transform(put)


def _spread_fields(tree, macros: dict[str, Macro]) -> dict[str, tuple[str, ...]]:
    """Column names given (``AS name``) to a call of a struct macro anywhere in ``tree``, with its fields."""
    from sqlglot import exp

    found = {}
    for alias in tree.find_all(exp.Alias):
        name = _call_name(alias.this)
        if name in macros and macros[name].fields is not None:
            found[alias.alias.lower()] = macros[name].fields
    return found


def _expand_spreads(tree, structs: dict[str, tuple[str, ...]]) -> None:
    """``COLUMNS(r.*) AS 'p\\0'`` (r a struct column of known fields) -> ``r.f AS pf, ...`` in place."""
    import sqlglot
    from sqlglot import exp

    for select in list(tree.find_all(exp.Select)):
        items, changed = [], False
        for item in select.expressions:
            inner = item.this if isinstance(item, exp.Alias) else item
            if not (isinstance(inner, exp.Columns) and isinstance(inner.this, exp.Column)
                    and isinstance(inner.this.this, exp.Star) and inner.this.table):
                items.append(item)
                continue
            parts = [p.name for p in (inner.this.args.get("db"), inner.this.args.get("table")) if p is not None]
            struct = parts[-1].lower()
            if struct not in structs:
                raise MacroError(f"COLUMNS({'.'.join(parts)}.*): {struct} is no struct macro's column here")
            pattern = item.alias if isinstance(item, exp.Alias) else "\\0"
            for field in structs[struct]:
                ref = sqlglot.parse_one(".".join(parts + [field]), read="duckdb")
                items.append(exp.alias_(ref, pattern.replace("\\0", field), quoted=False))
            changed = True
        if changed:
            select.set("expressions", items)


def expand(tree, macros: dict[str, Macro] | None = None, depth: int = 8):
    """``tree`` (a parsed DuckDB statement) with every call of ``macros`` (default: the packaged ones)
    expanded inline, and the spreads of their structs written out; a macro's body may call another."""
    from sqlglot import exp

    macros = packaged_macros() if macros is None else macros
    _expand_spreads(tree, _spread_fields(tree, macros))

    def rewrite(node):
        name = _call_name(node)
        if name not in macros:
            if isinstance(node, exp.Table) and _call_name(node.this) in macros:
                macro = macros[_call_name(node.this)]
                if not macro.table:
                    raise MacroError(f"{macro.name} is a scalar macro, called in a FROM clause")
                alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(macro.name))
                query = _substituted(macro, list(node.this.expressions))
                return exp.Subquery(this=query, alias=alias.copy())
            return node
        macro = macros[name]
        if macro.table:
            raise MacroError(f"{macro.name} is a table macro, called as an expression")
        body = _substituted(macro, list(node.expressions))
        return exp.Paren(this=body) if _loose(body) else body

    for _ in range(depth):
        calls = [n for n in tree.walk() if _call_name(n) in macros]
        if not calls:
            return tree
        tree = tree.transform(rewrite)
    raise MacroError(f"macros still called after {depth} expansions (a macro calling itself?)")
