"""CQRS read models: the table a consumer keeps instead of joining other services per request.

A read model holds, joined in advance, the columns the observed queries use (select list, join
keys, filters, ordering) from every table they join, plus each table's key so a provider's event
finds the rows it changes. A read model holds one grain: one row per row of the table the queries
start from, or of the one-to-many chain it follows. A join that would multiply rows (two
one-to-many branches, or a table joined on part of its key with the request giving the rest) is
split into several read models, joined at request time (:mod:`workbench.design.fanout`). For a
view, the read model is the view itself, materialised.

The initial fill is a SELECT over the legacy database built with SQLAlchemy from the observed
join (or, when the query is not a plain join, from the declared foreign keys), so it quotes and
spells everything for the legacy dialect. Request-time filters (``WHERE x = ?``) are not part of
the fill: the read model holds every row the queries could ask for.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Callable, Collection, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from workbench.db import sqlglot_dialect
from workbench.design.fanout import ONE, grain, links, segments
from workbench.design.model import JoinStep, Projection, ProjectionColumn
from workbench.design.queries import Join, QueryShape, Resolver, view_outputs
from workbench.errors import WorkbenchError
from workbench.schema import Column, Index, Schema, Table

MAX_IDENTIFIER = 60
MAX_SIBLING_FAN = 10
"""Join two tables through a parent they share only where it has at most this many rows of the
joined table per row (an order's payments, not a currency's)."""
SURROGATE = "rm_id"


def identifier(name: str, limit: int = MAX_IDENTIFIER) -> str:
    """A name short enough for every target (PostgreSQL stops at 63), kept unique by a hash suffix.

    >>> identifier("x" * 70)[-7:]
    '_bbaad8'
    >>> identifier("short")
    'short'
    """
    if len(name) <= limit:
        return name
    digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:6]
    return f"{name[: limit - 7]}_{digest}"


def _step(resolver: Resolver, key: str, alias: str, outer: bool = False, on: Sequence[Sequence[str]] = (),
          extra: Sequence[str] = ()) -> JoinStep:
    t = resolver.tables[key]
    return JoinStep(table=key, name=t.name, schema=t.schema, alias=alias, outer=outer, on=[list(p) for p in on],
                    extra=list(extra))


def _from_shape(joins: list[Join], resolver: Resolver) -> list[JoinStep]:
    return [_step(resolver, j.table, j.alias, j.outer, j.on, j.extra) for j in joins]


def fk_joins(driving: str, tables: Sequence[str], schema: Schema
             ) -> tuple[list[JoinStep], list[str], list[str]]:
    """A join tree from ``driving`` over the declared FKs among ``tables`` (left joins, so every
    driving row stays).

    A table no FK among ``tables`` reaches joins through a parent outside them that it shares with
    a reached one (payments and invoices both keyed to an order: ``payments.order_id =
    invoices.order_id``), as queries joining through CTEs on such keys do. Returns the steps, the
    tables still unreached, and a note per shared-parent join.
    """
    resolver = Resolver(schema)
    wanted = set(tables)
    edges: list[tuple[str, list[str], str, list[str]]] = []
    parents: dict[tuple[str, tuple[str, ...]], list[tuple[str, list[str]]]] = {}
    for key in sorted(wanted):
        t = resolver.tables.get(key)
        for fk in (t.foreign_keys if t is not None else []):
            if fk.referred_key in wanted and fk.referred_key != key:
                edges.append((key, fk.columns, fk.referred_key, fk.referred_columns))
            elif fk.referred_key not in wanted:
                parents.setdefault((fk.referred_key, tuple(fk.referred_columns)), []).append((key, fk.columns))
    aliases = {driving: "t0"}
    steps = [_step(resolver, driving, "t0")]
    notes: list[str] = []

    def join(here: str, hcols: Sequence[str], there: str, tcols: Sequence[str]) -> None:
        aliases[there] = f"t{len(aliases)}"
        on = [[f"{aliases[there]}.{tc}", f"{aliases[here]}.{hc}"] for hc, tc in zip(hcols, tcols, strict=False)]
        steps.append(_step(resolver, there, aliases[there], outer=True, on=on))

    def spread(start: str) -> None:
        queue = deque([start])
        while queue:
            current = queue.popleft()
            for a, acols, b, bcols in edges:
                for here, hcols, there, tcols in ((a, acols, b, bcols), (b, bcols, a, acols)):
                    if here == current and there not in aliases:
                        join(here, hcols, there, tcols)
                        queue.append(there)

    def fan(parent: str, child: str) -> float | None:
        """Rows of ``child`` per row of ``parent``: a shared order is a relation, a shared currency is not."""
        p, c = resolver.tables.get(parent), resolver.tables.get(child)
        if p is None or c is None or p.row_count is None or c.row_count is None:
            return None
        return c.row_count / max(p.row_count, 1)

    spread(driving)
    while True:
        candidates = sorted((f, parent, there, here, list(hcols), list(tcols))
                            for (parent, _), kids in parents.items()
                            for here, hcols in kids if here in aliases
                            for there, tcols in kids if there not in aliases
                            if (f := fan(parent, there)) is not None and f <= MAX_SIBLING_FAN)
        if not candidates:
            break
        _, parent, there, here, hcols, tcols = candidates[0]
        join(here, hcols, there, tcols)
        notes.append(f"{resolver.tables[there].name} joins {resolver.tables[here].name} through the "
                     f"{resolver.tables[parent].name if parent in resolver.tables else parent} they both refer to "
                     f"({', '.join(tcols)} = {', '.join(hcols)})")
        spread(there)
    return steps, sorted(wanted - set(aliases)), notes


def _names(pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Read-model column names: the column's own name when unique, else prefixed by its table."""
    count: dict[str, int] = {}
    for _, col in pairs:
        count[col.lower()] = count.get(col.lower(), 0) + 1
    out = {}
    used: set[str] = set()
    for table, col in pairs:
        name = col if count[col.lower()] == 1 else f"{table.replace('.', '_')}_{col}"
        name = identifier(name)
        while name.lower() in used:
            name = identifier(name + "_")
        used.add(name.lower())
        out[(table, col)] = name
    return out


def _table(name: str, columns: list[ProjectionColumn], key: list[str], nullable: dict[str, bool],
           indexes: list[list[str]]) -> Table:
    cols = [Column(SURROGATE, "INTEGER", nullable=False)] if not key else []
    cols += [Column(c.name, c.type, nullable=nullable.get(c.name, True) and c.name not in key,
                    comment=f"copy of {c.table}.{c.column}") for c in columns]
    ix = [Index(identifier(f"ix_{name}_{i + 1}"), cols_) for i, cols_ in enumerate(indexes) if cols_]
    return Table(name, columns=cols, primary_key=list(key) or [SURROGATE], indexes=ix,
                 comment="CQRS read model: filled from the legacy database, then kept current by events")


def from_read(name: str, service: str, dependency: str, tables: Sequence[str], shapes: Sequence[QueryShape],
              schema: Schema, own: Collection[str] = (),
              free: Callable[[str], str] | None = None) -> list[tuple[Projection, Table]]:
    """The read models of a cross-service read, from its statements' shapes (most called first).

    One read model when the join holds one grain; one per single-grain piece otherwise (see
    :func:`workbench.design.fanout.segments`), named after the table its grain ends on. ``own``
    are the consumer's tables, ``free`` turns a wanted name into one unused in its schema.
    """
    resolver = Resolver(schema)
    if not shapes:
        raise WorkbenchError(f"no parsed statement for {dependency}: cannot shape its read model")
    wanted = set(tables)
    main = next((s for s in shapes if s.joins and {j.table for j in s.joins} == wanted), None)
    notes = []
    dropped: list[int] = []
    if main is not None:
        steps = _from_shape(main.joins, resolver)
        dropped = [j.dropped for j in main.joins]
    else:
        driving = next((s.driving for s in shapes if s.driving in wanted), sorted(wanted)[0])
        steps, missing, through = fk_joins(driving, sorted(wanted), schema)
        notes.append("the statements are not a plain join: the fill joins along the declared foreign keys")
        notes += through
        if missing:
            notes.append(f"not reachable through declared foreign keys, left out: {', '.join(missing)}")
    pieces = segments(steps, schema, dropped, own)
    lost = {s.alias: n for s, n in zip(steps, dropped, strict=False)}
    out: list[tuple[Projection, Table]] = []
    used: set[str] = set()
    for piece in pieces:
        leaf = next((s.name for s in piece.steps if s.alias == piece.leaf), None)
        wanted_name = name if len(pieces) == 1 or leaf is None else identifier(f"{name}_{leaf}")
        if wanted_name.lower() in used:
            wanted_name = identifier(f"{wanted_name}_{len(out) + 1}")
        piece_name = free(wanted_name) if free else wanted_name
        used.add(piece_name.lower())
        extra = [*notes, *piece.notes]
        filtered = sum(lost.get(s.alias, 0) for s in piece.steps[1:])
        if filtered:
            extra.insert(0, f"{filtered} join predicate(s) with parameters or expressions left out of the fill")
        out.append(_read_model(piece_name, service, dependency, piece.steps, steps, shapes, main, schema, extra))
    return out


def _read_model(name: str, service: str, dependency: str, steps: list[JoinStep], joined: list[JoinStep],
                shapes: Sequence[QueryShape], main: QueryShape | None, schema: Schema,
                notes: list[str]) -> tuple[Projection, Table]:
    """One single-grain read model over ``steps``, a piece of the statements' whole join ``joined``
    (whose join columns it keeps, so the consumer can join the pieces at request time)."""
    resolver = Resolver(schema)
    notes = list(notes)
    first_alias: dict[str, JoinStep] = {}
    for step in steps:
        first_alias.setdefault(step.table, step)
    pairs: list[tuple[str, str]] = []
    for step in steps:
        if first_alias[step.table] is not step:
            continue
        t = resolver.tables[step.table]
        used = set(t.primary_key)
        for s in shapes:
            used.update(s.columns.get(step.table, []))
        sides = [(alias, col) for other in joined for pair in other.on for alias, _, col in
                 (side.partition(".") for side in pair)] + [ac for other in joined for x in other.extra
                                                            for ac in _extra_columns(x)]
        for alias, col in sides:
            if col and any(x.alias == alias and x.table == step.table for x in joined):
                used.add(resolver.has_column(step.table, col) or col)
        pairs += [(t.key, c.name) for c in t.columns if c.name in used]
    names = _names(pairs)
    columns = []
    nullable = {}
    for table, col in pairs:
        source = resolver.tables[table].column(col)
        columns.append(ProjectionColumn(names[(table, col)], table, col, source.type if source else "TEXT"))
        nullable[names[(table, col)]] = (source.nullable if source else True) or first_alias[table].outer
    key_pairs = grain(steps, schema)
    key = [names[p] for p in key_pairs] if key_pairs and all(p in names for p in key_pairs) else []
    if not key:
        notes.append(f"no natural key for one row of the join: surrogate {SURROGATE}")
    indexes = []
    for table in [s.table for s in steps]:
        cols = [names[(table, c)] for c in (main or shapes[0]).filters.get(table, []) if (table, c) in names]
        if cols and cols[:3] not in indexes:
            indexes.append(cols[:3])
    link = links(steps, schema)
    known = [count for s in steps if (s is steps[0] or link[s.alias].kind != ONE)
             and (count := resolver.tables[s.table].row_count) is not None]
    rows = max(known) if known else None  # one grain: about the rows of the table it ends on
    projection = Projection(name=name, service=service, dependency=dependency, driving=steps[0].table, joins=steps,
                            columns=columns, key=key, rows_estimate=rows, notes=notes)
    projection.fill_sql = fill_sql(projection, schema.dialect)
    return projection, _table(name, columns, key, nullable, indexes)


def from_view(name: str, service: str, dependency: str, view: Table, shape: QueryShape,
              schema: Schema) -> tuple[Projection, Table]:
    """The read model of a view over several services: the view's rows, materialised."""
    resolver = Resolver(schema)
    outputs, group = view_outputs(view.definition or "", schema, schema.dialect, resolver)
    notes = []
    if not outputs:
        outputs = []
        notes.append("the view's definition could not be analysed: its columns are copied as text")
    declared = {c.name: c for c in view.columns}
    columns = [ProjectionColumn(o.name, view.key, o.name, o.type or "TEXT") for o in outputs] or \
        [ProjectionColumn(c.name, view.key, c.name, "TEXT") for c in view.columns]
    by_base = {(o.table, o.column): o.name for o in outputs if o.table}
    key: list[str] = []
    driving = resolver.tables.get(shape.driving or "")
    if driving is not None and driving.primary_key:
        pk = [(driving.key, c) for c in driving.primary_key]
        if shape.aggregated:
            if set(pk) <= set(group) and all(p in by_base for p in pk):
                key = [by_base[p] for p in pk]
        else:
            g = grain(_from_shape(shape.joins, resolver), schema) if shape.joins else None
            if g and all(p in by_base for p in g):
                key = [by_base[p] for p in g]
    if not key:
        notes.append(f"no natural key for one row of the view: surrogate {SURROGATE}")
    nullable = {c.name: declared[c.name].nullable if c.name in declared else True for c in columns}
    steps = [JoinStep(table=view.key, name=view.name, schema=view.schema, alias="v")]
    rows = driving.row_count if driving is not None else None
    projection = Projection(name=name, service=service, dependency=dependency, driving=view.key, joins=steps,
                            columns=columns, key=key, rows_estimate=rows, notes=notes,
                            view_sql=view_select(view.definition or "", schema.dialect))
    if view.materialized and view.populated is False and view.definition:
        projection.source_query = view.definition.strip().rstrip(";").strip()
        notes.append("the materialized view holds no rows in the legacy database (created WITH NO DATA): the fill "
                     "runs its query instead of reading it")
    projection.fill_sql = fill_sql(projection, schema.dialect)
    return projection, _table(name, columns, key, nullable, [])


def view_select(definition: str, dialect: str | None) -> str:
    """The SELECT of a view's definition (``CREATE VIEW v AS SELECT ...`` or the bare SELECT), in
    ``dialect``; empty when it does not parse.

    >>> view_select("CREATE VIEW v AS SELECT a FROM t", "sqlite")
    'SELECT a FROM t'
    """
    from sqlglot import exp

    from workbench.design.queries import parse_quietly

    ast = parse_quietly(definition, dialect) if definition.strip() else None
    if isinstance(ast, exp.Create):
        ast = ast.expression
    if not isinstance(ast, exp.Query):
        return ""
    return ast.sql(dialect=sqlglot_dialect(dialect))


def _extra_columns(sql: str) -> list[tuple[str, str]]:
    from sqlglot import exp, parse_one

    return [(c.table, c.name) for c in parse_one(sql).find_all(exp.Column) if c.table]


_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _literal(text: str) -> sa.ColumnElement[Any]:
    upper = text.strip().upper()
    if upper == "TRUE":
        return sa.true()
    if upper == "FALSE":
        return sa.false()
    if upper == "NULL":
        return sa.null()
    if _NUMBER.match(text.strip()):
        return sa.literal(float(text) if "." in text else int(text))
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return sa.literal(text[1:-1].replace("''", "'"))
    raise WorkbenchError(f"unsupported constant in a join condition: {text!r}")


def _extra(sql: str, dialect: str | None) -> sa.TextClause:
    """A join predicate kept as neutral SQL, spelled for ``dialect`` by sqlglot."""
    from sqlglot import transpile

    return sa.text(transpile(sql, write=sqlglot_dialect(dialect))[0] if dialect else sql)


def fill_select(projection: Projection, dialect: str | None = None) -> sa.Select[tuple[object, ...]]:
    """The SELECT producing the read model's rows from the legacy tables (SQLAlchemy Core).

    Built from the projection alone (table and column names), so ``design.json`` suffices;
    ``dialect`` spells the join predicates kept as SQL text (None: neutral SQL).
    """
    needed: dict[str, set[str]] = {s.alias: set() for s in projection.joins}
    first_alias: dict[str, str] = {}
    for step in projection.joins:
        first_alias.setdefault(step.table, step.alias)
    for c in projection.columns:
        needed[first_alias[c.table]].add(c.column)
    for step in projection.joins:
        for pair in step.on:
            for side in pair:
                alias, dot, col = side.partition(".")
                if dot and alias in needed:
                    needed[alias].add(col)
        for sql in step.extra:
            for alias, col in _extra_columns(sql):
                if alias in needed:
                    needed[alias].add(col)
    tables: dict[str, sa.FromClause] = {
        s.alias: sa.table(s.name, *(sa.column(c) for c in sorted(needed[s.alias])), schema=s.schema).alias(s.alias)
        for s in projection.joins
    }
    if projection.source_query:  # a materialized view without rows: its query's rows, its columns in order
        first = projection.joins[0]
        tables[first.alias] = sa.text(projection.source_query).columns(
            *(sa.column(c.column) for c in projection.columns if c.table == first.table)).subquery(first.alias)

    def ref(side: str) -> sa.ColumnElement[object]:
        alias, dot, col = side.partition(".")
        if dot and alias in tables:
            return tables[alias].c[col]
        return _literal(side)

    joined: sa.FromClause = tables[projection.joins[0].alias]
    for step in projection.joins[1:]:
        conds = [ref(a) == ref(b) for a, b in step.on] + [_extra(x, dialect) for x in step.extra]
        on = sa.and_(*conds) if conds else sa.true()
        joined = joined.join(tables[step.alias], on, isouter=step.outer)
    cols = [tables[first_alias[c.table]].c[c.column].label(c.name) for c in projection.columns]
    return sa.select(*cols).select_from(joined)


def _dialect(name: str) -> Dialect:
    from sqlalchemy.dialects import registry

    try:
        return registry.load(name)()
    except Exception:  # noqa: BLE001 - any loader failure means an unknown dialect name
        raise WorkbenchError(f"unknown SQL dialect: {name!r}") from None


def _compile(stmt: sa.ClauseElement, dialect: str) -> str:
    return str(stmt.compile(dialect=_dialect(dialect), compile_kwargs={"literal_binds": True}))


def fill_sql(projection: Projection, dialect: str) -> str:
    """The initial fill as a SELECT in ``dialect`` (run it on the legacy database, read-only)."""
    return _compile(fill_select(projection, dialect), dialect)


def insert_sql(projection: Projection, target: sa.Table, dialect: str) -> str:
    """``INSERT INTO <read model> SELECT ...``: the fill in one statement, where the legacy tables are
    visible from the service's database (a schema per service inside the legacy database)."""
    stmt = sa.insert(target).from_select([c.name for c in projection.columns], fill_select(projection, dialect))
    return _compile(stmt, dialect)
