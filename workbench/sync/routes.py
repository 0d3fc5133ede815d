"""Where each legacy table's changes go, per the design.

A change to a legacy table reaches, in every service:

- the tables it fills row for row (:class:`~workbench.migrate.units.Unit` of role ``owned``, a
  service's own ``copy``, the read-only ``replica`` and ``command_replica`` -- the last with only
  its columns);
- the read models (``projection`` units) whose fill reads the table. A read model is recomputed
  for the rows the change touches: those whose values in some read-model columns match the change
  (:class:`Recompute`). For the driving table these are its key columns; for a joined table the
  columns of the table it joins to (``ol.product_id`` for a change to ``products`` joined on
  ``p.id = ol.product_id``). The rows matching are deleted on the target and refilled from the
  fill SELECT restricted the same way, on the legacy database. A read model where such columns
  are not in the read model (or that has no key, or is filled from a view) is *coarse*: it is
  compared whole with its fill by checksum (as ``verify`` does) and only the rows that differ are
  written.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from workbench.design.model import Design, Projection
from workbench.migrate.units import Unit, units


@dataclass(frozen=True)
class Recompute:
    """Read-model rows a change to one table touches: ``rm_columns`` equal to the change's ``table_columns``."""

    rm_columns: tuple[str, ...]
    table_columns: tuple[str, ...]


@dataclass
class ProjectionRoute:
    """A read model fed by a table: how to find the rows a change touches (None: coarse).

    ``used`` names the table's columns the read model reads (its columns and join columns; None when a
    join predicate is SQL text): an update leaving all of them as they were touches no read-model row.
    """

    unit: Unit
    recompute: list[Recompute] | None
    used: frozenset[str] | None = None


def _used(p: Projection, table: str) -> frozenset[str] | None:
    aliases = [s for s in p.joins if s.table == table]
    if any(s.extra for s in p.joins):
        return None
    used = {c.column for c in p.columns if c.table == table}
    names = {s.alias for s in aliases}
    for step in p.joins:
        for pair in step.on:
            for side in pair:
                alias, dot, column = side.partition(".")
                if dot and alias in names:
                    used.add(column)
    return frozenset(used)


@dataclass
class TableRoute:
    """Everything fed by one legacy table."""

    table: str
    key: list[str] = field(default_factory=list)
    rows: list[Unit] = field(default_factory=list)
    projections: list[ProjectionRoute] = field(default_factory=list)


@dataclass
class Routes:
    """The routing of a design's services: per legacy table, and the services' units."""

    tables: dict[str, TableRoute]
    services: dict[str, list[Unit]]
    coarse: dict[str, list[Unit]]

    @property
    def captured(self) -> list[str]:
        """The legacy tables whose changes matter, sorted."""
        return sorted(self.tables)

    def keyless(self) -> list[str]:
        return sorted(t for t, r in self.tables.items() if not r.key)


def _legacy_keys(design: Design) -> dict[str, list[str]]:
    """Primary key of every legacy table the design copies (owned tables carry the legacy key)."""
    out: dict[str, list[str]] = {}
    for svc in design.services.values():
        for tt in svc.tables:
            if tt.source and tt.role in ("owned", "copy", "replica", "command_replica"):
                if tt.role == "owned" or tt.source not in out:
                    out[tt.source] = list(tt.table.primary_key)
    return out


def _projection_recompute(p: Projection, table: str, keys: dict[str, list[str]]) -> list[Recompute] | None:
    """How a change to ``table`` maps onto rows of read model ``p``; None when only a whole comparison can tell."""
    if not p.key:
        return None
    aliases = {s.alias: s.table for s in p.joins}
    if len(set(aliases.values())) != len(aliases):
        return None  # a table under two aliases: read-model columns do not say which
    column_of = {(c.table, c.column): c.name for c in p.columns}
    out = []
    for i, step in enumerate(p.joins):
        if step.table != table:
            continue
        if i == 0:
            pk = keys.get(table)
            if not pk or any((table, k) not in column_of for k in pk):
                return None
            out.append(Recompute(tuple(column_of[(table, k)] for k in pk), tuple(pk)))
            continue
        rm_cols, table_cols = [], []
        for a, b in step.on:
            mine, other = (a, b) if a.startswith(f"{step.alias}.") else (b, a)
            if not mine.startswith(f"{step.alias}."):
                continue
            o_alias, dot, o_col = other.partition(".")
            if not dot or o_alias not in aliases:
                continue  # compared with a constant: leaves fewer rows, never others
            rm = column_of.get((aliases[o_alias], o_col))
            if rm is None:
                return None
            rm_cols.append(rm)
            table_cols.append(mine.partition(".")[2])
        if not rm_cols:
            return None
        out.append(Recompute(tuple(rm_cols), tuple(table_cols)))
    return out


def routes(design: Design, services: list[str] | None = None) -> Routes:
    """The routing of ``services`` (default: every service of the design)."""
    names = sorted(services) if services is not None else sorted(design.services)
    keys = _legacy_keys(design)
    projections = {(p.service, p.name): p for p in design.projections}
    dependencies = {d.id: d for d in design.dependencies}
    tables: dict[str, TableRoute] = {}
    coarse: dict[str, list[Unit]] = defaultdict(list)
    by_service: dict[str, list[Unit]] = {}

    def route(table: str) -> TableRoute:
        if table not in tables:
            tables[table] = TableRoute(table, list(keys.get(table, [])))
        return tables[table]

    for name in names:
        found = units(design, name)
        by_service[name] = found
        for unit in found:
            if unit.projection is None:
                route(unit.origin).rows.append(unit)
                continue
            p = projections[(name, unit.table)]
            sources = [s.table for s in p.joins if s.table in keys]
            views = [s.table for s in p.joins if s.table not in keys]
            if views:  # filled from a view: the tables under it trigger a whole comparison
                dep = dependencies.get(p.dependency)
                under = sorted({t for ts in (dep.tables.values() if dep else []) for t in ts if t in keys})
                coarse[name].append(unit)
                for t in sorted(set(sources) | set(under)):
                    route(t).projections.append(ProjectionRoute(unit, None))
                continue
            whole = False
            for t in dict.fromkeys(sources):
                recompute = _projection_recompute(p, t, keys)
                whole = whole or recompute is None
                route(t).projections.append(ProjectionRoute(unit, recompute, _used(p, t)))
            if whole:
                coarse[name].append(unit)
    return Routes(tables, by_service, dict(coarse))
