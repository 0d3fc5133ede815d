"""What a read query does with each table, from its normalised text (sqlglot scopes).

The mechanism for a read that joins services depends on *how* it uses them: a key lookup with a
small result composes cheaply through APIs; filtering or sorting on another service's columns,
paging, or aggregating across services does not, and wants a read model. The CQRS read model
needs the columns the query touches and the join it performs. This module extracts exactly
those facts, resolving aliases and unqualified columns against the schema.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlglot import exp, parse_one
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import Scope, build_scope

from workbench.db import sqlglot_dialect
from workbench.design.exprtypes import result_type
from workbench.schema import Schema, Table


@dataclass
class Join:
    """One table of the top-level FROM/JOIN chain.

    ``on`` holds equality pairs ``(alias.column, alias.column)``, or ``(alias.column, 'literal')``
    for a column compared with a constant; ``extra`` holds any other predicate without parameters
    (as neutral SQL); predicates with parameters are request-time filters, counted in ``dropped``.
    """

    table: str
    alias: str
    outer: bool = False
    on: list[tuple[str, str]] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    dropped: int = 0


@dataclass
class QueryShape:
    """The facts about one query that the design needs.

    Attributes
    ----------
    tables : table keys the query reads (views included, as their own keys), sorted.
    driving : the first table of the top-level FROM (None when it is a subquery).
    columns : table -> every column the query uses (select list, joins, filters, ordering).
    filters : table -> columns in WHERE/HAVING or in non-join ON predicates.
    ordering : table -> columns in ORDER BY / GROUP BY.
    paged : LIMIT / OFFSET / FETCH present.
    aggregated : GROUP BY or an aggregate function present.
    key_lookup : the WHERE pins a whole primary or unique key of some table to a value.
    joins : the top-level FROM/JOIN chain (empty when it is not plain tables).
    """

    tables: list[str] = field(default_factory=list)
    driving: str | None = None
    columns: dict[str, list[str]] = field(default_factory=dict)
    filters: dict[str, list[str]] = field(default_factory=dict)
    ordering: dict[str, list[str]] = field(default_factory=dict)
    paged: bool = False
    aggregated: bool = False
    key_lookup: bool = False
    joins: list[Join] = field(default_factory=list)


class Resolver:
    """Table names as a query spells them -> schema table keys (case-insensitive, default schema aware).

    >>> from workbench.schema import Table
    >>> r = Resolver(Schema(dialect="sqlite", database="x", tables=[Table("tblSupplier"), Table("o", schema="s")]))
    >>> r.key(exp.to_table("TBLSUPPLIER")), r.key(exp.to_table("s.o")), r.key(exp.to_table("nope"))
    ('tblSupplier', 's.o', None)
    """

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.tables: dict[str, Table] = {t.key: t for t in schema.tables}
        self._by_name: dict[tuple[str, str], str] = {}
        for t in schema.tables:
            self._by_name[((t.schema or "").lower(), t.name.lower())] = t.key
            if t.schema is None and schema.default_schema:
                self._by_name[(schema.default_schema.lower(), t.name.lower())] = t.key

    def key(self, table: exp.Table) -> str | None:
        return self._by_name.get((table.db.lower(), table.name.lower()))

    def has_column(self, key: str, column: str) -> str | None:
        """The column's exact spelling in table ``key`` (case-insensitive match), or None."""
        t = self.tables.get(key)
        if t is None:
            return None
        for c in t.columns:
            if c.name.lower() == column.lower():
                return c.name
        return None


def parse_quietly(text: str, dialect: str | None) -> exp.Expression | None:
    """One statement's syntax tree, or None where sqlglot cannot read it (``dialect``: SQLAlchemy's name).

    >>> parse_quietly("SELECT a FROM t", "postgresql").sql(), parse_quietly("SELECT (a FROM", "sqlite")
    ('SELECT a FROM t', None)
    """
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # unsupported syntax is expected in real logs: we just skip it
    try:
        node = parse_one(text, read=sqlglot_dialect(dialect))
    except (SqlglotError, ValueError, RecursionError):
        return None
    finally:
        logger.setLevel(level)
    return node if isinstance(node, exp.Expression) else None  # (every parsed tree is one)


def _sources(scope: Scope, resolver: Resolver) -> dict[str, str]:
    """alias -> table key for the scope's real tables."""
    out = {}
    for alias, source in scope.sources.items():
        if isinstance(source, exp.Table):
            key = resolver.key(source)
            if key is not None:
                out[alias] = key
    return out


def _column_table(col: exp.Column, aliases: dict[str, str], resolver: Resolver) -> tuple[str, str] | None:
    """(table key, column) for a column reference, resolving unqualified names through the schema."""
    if col.table:
        key = aliases.get(col.table)
        if key is None:
            return None
        name = resolver.has_column(key, col.name)
        return (key, name or col.name)
    owners = {(key, name) for key in set(aliases.values()) if (name := resolver.has_column(key, col.name))}
    return owners.pop() if len(owners) == 1 else None


def _is_join_predicate(eq: exp.EQ) -> bool:
    left, right = eq.left, eq.right
    return isinstance(left, exp.Column) and isinstance(right, exp.Column) and \
        (left.table or "") != (right.table or "") and bool(left.table) and bool(right.table)


def conjuncts(node: exp.Expr | None) -> list[exp.Expr]:
    """The AND-ed terms of a predicate, parentheses unwrapped (what a join or an index can use)."""
    if node is None:
        return []
    if isinstance(node, exp.And):
        return [*conjuncts(node.left), *conjuncts(node.right)]
    if isinstance(node, exp.Paren):
        return conjuncts(node.this)
    return [node]


def _is_value(node: exp.Expr) -> bool:
    return isinstance(node, exp.Placeholder | exp.Literal | exp.Boolean | exp.Parameter) or \
        (isinstance(node, exp.Cast) and _is_value(node.this))


def _sorted(d: dict[str, set[str]]) -> dict[str, list[str]]:
    return {k: sorted(v) for k, v in sorted(d.items())}


def _key_lookup(where: exp.Expression | None, aliases: dict[str, str], resolver: Resolver) -> bool:
    pinned: dict[str, set[str]] = defaultdict(set)
    for cond in conjuncts(where.this if where is not None else None):
        if isinstance(cond, exp.EQ):
            col, other = (cond.left, cond.right) if isinstance(cond.left, exp.Column) else (cond.right, cond.left)
            if isinstance(col, exp.Column) and _is_value(other):
                hit = _column_table(col, aliases, resolver)
                if hit:
                    pinned[hit[0]].add(hit[1])
    for key, cols in pinned.items():
        t = resolver.tables[key]
        keys = [t.primary_key] + [u.columns for u in t.unique_constraints] + [i.columns for i in t.indexes if i.unique]
        if any(k and set(k) <= cols for k in keys):
            return True
    return False


def _joins(select: exp.Select, aliases: dict[str, str], resolver: Resolver) -> list[Join]:
    """The top-level FROM/JOIN chain, or [] when a source is not a plain table."""
    from_ = select.args.get("from_") or select.args.get("from")
    if from_ is None or not isinstance(from_.this, exp.Table):
        return []
    first = from_.this
    key = resolver.key(first)
    if key is None:
        return []
    steps = [Join(key, first.alias_or_name)]
    for join in select.args.get("joins") or []:
        if not isinstance(join.this, exp.Table) or resolver.key(join.this) is None:
            return []
        step = Join(resolver.key(join.this) or "", join.this.alias_or_name,
                    outer=(join.side or "").upper() in ("LEFT", "RIGHT", "FULL"))
        for cond in conjuncts(join.args.get("on")):
            left, right = (cond.left, cond.right) if isinstance(cond, exp.EQ) else (None, None)
            if isinstance(left, exp.Column) and isinstance(right, exp.Column):
                a = _column_table(left, aliases, resolver)
                b = _column_table(right, aliases, resolver)
                if a and b:
                    step.on.append((f"{left.table or _alias_of(a[0], aliases)}.{a[1]}",
                                    f"{right.table or _alias_of(b[0], aliases)}.{b[1]}"))
                    continue
            elif isinstance(cond, exp.EQ) and isinstance(cond.left, exp.Column) and \
                    isinstance(cond.right, exp.Literal | exp.Boolean):
                a = _column_table(cond.left, aliases, resolver)
                if a:
                    step.on.append((f"{cond.left.table or _alias_of(a[0], aliases)}.{a[1]}", cond.right.sql()))
                    continue
            if not any(True for _ in cond.find_all(exp.Placeholder, exp.Parameter)) and \
                    all(c.table for c in cond.find_all(exp.Column)):
                step.extra.append(cond.sql())
                continue
            step.dropped += 1
        steps.append(step)
    return steps


def _alias_of(key: str, aliases: dict[str, str]) -> str:
    return next(a for a, k in aliases.items() if k == key)


def analyze_query(
    text: str, schema: Schema, dialect: str | None = None, resolver: Resolver | None = None
) -> QueryShape | None:
    """The shape of a SELECT (or of the SELECT inside an INSERT ... SELECT); None if it does not parse.

    Parameters
    ----------
    text : the statement (normalised template or a view's definition).
    schema : resolves table names and unqualified columns.
    dialect : the SQL's dialect as a SQLAlchemy backend name (None: sqlglot's default).

    Examples
    --------
    >>> from workbench.schema import Column, Table
    >>> s = Schema(dialect="sqlite", database="x", tables=[
    ...     Table("orders", columns=[Column("id", "INTEGER"), Column("customer_id", "INTEGER")], primary_key=["id"]),
    ...     Table("customers", columns=[Column("id", "INTEGER"), Column("name", "TEXT")], primary_key=["id"])])
    >>> q = analyze_query("SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id "
    ...                   "WHERE c.name LIKE ? ORDER BY o.id LIMIT ?", s)
    >>> q.driving, q.filters, q.ordering, q.paged, q.key_lookup
    ('orders', {'customers': ['name']}, {'orders': ['id']}, True, False)
    """
    ast: exp.Expr | None = parse_quietly(text, dialect)
    if ast is None:
        return None
    if not isinstance(ast, exp.Query):
        inner = ast.find(exp.Query)
        if inner is None:
            return None
        ast = inner
    resolver = resolver or Resolver(schema)
    try:
        root = build_scope(ast)
    except (SqlglotError, ValueError, KeyError):
        return None
    if root is None:
        return None
    shape = QueryShape()
    columns: dict[str, set[str]] = defaultdict(set)
    filters: dict[str, set[str]] = defaultdict(set)
    ordering: dict[str, set[str]] = defaultdict(set)
    tables: set[str] = set()
    for scope in root.traverse():
        aliases = _sources(scope, resolver)
        tables.update(aliases.values())
        for col in scope.columns:
            hit = _column_table(col, aliases, resolver)
            if hit is None:
                continue
            columns[hit[0]].add(hit[1])
            if col.find_ancestor(exp.Order, exp.Group, exp.Select) and \
                    isinstance(col.find_ancestor(exp.Order, exp.Group, exp.Select), exp.Order | exp.Group):
                ordering[hit[0]].add(hit[1])
            clause = col.find_ancestor(exp.Where, exp.Having, exp.Join, exp.Select)
            if isinstance(clause, exp.Where | exp.Having):
                eq = col.find_ancestor(exp.EQ)
                if not (eq is not None and _is_join_predicate(eq)):
                    filters[hit[0]].add(hit[1])
            elif isinstance(clause, exp.Join):
                pred = col.parent
                if not (isinstance(pred, exp.EQ) and all(isinstance(x, exp.Column) for x in (pred.left, pred.right))):
                    filters[hit[0]].add(hit[1])
        if isinstance(scope.expression, exp.Select):
            sel = scope.expression
            shape.paged = shape.paged or any(sel.args.get(k) for k in ("limit", "offset", "fetch"))
            shape.aggregated = shape.aggregated or bool(sel.args.get("group")) or \
                any(True for _ in sel.find_all(exp.AggFunc))
    top = root.expression
    if isinstance(top, exp.Select):
        aliases = _sources(root, resolver)
        shape.joins = _joins(top, aliases, resolver)
        shape.key_lookup = _key_lookup(top.args.get("where"), aliases, resolver)
        from_ = top.args.get("from_") or top.args.get("from")
        if from_ is not None and isinstance(from_.this, exp.Table):
            shape.driving = resolver.key(from_.this)
    if shape.driving is None:
        first = next((resolver.key(t) for t in ast.find_all(exp.Table) if resolver.key(t)), None)
        shape.driving = first if first in tables else None
    shape.tables = sorted(tables)
    shape.columns, shape.filters, shape.ordering = _sorted(columns), _sorted(filters), _sorted(ordering)
    return shape


def shapes(templates: Iterable[tuple[str, str]], schema: Schema, dialect: str | None) -> dict[str, QueryShape]:
    """fingerprint -> shape for (fingerprint, text) pairs; templates that do not parse are left out."""
    resolver = Resolver(schema)
    out = {}
    for fingerprint, text in templates:
        shape = analyze_query(text, schema, dialect, resolver)
        if shape is not None:
            out[fingerprint] = shape
    return out


@dataclass
class Output:
    """A column a view produces: its name, the base column it copies (if it is one), its type."""

    name: str
    table: str | None = None
    column: str | None = None
    type: str | None = None


def _type_mapping(schema: Schema) -> dict[str, object]:
    """The schema as sqlglot's ``{db: {table: {column: type}}}`` (flat when everything is in the default schema)."""
    tables = [t for t in schema.tables if t.kind == "table"]
    if all(t.schema is None for t in tables):
        return {t.name: {c.name: c.type or "TEXT" for c in t.columns} for t in tables}
    nested: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)
    for t in tables:
        nested[t.schema or schema.default_schema or ""][t.name] = {c.name: c.type or "TEXT" for c in t.columns}
    return dict(nested)


def view_outputs(definition: str, schema: Schema, dialect: str | None = None,
                 resolver: Resolver | None = None) -> tuple[list[Output], list[tuple[str, str]]]:
    """A view's output columns (with base column and type where sqlglot can tell) and its GROUP BY columns.

    Types of computed columns (``COUNT(*)``, ``a - b``) come from sqlglot's type annotation, widened
    where a result outgrows its inputs (:func:`workbench.design.exprtypes.result_type`), in neutral
    SQL; ([], []) when the definition does not parse.
    """
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify

    ast = parse_quietly(definition, dialect)
    select = ast if isinstance(ast, exp.Select) else (ast.find(exp.Select) if ast is not None else None)
    if select is None:
        return [], []
    resolver = resolver or Resolver(schema)
    read = sqlglot_dialect(dialect)
    try:
        mapping = _type_mapping(schema)
        typed = annotate_types(qualify(select.copy(), schema=mapping, dialect=read, validate_qualify_columns=False),
                               schema=mapping, dialect=read)
    except (SqlglotError, ValueError, KeyError, TypeError):
        typed = None
    scope = build_scope(select)
    aliases = _sources(scope, resolver) if scope is not None else {}
    outputs = []
    for i, e in enumerate(select.expressions):
        name = e.alias_or_name
        base = e.unalias()
        hit = _column_table(base, aliases, resolver) if isinstance(base, exp.Column) else None
        kind = None
        if typed is not None and i < len(typed.expressions):
            dt = result_type(typed.expressions[i])  # aggregates and arithmetic widened: SUM(NUMERIC(5,2)) overflows it
            kind = dt.sql() if dt is not None else None
        outputs.append(Output(name, hit[0] if hit else None, hit[1] if hit else None, kind))
    group = []
    group_by = select.args.get("group")
    for g in (group_by.expressions if group_by else []):
        if isinstance(g, exp.Column) and (hit := _column_table(g, aliases, resolver)):
            group.append(hit)
    return outputs, group
