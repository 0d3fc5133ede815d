"""PostgreSQL: the whole catalog in four ``pg_catalog`` queries over all chosen schemas.

SQLAlchemy's bulk Inspector (:mod:`.generic`) already reads PostgreSQL in one query per kind of
fact, but its queries are general-purpose (opclasses, identity options, partial-index predicates,
constraint text re-parsed with regexes...) and cost two to four times the catalog floor on big
catalogs. The queries here fetch only what the model holds. Column types still go through the
dialect's own type reflection (``PGDialect._reflect_type``, memoised per distinct
``format_type()`` text, enums and domains through its named-type loader) and the Inspector's
default/nullability rules, so the model is the one the Inspector path gives; the tests hold the
two paths equal. Should a future SQLAlchemy drop those internals, :func:`read` falls back to the
Inspector path.

Statistics: ``pg_class.reltuples`` (-1: never analysed, reported as unknown) and
``pg_total_relation_size`` (table, TOAST and indexes); a partitioned table's are its partitions'.
Partitions are folded into their table (:func:`storage`); enums, domains, routines and triggers
are read by :func:`logic`.
"""

from __future__ import annotations

import re
import warnings
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import DOMAIN
from sqlalchemy.engine import Connection, Dialect

from workbench.introspect import generic
from workbench.introspect.common import ColumnKey, render_type, schema_or_none, tables_named
from workbench.schema import (
    Column,
    Computed,
    ForeignKey,
    Index,
    Partition,
    Routine,
    Table,
    Trigger,
    UniqueConstraint,
    UserType,
    table_key,
)

_RELATIONS = sa.text(
    """
    SELECT c.oid, n.nspname, c.relname, c.relkind,
           pg_catalog.obj_description(c.oid, 'pg_class'),
           CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND c.relpersistence <> 't' AND n.nspname = ANY(:schemas)
    """
)

# Same column facts as SQLAlchemy's PostgreSQL column query, minus what the model does not keep.
_COLUMNS = sa.text(
    """
    SELECT a.attrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
           CASE WHEN a.atthasdef THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END,
           a.attgenerated <> '', pg_catalog.col_description(a.attrelid, a.attnum), a.attidentity,
           CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN co.collname END,
           CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                     AND NOT pg_catalog.pg_collation_is_visible(co.oid) THEN con.nspname END
    FROM pg_catalog.pg_attribute a
    JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
    LEFT JOIN pg_catalog.pg_namespace con ON con.oid = co.collnamespace
    WHERE a.attnum > 0 AND NOT a.attisdropped
      AND c.relkind IN ('r', 'p', 'f', 'v', 'm') AND c.relpersistence <> 't' AND n.nspname = ANY(:schemas)
    ORDER BY a.attrelid, a.attnum
    """
)

_CONSTRAINTS = sa.text(
    """
    SELECT con.conrelid, con.contype, con.conname,
           ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
                 JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
                 ORDER BY k.ord),
           rn.nspname, rc.relname,
           ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
                 JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num
                 ORDER BY k.ord),
           con.confupdtype, con.confdeltype
    FROM pg_catalog.pg_constraint con
    JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
    LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
    WHERE con.contype IN ('p', 'u', 'f') AND n.nspname = ANY(:schemas) AND con.conparentid = 0
    """
)

# Indexes that back no constraint (those are primary keys and unique constraints already).
_INDEXES = sa.text(
    """
    SELECT i.indrelid, ic.relname, i.indisunique, NULLIF(am.amname, 'btree'),
           ARRAY(SELECT CASE WHEN k.num = 0 THEN pg_catalog.pg_get_indexdef(i.indexrelid, k.ord::int, true)
                             ELSE a.attname::text END
                 FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(num, ord)
                 LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num
                 WHERE k.ord <= i.indnkeyatts ORDER BY k.ord)
    FROM pg_catalog.pg_index i
    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_catalog.pg_am am ON am.oid = ic.relam
    JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT i.indisprimary AND n.nspname = ANY(:schemas)
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint pc
                      WHERE pc.conrelid = i.indrelid AND pc.conindid = i.indexrelid AND pc.contype IN ('p', 'u', 'x'))
    """
)

_RAW_TYPES = sa.text(
    """
    SELECT n.nspname, c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)
    FROM pg_catalog.pg_attribute a
    JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f', 'v', 'm')
      AND n.nspname = ANY(:schemas)
    """
)

_VIEWS = sa.text(
    """
    SELECT n.nspname, c.relname, pg_catalog.pg_get_viewdef(c.oid)
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('v', 'm') AND n.nspname = ANY(:schemas)
    """
)

_FK_TARGETS = sa.text(
    """
    SELECT n.nspname, c.relname, con.conname, rn.nspname
    FROM pg_catalog.pg_constraint con
    JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
    JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
    WHERE con.contype = 'f' AND n.nspname = ANY(:schemas)
    """
)

_STATS = sa.text(
    """
    SELECT n.nspname, c.relname,
           CASE WHEN c.relkind <> 'p' THEN c.reltuples::float8
                ELSE (SELECT CASE WHEN bool_or(l.reltuples < 0) THEN -1 ELSE sum(l.reltuples) END::float8
                      FROM pg_catalog.pg_partition_tree(c.oid) t JOIN pg_catalog.pg_class l ON l.oid = t.relid
                      WHERE t.isleaf) END,
           CASE WHEN c.relkind <> 'p' THEN pg_catalog.pg_total_relation_size(c.oid)
                ELSE (SELECT sum(pg_catalog.pg_total_relation_size(t.relid))::bigint
                      FROM pg_catalog.pg_partition_tree(c.oid) t) END
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname = ANY(:schemas)
    """
)
"""A partitioned table's rows and size are its partitions' (its own relation holds nothing)."""

_IDENTITY = {"a": "always", "d": "by default"}
"""``pg_attribute.attidentity`` codes (empty: not an identity column)."""
_FK_ACTIONS = {"a": None, "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
"""``pg_constraint.confupdtype``/``confdeltype`` codes (``a``: NO ACTION, the default)."""
_NEXTVAL = re.compile(r"""(nextval\(')([^']+)('.*$)""")


def raw_types(conn: Connection, schemas: list[str], default: str | None) -> Mapping[ColumnKey, str]:
    """``format_type`` of every column: the fallback text for types SQLAlchemy does not know."""
    rows = conn.execute(_RAW_TYPES, {"schemas": schemas})
    return {(schema_or_none(s, default), t, c): text for s, t, c, text in rows}


def _type_reflector(conn: Connection) -> Callable[[str | None, str | None, str | None], Any] | None:
    """The dialect's own ``format_type()`` -> type function, memoised; None if this SQLAlchemy lacks it."""
    dialect: Dialect = conn.dialect
    try:
        from sqlalchemy.dialects.postgresql.base import _NamedTypeLoader

        reflect = dialect._reflect_type  # type: ignore[attr-defined]  # PGDialect's private helper: no public API
        loader = _NamedTypeLoader(dialect, conn, {"info_cache": {}})  # type: ignore[arg-type]  # wants a PGDialect
    except (ImportError, AttributeError, TypeError):
        return None
    memo: dict[tuple[str | None, str | None, str | None], Any] = {}

    def reflected(format_type: str | None, collation: str | None, collation_schema: str | None) -> Any:
        key = (format_type, collation, collation_schema)
        if key not in memo:
            memo[key] = reflect(
                format_type, loader, type_description="column", collation=collation,
                collation_schema=collation_schema,
            )  # fmt: skip
        return memo[key]

    return reflected


def _read_via_inspector(conn: Connection, schemas: list[str], default: str | None) -> list[Table]:
    """The Inspector path plus bulk view definitions and true FK target schemas."""
    tables = generic.read(
        conn, schemas, default, raw_types=lambda: raw_types(conn, schemas, default), view_definitions=False
    )
    by_key = {(t.schema, t.name): t for t in tables}
    for schema, name, definition in conn.execute(_VIEWS, {"schemas": schemas}):
        table = by_key.get((schema, name))
        if table is not None:
            table.definition = definition
    targets = {(s, t, c): r for s, t, c, r in conn.execute(_FK_TARGETS, {"schemas": schemas})}
    for table in tables:
        for fk in table.foreign_keys:
            fk.referred_schema = targets.get((table.schema, table.name, fk.name), fk.referred_schema)
    return tables


def read(conn: Connection, schemas: list[str], default: str | None) -> list[Table]:
    """Tables and views of ``schemas`` in four catalog queries (plus enum/domain lookups if used)."""
    reflect_type = _type_reflector(conn)
    if reflect_type is None:
        return _read_via_inspector(conn, schemas, default)
    dialect = conn.dialect
    params = {"schemas": schemas}
    tables: dict[int, Table] = {}
    for oid, schema, name, relkind, comment, definition in conn.execute(_RELATIONS, params).all():
        tables[oid] = Table(
            name=name, schema=schema, kind="view" if relkind in ("v", "m") else "table",
            comment=comment, definition=definition,
        )  # fmt: skip

    rendered: dict[int, str] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sa.exc.SAWarning)  # unknown types: format_type() text instead
        for oid, name, format_type, not_null, dflt, generated, comment, identity, collation, coll_schema in \
                conn.execute(_COLUMNS, params).all():
            table = tables.get(oid)
            if table is None:
                continue
            coltype = reflect_type(format_type, collation, coll_schema)
            nullable = not not_null
            if isinstance(coltype, DOMAIN):  # as the Inspector: the domain's rules
                if not dflt and coltype.default is not None:
                    dflt = coltype.default
                nullable = nullable and not coltype.not_null
            computed = None
            if generated:  # a computed column's expression is not a default
                computed, dflt = Computed(dflt or "", True), None
            elif dflt is not None and table.schema != default:
                match = _NEXTVAL.search(dflt)  # the Inspector qualifies unqualified sequences
                if match is not None and "." not in match.group(2):
                    dflt = f'{match.group(1)}"{table.schema}".{match.group(2)}{match.group(3)}'
            key = id(coltype)
            text = rendered.get(key)
            if text is None:
                text = rendered[key] = render_type(coltype, dialect, format_type)
            table.columns.append(Column(name=name, type=text, nullable=nullable, default=dflt, comment=comment,
                                        computed=computed, identity=_IDENTITY.get(identity or "")))

    for oid, contype, name, cols, rschema, rtable, rcols, on_update, on_delete in conn.execute(
        _CONSTRAINTS, params
    ).all():
        table = tables.get(oid)
        if table is None:
            continue
        if contype == "p":
            table.primary_key = list(cols)
        elif contype == "u":
            table.unique_constraints.append(UniqueConstraint(name, list(cols)))
        else:
            table.foreign_keys.append(
                ForeignKey(
                    columns=list(cols), referred_table=rtable, referred_columns=list(rcols), referred_schema=rschema,
                    name=name, on_delete=_FK_ACTIONS.get(on_delete), on_update=_FK_ACTIONS.get(on_update),
                )  # fmt: skip
            )

    for oid, name, unique, method, elements in conn.execute(_INDEXES, params).all():
        table = tables.get(oid)
        if table is not None:
            table.indexes.append(Index(name, list(elements), bool(unique), method))
    return list(tables.values())


def stats(conn: Connection, tables: list[Table], default: str | None) -> None:
    """Row estimates and sizes from ``pg_class``, in one query."""
    schemas = sorted({t.schema or default or "" for t in tables})
    found: dict[tuple[str | None, str], tuple[Any, Any]] = defaultdict(lambda: (None, None))
    for s, n, rows, size in conn.execute(_STATS, {"schemas": schemas}):
        found[(schema_or_none(s, default), n)] = (rows, size)
    for table in tables:
        rows, size = found[(table.schema, table.name)]
        table.row_count = None if rows is None or rows < 0 else int(rows)
        table.row_count_exact = False
        table.size_bytes = None if size is None else int(size)


# -- storage: partitions folded into their table, inheritance, materialized views -------------------

_PARTITIONS = sa.text(
    """
    SELECT pn.nspname, p.relname, pg_catalog.pg_get_partkeydef(p.oid), cn.nspname, c.relname,
           pg_catalog.pg_get_expr(c.relpartbound, c.oid), c.reltuples::float8, c.relkind
    FROM pg_catalog.pg_class p
    JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
    JOIN LATERAL pg_catalog.pg_partition_tree(p.oid) t ON t.relid <> p.oid
    JOIN pg_catalog.pg_class c ON c.oid = t.relid
    JOIN pg_catalog.pg_namespace cn ON cn.oid = c.relnamespace
    WHERE p.relkind = 'p' AND NOT p.relispartition AND pn.nspname = ANY(:schemas)
    ORDER BY pn.nspname, p.relname, t.level, c.relname
    """
)

_INHERITANCE = sa.text(
    """
    SELECT pn.nspname, p.relname, cn.nspname, c.relname
    FROM pg_catalog.pg_inherits i
    JOIN pg_catalog.pg_class p ON p.oid = i.inhparent JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
    JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid JOIN pg_catalog.pg_namespace cn ON cn.oid = c.relnamespace
    WHERE p.relkind = 'r' AND pn.nspname = ANY(:schemas)
    ORDER BY 1, 2, 3, 4
    """
)

_MATVIEWS = sa.text(
    """
    SELECT n.nspname, c.relname, c.relispopulated
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'm' AND n.nspname = ANY(:schemas)
    """
)


def storage(conn: Connection, tables: list[Table], schemas: list[str], default: str | None) -> list[Table]:
    """Partitions folded into their partitioned table (they are its storage, listed on it), tables that
    others inherit from marked, materialized views marked (and whether they hold rows).

    Works on either reading path's tables (the Inspector lists partitions as tables of their own).
    """
    params = {"schemas": schemas}
    by_key = {(t.schema, t.name): t for t in tables}
    folded: set[tuple[str | None, str]] = set()
    for pschema, pname, key, cschema, cname, bound, rows, relkind in conn.execute(_PARTITIONS, params):
        parent = by_key.get((schema_or_none(pschema, default), pname))
        child = (schema_or_none(cschema, default), cname)
        folded.add(child)
        if parent is None:
            continue
        parent.partitioning = key
        if relkind != "p":  # leaves hold the rows; a partition partitioned again is listed through its leaves
            parent.partitions.append(Partition(cname, child[0], bound or "",
                                               None if rows is None or rows < 0 else int(rows)))
    for pschema, pname, cschema, cname in conn.execute(_INHERITANCE, params):
        parent = by_key.get((schema_or_none(pschema, default), pname))
        if parent is not None and (schema_or_none(cschema, default), cname) not in folded:
            parent.inherited_by.append(table_key(schema_or_none(cschema, default), cname))
    for schema, name, populated in conn.execute(_MATVIEWS, params):
        view = by_key.get((schema_or_none(schema, default), name))
        if view is not None:
            view.materialized, view.populated = True, bool(populated)
    kept = [t for t in tables if (t.schema, t.name) not in folded]
    names = {t.key for t in kept}
    for t in kept:  # a foreign key to a partition duplicates the one to its table
        t.foreign_keys = [fk for fk in t.foreign_keys if fk.referred_key in names or
                          (fk.referred_schema, fk.referred_table) not in folded]
    return kept


# -- logic: enums and domains, routines, triggers -------------------------------------------------------

_EXTENSION_OWNED = """NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                   WHERE d.classid = '{catalog}'::regclass AND d.objid = {oid} AND d.deptype = 'e')"""

_ENUMS = sa.text(
    f"""
    SELECT n.nspname, t.typname, ARRAY(SELECT e.enumlabel::text FROM pg_catalog.pg_enum e
                                       WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
    FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
    WHERE t.typtype = 'e' AND n.nspname = ANY(:schemas)
      AND {_EXTENSION_OWNED.format(catalog="pg_type", oid="t.oid")}
    ORDER BY 1, 2
    """
)

_DOMAINS = sa.text(
    f"""
    SELECT n.nspname, t.typname, pg_catalog.format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault,
           ARRAY(SELECT ARRAY[c.conname::text, pg_catalog.pg_get_constraintdef(c.oid, true)]
                 FROM pg_catalog.pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c' ORDER BY c.conname)
    FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
    WHERE t.typtype = 'd' AND n.nspname = ANY(:schemas)
      AND {_EXTENSION_OWNED.format(catalog="pg_type", oid="t.oid")}
    ORDER BY 1, 2
    """
)

_ROUTINES = sa.text(
    f"""
    SELECT n.nspname, p.proname, p.prokind, pg_catalog.pg_get_function_identity_arguments(p.oid),
           CASE WHEN p.prokind = 'f' THEN pg_catalog.pg_get_function_result(p.oid) END, l.lanname, p.prosrc,
           pg_catalog.pg_get_functiondef(p.oid)
    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    JOIN pg_catalog.pg_language l ON l.oid = p.prolang
    WHERE p.prokind IN ('f', 'p') AND n.nspname = ANY(:schemas) AND l.lanname NOT IN ('c', 'internal')
      AND {_EXTENSION_OWNED.format(catalog="pg_proc", oid="p.oid")}
    ORDER BY 1, 2, 4
    """
)

_TRIGGERS = sa.text(
    """
    SELECT n.nspname, c.relname, tg.tgname, tg.tgtype, pn.nspname, p.proname,
           pg_catalog.pg_get_triggerdef(tg.oid)
    FROM pg_catalog.pg_trigger tg
    JOIN pg_catalog.pg_class c ON c.oid = tg.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_proc p ON p.oid = tg.tgfoid JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
    WHERE NOT tg.tgisinternal AND tg.tgparentid = 0 AND n.nspname = ANY(:schemas)
    ORDER BY 1, 2, 3
    """
)


def _trigger_type(tgtype: int) -> tuple[str, list[str]]:
    """Timing and events from ``pg_trigger.tgtype``'s bits.

    >>> _trigger_type(2 | 1 | 4 | 16)
    ('BEFORE', ['INSERT', 'UPDATE'])
    """
    timing = "BEFORE" if tgtype & 2 else "INSTEAD OF" if tgtype & 64 else "AFTER"
    events = [name for bit, name in ((4, "INSERT"), (16, "UPDATE"), (8, "DELETE"), (32, "TRUNCATE")) if tgtype & bit]
    return timing, events


def logic(conn: Connection, tables: list[Table], schemas: list[str], default: str | None
          ) -> tuple[list[UserType], list[Routine], list[Trigger]]:
    """Enums, domains, stored functions and procedures, and triggers of ``schemas``."""
    params = {"schemas": schemas}
    types = [UserType(name, schema_or_none(schema, default), "enum", list(values))
             for schema, name, values in conn.execute(_ENUMS, params)]
    types += [UserType(name, schema_or_none(schema, default), "domain", base=base, default=dflt,
                       not_null=bool(not_null), checks=[list(c) for c in checks])
              for schema, name, base, not_null, dflt, checks in conn.execute(_DOMAINS, params)]
    base_tables = [t for t in tables if t.kind == "table"]
    routines = [Routine(name, schema_or_none(schema, default), "procedure" if kind == "p" else "function",
                        arguments or "", returns, language, definition or "", tables_named(body or "", base_tables))
                for schema, name, kind, arguments, returns, language, body, definition
                in conn.execute(_ROUTINES, params)]
    by_key = {r.key: r for r in routines}
    triggers = []
    for schema, table, name, tgtype, fschema, fname, definition in conn.execute(_TRIGGERS, params):
        timing, events = _trigger_type(int(tgtype))
        key = table_key(schema_or_none(schema, default), table)
        function = table_key(schema_or_none(fschema, default), fname)
        routine = by_key.get(function)
        touched = sorted({key, *(routine.tables if routine is not None else [])})
        triggers.append(Trigger(name, key, timing, events, function, definition, touched))
    return types, routines, triggers
