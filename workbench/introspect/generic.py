"""Introspection through SQLAlchemy's Inspector: any dialect without a fast path.

Uses the bulk ``Inspector.get_multi_*`` calls with ``kind=ObjectKind.ANY`` (tables, views and
materialized views at once). Dialects that implement them natively (PostgreSQL, Oracle) answer
each call with one catalog query per schema; the others fall back to SQLAlchemy's per-table loop,
which is correct but slow on big catalogs, hence the SQLite, MySQL and PostgreSQL fast paths.
This module is also the reference those fast paths are tested against.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine.reflection import Inspector, ObjectKind

from workbench.introspect.common import ColumnKey, RawTypes, is_system_schema, render_type, schema_or_none
from workbench.schema import Column, Computed, ForeignKey, Index, Table, UniqueConstraint


def list_schemas(conn: Connection, backend: str) -> list[str]:
    """Application schemas of the database, as the dialect lists them."""
    names = sa.inspect(conn).get_schema_names()
    return sorted(n for n in names if not is_system_schema(backend, n))


def _multi(call: Any, **kw: Any) -> dict[tuple[str | None, str], Any]:
    """One ``get_multi_*`` result as a dict; empty for a dialect that does not support the call."""
    try:
        return dict(call(**kw))
    except NotImplementedError:
        return {}


def _view_names(insp: Inspector, schema: str | None) -> set[str]:
    names = set(insp.get_view_names(schema))
    try:
        names |= set(insp.get_materialized_view_names(schema))
    except NotImplementedError:
        pass
    return names


def _index_columns(ix: Mapping[str, Any]) -> list[str]:
    """Index columns, with expression text in place of the columns of an expression index."""
    names = list(ix.get("column_names") or [])
    expressions = list(ix.get("expressions") or [])
    return [name if name is not None else str(expressions[i]) for i, name in enumerate(names)] or expressions


def _index_method(ix: Mapping[str, Any]) -> str | None:
    """An index's access method when not the default B-tree (PostgreSQL ``USING``, MySQL ``FULLTEXT``)."""
    options = ix.get("dialect_options") or {}
    method = options.get("postgresql_using") or options.get("mysql_prefix")
    return str(method) if method and str(method).lower() != "btree" else None


def _identity(column: Mapping[str, Any], dialect: Dialect) -> str | None:
    """How the database numbers a reflected column: an identity's kind, MySQL's ``auto_increment``."""
    identity = column.get("identity")
    if identity:
        return "always" if identity.get("always") else "by default"
    if dialect.name in ("mysql", "mariadb") and column.get("autoincrement") is True:
        return "auto_increment"
    return None


class _TypeRenderer:
    """``render_type`` memoised on the reflected type's class and settings.

    A catalog of thousands of tables repeats a few dozen distinct types; compiling each column's
    type anew is a visible share of the run time on big catalogs.
    """

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.cache: dict[tuple[Any, ...], str] = {}

    def __call__(self, type_: sa.types.TypeEngine) -> str:
        try:
            key = (type(type_), tuple(sorted(vars(type_).items())))
            hash(key)
        except TypeError:  # unhashable settings (an enum's value list...): no memo
            return render_type(type_, self.dialect)
        text = self.cache.get(key)
        if text is None:
            text = self.cache[key] = render_type(type_, self.dialect)
        return text


def read(
    conn: Connection,
    schemas: list[str],
    default: str | None,
    raw_types: RawTypes | None = None,
    view_definitions: bool = True,
) -> list[Table]:
    """Tables and views of ``schemas`` through the Inspector, in no particular order.

    Parameters
    ----------
    raw_types
        Lazy loader of the catalog's type text per column, for types SQLAlchemy reflects as
        ``NullType``; without one such columns get an empty type.
    view_definitions
        Fetch each view's SQL (one query per view); a backend with a bulk query turns this off.
    """
    insp = sa.inspect(conn)
    dialect = conn.dialect
    render = _TypeRenderer(dialect)
    raw: Mapping[ColumnKey, str] | None = None
    tables: list[Table] = []
    with warnings.catch_warnings():
        # "Did not recognize type": handled by the raw type fallback below.
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        for name in schemas:
            arg = schema_or_none(name, default)
            kw: dict[str, Any] = {"schema": arg, "kind": ObjectKind.ANY}
            columns = _multi(insp.get_multi_columns, **kw)
            if not columns:
                continue
            views = _view_names(insp, arg)
            pks = _multi(insp.get_multi_pk_constraint, **kw)
            fks = _multi(insp.get_multi_foreign_keys, **kw)
            indexes = _multi(insp.get_multi_indexes, **kw)
            uniques = _multi(insp.get_multi_unique_constraints, **kw)
            comments = _multi(insp.get_multi_table_comment, **kw) if dialect.supports_comments else {}
            for key in sorted(columns, key=lambda k: k[1]):
                tname = key[1]
                cols: list[Column] = []
                for c in columns[key]:
                    type_text = render(c["type"])
                    if not type_text and raw_types is not None:
                        raw = raw if raw is not None else raw_types()
                        type_text = raw.get((arg, tname, c["name"]), "")
                    default_value = c.get("default")
                    computed = c.get("computed")
                    cols.append(
                        Column(
                            name=c["name"],
                            type=type_text,
                            nullable=bool(c.get("nullable", True)),
                            default=None if default_value is None or computed else str(default_value),
                            comment=c.get("comment") or None,
                            computed=Computed(str(computed["sqltext"]), bool(computed.get("persisted")))
                            if computed else None,
                            identity=_identity(c, dialect),
                        )
                    )
                uq = [UniqueConstraint(u.get("name"), list(u["column_names"])) for u in uniques.get(key, [])]
                backing = {u.get("duplicates_index") for u in uniques.get(key, [])} - {None}
                ix = [
                    Index(i.get("name"), _index_columns(i), bool(i.get("unique")), _index_method(i))
                    for i in indexes.get(key, [])
                    if not i.get("duplicates_constraint") and i.get("name") not in backing
                ]
                fk = [
                    ForeignKey(
                        columns=list(f["constrained_columns"]),
                        referred_table=f["referred_table"],
                        referred_columns=list(f["referred_columns"]),
                        referred_schema=f.get("referred_schema"),
                        name=f.get("name"),
                        on_delete=(f.get("options") or {}).get("ondelete"),
                        on_update=(f.get("options") or {}).get("onupdate"),
                    )
                    for f in fks.get(key, [])
                ]
                is_view = tname in views
                definition = None
                if is_view and view_definitions:
                    try:
                        definition = insp.get_view_definition(tname, arg)
                    except NotImplementedError:
                        definition = None
                pk = pks.get(key) or {}
                tables.append(
                    Table(
                        name=tname,
                        schema=name,
                        kind="view" if is_view else "table",
                        columns=cols,
                        primary_key=list(pk.get("constrained_columns") or []),
                        foreign_keys=fk,
                        unique_constraints=uq,
                        indexes=ix,
                        comment=(comments.get(key) or {}).get("text") or None,
                        definition=definition or None,
                    )
                )
    return tables
