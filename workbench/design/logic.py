"""Logic the legacy database runs itself, assigned to the services whose tables it touches.

A trigger, a stored routine or a materialized view is business logic kept inside the database.
Whatever touches the tables of one service moves with that service: on a target of the source's
dialect, ``workbench migrate`` recreates its triggers and routines in that service's schema (a
trigger function that touches no table goes to every service whose triggers run it). Whatever
touches several services cannot stay in any one database and is listed as work: replaced by
application code and events, or, for a materialized view, by the read model the design derives.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from workbench.design.model import LEGACY, LogicItem
from workbench.schema import Schema


def _services(tables: list[str], owner: Mapping[str, str]) -> list[str]:
    return sorted({owner.get(t, LEGACY) for t in tables})


def _one(services: list[str]) -> str | None:
    return services[0] if len(services) == 1 and services[0] != LEGACY else None


def _moves(kind: str, service: str, dialect: str) -> str:
    return (f"moves with {service}: `workbench migrate` recreates this {kind} in {service}'s schema on a {dialect} "
            f"target; on another dialect, rewrite it for the target")


def _spans(kind: str, services: list[str], tables: list[str], owner: Mapping[str, str], anchor: str | None) -> str:
    if all(s == LEGACY for s in services):
        return f"touches only tables no service owns ({', '.join(tables)}): decide where they go first"
    keeper = f" in {owner[anchor]}, which owns {anchor}," if anchor and anchor in owner else ""
    return (f"touches {len(services)} services ({', '.join(services)}): no one database can keep this {kind}; "
            f"replace it with application code{keeper} and events between the services (see the dependency catalog)")


def assign_logic(schema: Schema, owner: Mapping[str, str], view_tables: Mapping[str, list[str]],
                 read_models: Collection[str] = ()) -> list[LogicItem]:
    """One item per trigger, routine and materialized view of ``schema``, assigned and with its work to do.

    Parameters
    ----------
    owner : legacy table key -> the service owning it.
    view_tables : materialized view key -> the tables it reads.
    read_models : keys of the views the design replaces by a read model.

    Examples
    --------
    >>> from workbench.schema import Routine, Table, Trigger
    >>> s = Schema("postgresql", "x", tables=[Table("film"), Table("rental")],
    ...            routines=[Routine("touch", kind="function", returns="trigger")],
    ...            triggers=[Trigger("touched", "film", "BEFORE", ["UPDATE"], "touch", tables=["film"])])
    >>> [(i.kind, i.name, i.services, i.recreate_in) for i in assign_logic(s, {"film": "catalog"}, {})]
    [('function', 'touch', ['catalog'], ['catalog']), ('trigger', 'film.touched', ['catalog'], ['catalog'])]
    """
    dialect = schema.dialect
    callers: dict[str, list[list[str]]] = {}
    for t in schema.triggers:
        if t.function:
            callers.setdefault(t.function, []).append(_services(t.tables, owner))
    items: list[LogicItem] = []
    recreated: dict[str, list[str]] = {}
    for r in schema.routines:
        services = _services(r.tables, owner)
        item = LogicItem(r.kind, r.key, list(r.tables), services, definition=r.definition, arguments=r.arguments)
        if r.tables:
            one = _one(services)
            item.recreate_in = [one] if one else []
            item.action = _moves(r.kind, one, dialect) if one else _spans(r.kind, services, r.tables, owner, None)
        else:
            users = sorted({s for used in callers.get(r.key, []) if (s := _one(used))})
            item.services, item.recreate_in = users, users
            item.action = (f"touches no table: `workbench migrate` recreates it in {', '.join(users)} (for their "
                           f"triggers) on a {dialect} target; on another dialect, rewrite it there") if users else \
                "touches no table and no trigger runs it: recreate it wherever the application still calls it"
        recreated[r.key] = item.recreate_in
        items.append(item)
    routines = {r.key for r in schema.routines}
    for t in schema.triggers:
        services = _services(t.tables, owner)
        one = _one(services)
        runs_here = t.function is None or t.function not in routines or (one is not None and
                                                                          one in recreated.get(t.function, []))
        item = LogicItem("trigger", t.key, list(t.tables), services, definition=t.definition, function=t.function,
                         table=t.table)
        if one and runs_here:
            item.recreate_in, item.action = [one], _moves("trigger", one, dialect)
        elif one:
            item.action = f"moves with {one}, but the routine it runs ({t.function}) does not: rewrite it in {one}"
        else:
            item.action = _spans("trigger", services, t.tables, owner, t.table)
        items.append(item)
    for view in schema.views:
        if not view.materialized:
            continue
        tables = list(view_tables.get(view.key, []))
        services = _services(tables, owner)
        one = _one(services)
        item = LogicItem("materialized view", view.key, tables, services, definition=view.definition or "")
        if view.key in read_models:
            item.action = (f"reads {len(services)} services ({', '.join(services)}): replaced by a read model "
                           "filled from it, kept current by events (see the read models)")
        elif one:
            item.action = f"reads only {one}'s tables: recreate it in {one}'s schema and refresh it as the legacy did"
        else:
            item.action = _spans("materialized view", services, tables, owner, None)
        if view.populated is False:
            item.action += "; it holds no rows in the legacy database (created WITH NO DATA): read through its query"
        items.append(item)
    return items
