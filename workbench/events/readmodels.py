"""Recompute a read model's rows from the consumer's local tables, for the rows an event touched.

A read model is the design's fill (a join over legacy tables) materialised in the consumer's
schema. The consumer holds, for every table that join reads, either the table itself (its own) or
a read-only copy of the columns the join needs (kept by the owner's events), so the same fill,
pointed at the local tables, recomputes any of its rows. After a batch of events changed rows of
table ``T``:

1. the *driving keys* affected are those of the read-model rows holding one of the changed ``T``
   rows now (found in the read model by ``T``'s key columns, which every read model keeps) plus
   those the fill over the local tables joins to them after the change (inserts, moved references);
2. the read model's rows with those driving keys are deleted and recomputed by the fill,
   restricted to the same driving keys, in the consumer's transaction.

This holds for any join tree (inner or outer, chains, lookups). A table joined twice (through two
aliases), a driving table without a key, or a view's read model (an aggregate of its view) is
recomputed whole instead: correct, but proportional to the read model's size, so keep those small.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from workbench.db import sqlglot_dialect
from workbench.design.projections import fill_select
from workbench.events.keys import batches, key_in
from workbench.events.topology import ReadModelPlan

Key = tuple[Any, ...]


def local_view_sql(rm: ReadModelPlan, schema: str | None, source_dialect: str, dialect: str) -> str:
    """A view read model's SELECT with every legacy table replaced by the consumer's local one, in ``dialect``.

    >>> from workbench.design.model import Projection
    >>> rm = ReadModelPlan(Projection("rm_v", "s", "view:v", "v", view_sql="SELECT o.id FROM orders o"),
    ...                    ["orders"], {"orders": "orders"}, {"orders": ["id"]})
    >>> local_view_sql(rm, "svc", "sqlite", "postgresql")
    'SELECT o.id FROM "svc"."orders" AS o'
    """
    from sqlglot import exp

    from workbench.design.queries import parse_quietly

    ast = parse_quietly(rm.projection.view_sql, source_dialect)
    if ast is None:
        raise ValueError(f"the definition of {rm.name}'s view does not parse")

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name:
            key = f"{node.db}.{node.name}" if node.db else node.name
            if key in rm.local:
                alias = node.args.get("alias")
                table = exp.Table(this=exp.to_identifier(rm.local[key], quoted=True),
                                  db=exp.to_identifier(schema, quoted=True) if schema else None)
                if alias is not None:
                    table.set("alias", alias)
                elif node.name != rm.local[key] or schema:
                    table.set("alias", exp.TableAlias(this=exp.to_identifier(node.name)))
                return table
        return node

    return ast.transform(swap).sql(dialect=sqlglot_dialect(dialect))


class ReadModelSql:
    """The statements keeping one read model of a consumer current, on its local tables."""

    def __init__(self, rm: ReadModelPlan, target: sa.Table, schema: str | None, source_dialect: str,
                 dialect: str) -> None:
        self.rm = rm
        self.target = target
        self.dialect = dialect
        p = rm.projection
        self.columns = [c.name for c in p.columns]
        if rm.view:
            text = sa.text(local_view_sql(rm, schema, source_dialect, dialect))
            self.fill = text.columns(*(sa.column(c) for c in self.columns)).subquery("wb_fill")
            self.driving: list[str] = []
            self.keyed: dict[str, list[str]] = {}
            return
        local = copy.deepcopy(p)
        for step in local.joins:
            step.name, step.schema = rm.local[step.table], schema
        self.fill = fill_select(local, dialect).subquery("wb_fill")
        by_source = {(c.table, c.column): c.name for c in p.columns}
        driving = p.joins[0].table
        self.driving = [by_source[(driving, k)] for k in rm.keys.get(driving, []) if (driving, k) in by_source]
        if not rm.keys.get(driving) or len(self.driving) != len(rm.keys[driving]):
            self.driving = []  # no driving key in the read model: recompute whole
        aliases: dict[str, int] = {}
        for step in p.joins:
            aliases[step.table] = aliases.get(step.table, 0) + 1
        self.keyed = {}
        for table, key in rm.keys.items():
            cols = [by_source.get((table, k)) for k in key]
            if key and all(cols) and aliases.get(table) == 1:
                self.keyed[table] = [c for c in cols if c]

    def affected(self, conn: sa.Connection, table: str, keys: Sequence[Key]) -> set[Key] | None:
        """Driving keys of the rows ``keys`` of ``table`` are part of, before or after the change (None: all)."""
        if not self.driving or table not in self.keyed:
            return None
        if table == self.rm.projection.joins[0].table:
            return set(keys)
        cols = self.keyed[table]
        found: set[Key] = set()
        for chunk in batches(keys, len(cols), self.dialect):
            for source in (self.target, self.fill):
                q = sa.select(*(source.c[c] for c in self.driving)).where(
                    key_in([source.c[c] for c in cols], chunk, self.dialect)).distinct()
                found.update(tuple(r) for r in conn.execute(q))
        return found

    def refresh(self, conn: sa.Connection, drivers: set[Key] | None) -> int:
        """Recompute the rows with these driving keys (all rows for None); returns the rows written."""
        insert = sa.insert(self.target)
        if drivers is None:
            conn.execute(sa.delete(self.target))
            result = conn.execute(insert.from_select(self.columns, sa.select(*(self.fill.c[c] for c in self.columns))))
            return max(result.rowcount or 0, 0)
        written = 0
        for chunk in batches(sorted(drivers, key=repr), len(self.driving), self.dialect):
            conn.execute(sa.delete(self.target).where(
                key_in([self.target.c[c] for c in self.driving], chunk, self.dialect)))
            select = sa.select(*(self.fill.c[c] for c in self.columns)).where(
                key_in([self.fill.c[c] for c in self.driving], chunk, self.dialect))
            written += max(conn.execute(insert.from_select(self.columns, select)).rowcount or 0, 0)
        return written
