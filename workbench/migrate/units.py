"""What fills each table of a service's schema, and in which order its rows are read.

A *unit* is one target table and the SELECT on the legacy database that yields its rows:

- ``owned`` tables, a service's own ``copy`` of a formerly shared table, and the read-only replicas
  (``replica``, ``command_replica``, ``projection_source``) copy the legacy table's rows (a replica
  only its columns);
- ``projection`` tables (CQRS read models) take the rows of the projection's fill SELECT (the
  join the design derived), without the surrogate ``rm_id`` a keyless read model gets;
- the outbox and the idempotency table start empty, as the design says: nothing to copy.

Rows are read in key order so a copy can resume after the last key it committed: the primary key
(a projection's key), else -- a legacy table without any key -- a deterministic order over every
column (on SQLite, its ``rowid``), resumed by row count. A read model without a key is copied in
one transaction instead (see :func:`workbench.migrate.copy.copy_unit`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from workbench.design.model import Design, Projection, ServiceDesign, TargetTable
from workbench.design.projections import fill_select
from workbench.design.schemas import same_dialect
from workbench.design.sqltypes import to_sqlalchemy
from workbench.migrate.canon import Kind, kind_of

FILLED_ROLES = ("owned", "copy", "replica", "command_replica", "projection_source", "projection")
"""Roles whose tables the migration fills; the others (outbox, inbox) start empty by design.

A service's own ``copy`` of a formerly shared table starts with the legacy rows: a counter table
(``sequences``) that started empty would hand out numbers the legacy database already issued."""


@dataclass
class Unit:
    """One target table and where its rows come from.

    Attributes
    ----------
    service, table : the service and the target table's name.
    role : the table's role in the design.
    origin : the legacy table key, or the projection's dependency id.
    columns : target columns filled, in order (a keyless read model's ``rm_id`` excluded).
    kinds : the canonical kind of each column (see :mod:`workbench.migrate.canon`).
    key : columns ordering the copy and identifying rows; empty when there is none.
    source_schema, source_name : the legacy table (None for projections).
    projection : the read model's design (projections only).
    rows_hint : rows expected (the design's figure; None when unknown), for progress bars.
    only : read the legacy table's own rows, without those of the tables inheriting from it
        (PostgreSQL ``INHERITS``: they are tables of their own, each copied once, to its own target).
    """

    service: str
    table: str
    role: str
    origin: str
    columns: list[str]
    kinds: list[Kind]
    key: list[str] = field(default_factory=list)
    source_schema: str | None = None
    source_name: str | None = None
    projection: Projection | None = None
    rows_hint: int | None = None
    only: bool = False

    @property
    def label(self) -> str:
        return f"{self.service}.{self.table}"

    def kind(self, column: str) -> Kind:
        return self.kinds[self.columns.index(column)]

    def source_select(self, source_dialect: str) -> sa.Select[Any]:
        """The SELECT on the legacy database yielding the unit's columns (unordered, raw values)."""
        if self.projection is not None:
            sub = fill_select(self.projection, source_dialect).subquery("wb_fill")
            return sa.select(*(sub.c[c] for c in self.columns))
        table = sa.table(self.source_name or self.table, *(sa.column(c) for c in self.columns),
                         schema=self.source_schema)
        select = sa.select(*(table.c[c] for c in self.columns))
        return select.with_hint(table, "ONLY", "postgresql") if self.only else select

    def source_from(self, source_dialect: str) -> sa.FromClause:
        """The legacy rows as a FROM item whose columns are named like the target's: exactly the rows the
        target table came from (a table others inherit from without theirs)."""
        if self.projection is not None:
            return fill_select(self.projection, source_dialect).subquery("wb_fill")
        table = sa.table(self.source_name or self.table, *(sa.column(c) for c in self.columns),
                         schema=self.source_schema)
        return self.source_select(source_dialect).subquery("wb_only") if self.only else table

    def target_table(self, schema: str | None) -> sa.TableClause:
        """The target table as a lightweight construct (columns untyped: raw values in and out)."""
        return sa.table(self.table, *(sa.column(c) for c in self.columns), schema=schema)


def split_key(key: str, dialect: str | None = None) -> tuple[str | None, str]:
    """A legacy table key as (schema, name). A SQLite source has no schemas (the workbench reads
    ``main``): there a dot belongs to the table's name.

    >>> split_key("sales.orders"), split_key("orders"), split_key("dot.table", "sqlite")
    (('sales', 'orders'), (None, 'orders'), (None, 'dot.table'))
    """
    if dialect == "sqlite":
        return None, key
    schema, dot, name = key.partition(".")
    return (schema, name) if dot else (None, key)


def _kinds(tt: TargetTable, columns: list[str], source_dialect: str) -> list[Kind]:
    by_name = {c.name: c for c in tt.table.columns}
    return [kind_of(to_sqlalchemy(by_name[c].type, None if tt.neutral_types else source_dialect).type)
            for c in columns]


def units(design: Design, service: str, target_dialect: str | None = None) -> list[Unit]:
    """The service's units in design order (owned tables first); empty-by-design tables left out.

    ``target_dialect``: the target the rows are written to. On a target of the source's dialect,
    generated columns are generated there too and are left out of the copy (the database refuses
    values for them); without it (verification) they are compared like any other column.
    """
    svc: ServiceDesign = design.service(service)
    computed_here = target_dialect is not None and same_dialect(design.source_dialect, target_dialect)
    projections = {(p.service, p.name): p for p in design.projections}
    out = []
    for tt in svc.tables:
        if tt.role not in FILLED_ROLES or tt.source is None:
            continue
        t = tt.table
        if tt.role == "projection":
            p = projections.get((service, t.name))
            if p is None:
                continue
            columns = [c.name for c in p.columns]
            out.append(Unit(service, t.name, tt.role, p.dependency, columns, _kinds(tt, columns, design.source_dialect),
                            key=list(p.key), projection=p, rows_hint=p.rows_estimate))
            continue
        columns = [c.name for c in t.columns if not (computed_here and c.computed is not None)]
        schema, name = split_key(tt.source, design.source_dialect)
        out.append(Unit(service, t.name, tt.role, tt.source, columns, _kinds(tt, columns, design.source_dialect),
                        key=list(t.primary_key), source_schema=schema, source_name=name,
                        rows_hint=t.row_count if tt.role == "owned" else None,
                        only=bool(t.inherited_by) and design.source_dialect == "postgresql"))
    return out
