"""Index advice per service, from its schema and the workload: what to add, what to drop.

Four kinds, most valuable first:

- ``fk_without_index``: a foreign key inside the service, or a reference by id to another
  service (a former FK: still how rows are looked up) that the workload uses (any, without one),
  with no index leading with its columns (the lint rule
  :func:`workbench.assess.lint.fk_without_index.fk_without_index`, plus references);
- ``predicate_without_index``: columns the workload filters a table on -- equality first, then one
  range column, as an index would order them -- in at least ``min_calls`` calls, when no index or
  key of the table even starts with one of them (tables under ``min_rows`` rows are left alone: a
  scan is as cheap);
- ``unused_index``: a non-unique index of a table the workload uses whose leading column no
  statement filters, joins, or sorts on, and which supports no foreign key or reference;
- ``redundant_index``: an index that is a prefix or a duplicate of another (the lint rule
  :func:`workbench.assess.lint.redundant_indexes.redundant_indexes`).

Predicates come from the workload's statement templates, parsed with sqlglot scopes (SELECT,
UPDATE, DELETE; WHERE, JOIN ... ON, ORDER BY), resolved against the legacy tables the design kept.
Each advice carries the DDL for the target dialect, compiled by SQLAlchemy.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.schema import CreateIndex, DropIndex
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import build_scope

from workbench.assess.indexes import access_paths, covers
from workbench.assess.lint.fk_without_index import fk_without_index
from workbench.assess.lint.redundant_indexes import redundant_indexes
from workbench.design.ddl import dialect_of
from workbench.design.model import Design
from workbench.design.projections import identifier
from workbench.design.queries import Resolver, conjuncts, parse_quietly
from workbench.design.schemas import check_dialect, service_metadata
from workbench.migrate.units import split_key
from workbench.schema import Schema, Table
from workbench.workload.model import Workload

KINDS = ("fk_without_index", "predicate_without_index", "unused_index", "redundant_index")


@dataclass
class Usage:
    """How statements use one legacy table: equality and range columns of one query block, summed calls."""

    table: str
    equality: tuple[str, ...] = ()
    ranges: tuple[str, ...] = ()
    calls: int = 0


@dataclass
class TableUse:
    """Every column of a table that some statement filters, joins or sorts on, with calls."""

    usages: list[Usage] = field(default_factory=list)
    columns: dict[str, int] = field(default_factory=dict)
    calls: int = 0


@dataclass
class Advice:
    """One index to add or drop in a service.

    Attributes
    ----------
    kind : one of :data:`KINDS`.
    columns : the index's columns (in index order).
    calls : statement calls that would use it (for unused/redundant: 0).
    reason : why, with the evidence.
    sql : the DDL for the dialect asked for.
    """

    service: str
    table: str
    kind: str
    columns: list[str]
    calls: int = 0
    reason: str = ""
    sql: str = ""


_EQUALITY = (exp.EQ, exp.In, exp.NullSafeEQ)
_RANGE = (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.Like, exp.ILike)


def legacy_schema(design: Design) -> Schema:
    """The legacy tables the services own, as the design copied them (enough to resolve statements)."""
    tables = []
    for svc in design.services.values():
        for tt in svc.tables:
            if tt.role == "owned" and tt.source:
                t = copy.copy(tt.table)
                t.schema, t.name = split_key(tt.source, design.source_dialect)
                tables.append(t)
    return Schema(dialect=design.source_dialect, database=design.source, tables=tables)


def _resolve(col: exp.Column, aliases: dict[str, str], resolver: Resolver) -> tuple[str, str] | None:
    if col.table:
        key = aliases.get(col.table)
        name = resolver.has_column(key, col.name) if key else None
        return (key, name) if key and name else None
    owners = {(key, name) for key in set(aliases.values()) if (name := resolver.has_column(key, col.name))}
    return owners.pop() if len(owners) == 1 else None


def _aliases(scope_expr: exp.Expression, sources: Mapping[str, object], resolver: Resolver) -> dict[str, str]:
    out = {}
    for alias, source in sources.items():
        if isinstance(source, exp.Table) and (key := resolver.key(source)):
            out[alias] = key
    if isinstance(scope_expr, exp.Update | exp.Delete):
        table = scope_expr.this if isinstance(scope_expr.this, exp.Table) else scope_expr.find(exp.Table)
        if isinstance(table, exp.Table) and (key := resolver.key(table)):
            out[table.alias_or_name] = key
    return out


def _block(node: exp.Expression, aliases: dict[str, str], resolver: Resolver, calls: int,
           uses: dict[str, TableUse]) -> None:
    """Record one query block's predicates (WHERE, JOIN ... ON) and sort columns."""
    equality: dict[str, set[str]] = defaultdict(set)
    ranges: dict[str, set[str]] = defaultdict(set)
    where = node.args.get("where")
    conds = conjuncts(where.this if where else None)
    for join in node.args.get("joins") or []:
        conds += conjuncts(join.args.get("on"))
    for cond in conds:
        cols = [c for c in (cond.left, cond.right) if isinstance(c, exp.Column)] if isinstance(cond, exp.EQ) else []
        if len(cols) == 2:  # a join predicate: each side is looked up by its column
            for c in cols:
                if hit := _resolve(c, aliases, resolver):
                    equality[hit[0]].add(hit[1])
            continue
        target = cond.this if isinstance(cond, exp.In | exp.Between | exp.Like | exp.ILike) else \
            next((c for c in (cond.args.get("this"), cond.args.get("expression")) if isinstance(c, exp.Column)), None)
        if not isinstance(target, exp.Column) or not isinstance(cond, _EQUALITY + _RANGE):
            continue
        hit = _resolve(target, aliases, resolver)
        if hit:
            (equality if isinstance(cond, _EQUALITY) else ranges)[hit[0]].add(hit[1])
    order = node.args.get("order")
    for col in (order.find_all(exp.Column) if order else []):
        if hit := _resolve(col, aliases, resolver):
            use = uses.setdefault(hit[0], TableUse())
            use.columns[hit[1]] = use.columns.get(hit[1], 0) + calls
    for table in set(equality) | set(ranges):
        use = uses.setdefault(table, TableUse())
        eq, rg = tuple(sorted(equality[table])), tuple(sorted(ranges[table] - equality[table]))
        use.usages.append(Usage(table, eq, rg, calls))
        for name in (*eq, *rg):
            use.columns[name] = use.columns.get(name, 0) + calls


def table_uses(workload: Workload, schema: Schema) -> dict[str, TableUse]:
    """Legacy table key -> how the workload's statements filter, join and sort it."""
    resolver = Resolver(schema)
    uses: dict[str, TableUse] = {}
    for template in workload.templates:
        if template.kind not in ("select", "update", "delete") or not template.calls:
            continue
        for key in set(template.tables_read) | set(template.tables_written):
            uses.setdefault(key, TableUse()).calls += template.calls
        ast = parse_quietly(template.text, workload.dialect or schema.dialect)
        if ast is None:
            continue
        if isinstance(ast, exp.Update | exp.Delete):
            _block(ast, _aliases(ast, {}, resolver), resolver, template.calls, uses)
            continue
        try:
            root = build_scope(ast)
        except (SqlglotError, ValueError, KeyError):
            continue
        for scope in root.traverse() if root is not None else []:
            if isinstance(scope.expression, exp.Select):
                _block(scope.expression, _aliases(scope.expression, scope.sources, resolver), resolver,
                       template.calls, uses)
    return uses


def _merge(usages: Iterable[Usage]) -> list[Usage]:
    merged: dict[tuple[tuple[str, ...], tuple[str, ...]], Usage] = {}
    for u in usages:
        key = (u.equality, u.ranges[:1])
        found = merged.setdefault(key, Usage(u.table, u.equality, u.ranges[:1]))
        found.calls += u.calls
    return sorted(merged.values(), key=lambda u: (-u.calls, u.equality, u.ranges))


def _index_name(table: str, columns: list[str]) -> str:
    return identifier(f"ix_{table}_{'_'.join(columns)}")


class _Sql:
    """DDL for one service in one dialect, compiled from the design's tables."""

    def __init__(self, design: Design, service: str, dialect: str) -> None:
        self.dialect = dialect_of(dialect)
        self.metadata = service_metadata(design, service, dialect)
        self.schema = design.service(service).namespace if check_dialect(dialect) != "sqlite" else None

    def table(self, name: str) -> sa.Table:
        key = f"{self.schema}.{name}" if self.schema else name
        return self.metadata.tables[key]

    def create(self, table: str, columns: list[str]) -> str:
        t = self.table(table)
        ix = sa.Index(_index_name(table, columns), *(t.c[c] for c in columns))
        try:
            return str(CreateIndex(ix).compile(dialect=self.dialect)).strip()
        finally:
            t.indexes.discard(ix)

    def drop(self, table: str, name: str | None) -> str:
        t = self.table(table)
        ix = next((i for i in t.indexes if i.name == name), None)
        return str(DropIndex(ix).compile(dialect=self.dialect)).strip() if ix is not None else ""


def _service_tables(design: Design, service: str) -> tuple[list[Table], dict[str, str]]:
    """The service's owned tables (target names), and legacy key -> target name."""
    tables, names = [], {}
    for tt in design.service(service).tables:
        if tt.role == "owned" and tt.source:
            tables.append(tt.table)
            names[tt.source] = tt.table.name
    return tables, names


def advise(design: Design, workload: Workload | None = None, *, dialect: str = "postgresql",
           services: Iterable[str] | None = None, min_calls: int = 10, min_rows: int = 1_000) -> list[Advice]:
    """Index advice for each service's own tables, sorted by service, kind and weight.

    Parameters
    ----------
    workload : statement templates with call counts; without one, only the schema's advice
        (unindexed FKs and references, redundant indexes).
    dialect : the target dialect the DDL is written for.
    min_calls : calls a predicate needs before an index is suggested for it.
    min_rows : tables with fewer rows (when known) get no predicate advice.
    """
    dialect = check_dialect(dialect)
    names = sorted(services) if services is not None else sorted(design.services)
    uses = table_uses(workload, legacy_schema(design)) if workload is not None else {}
    out: list[Advice] = []
    for service in names:
        svc = design.service(service)
        tables, by_legacy = _service_tables(design, service)
        schema = Schema(dialect=design.source_dialect, database=design.source, tables=tables)
        ddl = _Sql(design, service, dialect)
        by_name = {t.name: t for t in tables}
        for f in fk_without_index(schema):
            out.append(
                Advice(service, f.table, "fk_without_index", f.columns, 0, f.message, ddl.create(f.table, f.columns))
            )
        supported: dict[str, list[list[str]]] = defaultdict(list)
        for t in tables:
            supported[t.name] += [fk.columns for fk in t.foreign_keys]
        for r in svc.references:
            referring = by_name.get(r.table)
            if referring is None:
                continue
            supported[referring.name].append(r.columns)
            used = uses.get(next((k for k, v in by_legacy.items() if v == referring.name), ""), TableUse()).columns
            if workload is not None and not any(c in used for c in r.columns):
                continue  # a workload shows no lookup by it: an index would only cost writes
            if not any(covers(p, r.columns) for p in access_paths(referring)):
                out.append(Advice(service, referring.name, "fk_without_index", list(r.columns),
                                  max((used.get(c, 0) for c in r.columns), default=0),
                                  f"reference ({', '.join(r.columns)}) -> {r.referred_service}.{r.referred_table} "
                                  "has no supporting index: lookups by it scan the table",
                                  ddl.create(referring.name, list(r.columns))))
        flagged = {(a.table, tuple(a.columns)) for a in out if a.service == service}
        for legacy, target in sorted(by_legacy.items()):
            t = by_name[target]
            use = uses.get(legacy)
            if use is None:
                continue
            paths = access_paths(t)
            if t.row_count is None or t.row_count >= min_rows:
                for u in _merge(use.usages):
                    columns = list(u.equality) + list(u.ranges)
                    if u.calls < min_calls or not columns or (target, tuple(columns)) in flagged:
                        continue
                    lead = set(u.equality) or set(u.ranges)
                    if any(p.columns[0] in lead for p in paths):
                        continue  # some index (or key) already narrows the search
                    flagged.add((target, tuple(columns)))
                    where = " and ".join([f"{c} = ?" for c in u.equality] + [f"{c} in a range" for c in u.ranges])
                    out.append(Advice(service, target, "predicate_without_index", columns, u.calls,
                                      f"{u.calls:,} calls filter on {where} and no index or key leads with "
                                      f"any of ({', '.join(sorted(lead))})", ddl.create(target, columns)))
            for ix in t.indexes:
                if ix.unique or not ix.columns or ix.columns[0] in use.columns:
                    continue
                if any(cols and cols[0] == ix.columns[0] for cols in supported[target]):
                    continue
                out.append(Advice(service, target, "unused_index", list(ix.columns), 0,
                                  f"index {ix.name or ''} ({', '.join(ix.columns)}): no statement of the workload "
                                  f"({use.calls:,} calls on {target}) filters, joins or sorts on {ix.columns[0]}",
                                  ddl.drop(target, ix.name)))
        for f in redundant_indexes(schema):
            t = by_name[f.table]
            redundant = next((i for i in t.indexes if i.columns == f.columns and not i.unique), None)
            out.append(Advice(service, f.table, "redundant_index", f.columns, 0, f.message,
                              ddl.drop(f.table, redundant.name) if redundant is not None else ""))
    rank = {k: i for i, k in enumerate(KINDS)}
    return sorted(out, key=lambda a: (a.service, rank[a.kind], -a.calls, a.table, a.columns))
