"""What the database does besides storing rows: logic and storage that must move with a service.

Triggers, stored routines and materialized views are business logic kept inside the database: a
split must give each to the service owning the tables it touches, or replace it (application
code, events) where it touches several. Enums, domains, generated and identity columns, sequence
and ``ON UPDATE`` defaults are behaviour an insert relies on; partitions are storage of one table.
None of it shows in a list of tables and foreign keys, so the Assess stage lists it here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from workbench.schema import Schema

_NEXTVAL = re.compile(r"nextval\(", re.IGNORECASE)
_ON_UPDATE = re.compile(r"\bON\s+UPDATE\b", re.IGNORECASE)
_ENUM_OR_SET = re.compile(r"^\s*(ENUM|SET)\s*\(", re.IGNORECASE)

KINDS = ("trigger", "function", "procedure", "materialized view", "enum", "domain", "partitioned table",
         "enum or set column", "generated column", "identity column", "sequence default", "on update default")
"""Kinds of object listed, in the order they are shown."""


@dataclass(frozen=True)
class DatabaseObject:
    """One object of :data:`KINDS`: its name, the tables it belongs to or touches, and what it does."""

    kind: str
    name: str
    tables: tuple[str, ...]
    detail: str


def database_objects(schema: Schema) -> list[DatabaseObject]:
    """Every trigger, routine, materialized view, named type, partitioned table and column behaviour."""
    out = [DatabaseObject("trigger", t.key, tuple(t.tables),
                          f"{t.timing} {' OR '.join(t.events)}" + (f", runs {t.function}" if t.function else ""))
           for t in schema.triggers]
    out += [DatabaseObject(r.kind, f"{r.key}({r.arguments})", tuple(r.tables),
                           f"{r.language}" + (f", returns {r.returns}" if r.returns else "")) for r in schema.routines]
    for view in schema.views:
        if view.materialized:
            out.append(DatabaseObject("materialized view", view.key, view_tables(schema, view.key),
                                      "populated" if view.populated else "not populated (created WITH NO DATA)"))
    for t in schema.types:
        detail = ", ".join(t.values) if t.kind == "enum" else \
            " ".join([t.base or "", *(c[1] for c in t.checks)] + (["NOT NULL"] if t.not_null else []))
        out.append(DatabaseObject(t.kind, t.key, _using(schema, t.name), detail.strip()))
    for table in schema.base_tables:
        if table.partitioning:
            out.append(DatabaseObject("partitioned table", table.key, (table.key,),
                                      f"{table.partitioning}, {len(table.partitions)} partitions"))
        for c in table.columns:
            if _ENUM_OR_SET.match(c.type):
                out.append(DatabaseObject("enum or set column", f"{table.key}.{c.name}", (table.key,), c.type))
            if c.computed is not None:
                out.append(DatabaseObject("generated column", f"{table.key}.{c.name}", (table.key,),
                                          f"{c.computed.expression} ({'stored' if c.computed.stored else 'virtual'})"))
            if c.identity:
                out.append(DatabaseObject("identity column", f"{table.key}.{c.name}", (table.key,), c.identity))
            if c.default and _NEXTVAL.search(c.default):
                out.append(DatabaseObject("sequence default", f"{table.key}.{c.name}", (table.key,), c.default))
            if c.default and _ON_UPDATE.search(c.default):
                out.append(DatabaseObject("on update default", f"{table.key}.{c.name}", (table.key,), c.default))
    rank = {k: i for i, k in enumerate(KINDS)}
    return sorted(out, key=lambda o: (rank[o.kind], o.name))


def view_tables(schema: Schema, key: str) -> tuple[str, ...]:
    """The tables a view reads, from its definition (empty when it does not parse)."""
    from workbench.design.queries import analyze_query  # lazy: the design package is heavy to import

    view = schema.table(key)
    shape = analyze_query(view.definition, schema, schema.dialect) if view.definition else None
    return tuple(shape.tables) if shape is not None else ()


def _using(schema: Schema, type_name: str) -> tuple[str, ...]:
    """Tables with a column of the named type."""
    wanted = type_name.lower()
    return tuple(sorted({t.key for t in schema.base_tables for c in t.columns
                         if c.type.lower().split(".")[-1].strip('"') == wanted}))


def objects_frame(schema: Schema) -> pd.DataFrame:
    """One row per object (:func:`database_objects`), for the Assess page."""
    return pd.DataFrame([(o.kind, o.name, ", ".join(o.tables), o.detail) for o in database_objects(schema)],
                        columns=["kind", "name", "tables", "detail"])


def partitions_frame(schema: Schema) -> pd.DataFrame:
    """One row per partition of each partitioned table: storage of that table, not a table of its own."""
    rows = [(t.key, t.partitioning, p.name, p.bound, p.rows) for t in schema.base_tables for p in t.partitions]
    return pd.DataFrame(rows, columns=["table", "partitioning", "partition", "bound", "rows"])


def logic_sentences(schema: Schema) -> list[str]:
    """Sentences for the narrative's *Against* list (none when the database keeps no logic of its own).

    >>> from workbench.schema import Table, Trigger
    >>> s = Schema("sqlite", "x", tables=[Table("film"), Table("film_text")],
    ...            triggers=[Trigger("ins_film", "film", "AFTER", ["INSERT"], tables=["film", "film_text"])])
    >>> logic_sentences(s)[0][:72]
    '1 trigger (film.ins_film) keeps business logic inside the database: each'
    """
    from workbench.assess.narrative import examples, plural

    objects = database_objects(schema)
    logic = [o for o in objects if o.kind in ("trigger", "function", "procedure", "materialized view")]
    out = []
    if logic:
        counts = [plural(n, kind) for kind in ("trigger", "function", "procedure", "materialized view")
                  if (n := sum(1 for o in logic if o.kind == kind))]
        out.append(f"{examples(counts, 4)} ({examples([o.name for o in logic])}) keep"
                   f"{'s' if len(logic) == 1 else ''} business logic inside the database: each must move with the "
                   "service owning the tables it touches, or be replaced by application code or events where it "
                   "touches several.")
    behaviour = [o for o in objects if o.kind in ("enum", "domain", "enum or set column", "generated column",
                                                  "identity column", "sequence default", "on update default")]
    if behaviour:
        out.append(f"{plural(len(behaviour), 'column behaviour')} (named, ENUM and SET types, generated and identity "
                   "columns, "
                   f"sequence and ON UPDATE defaults, e.g. {examples([o.name for o in behaviour])}) must be kept "
                   "by each service's schema, or an ordinary insert fails or stores something else afterwards.")
    partitioned = [o for o in objects if o.kind == "partitioned table"]
    if partitioned:
        out.append(f"{plural(len(partitioned), 'partitioned table')} ({examples([o.name for o in partitioned])}) "
                   f"{'moves as one table' if len(partitioned) == 1 else 'move as one table each'}: the "
                   "partitioning is storage its service decides again.")
    return out
