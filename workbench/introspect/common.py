"""What every introspection path shares: type rendering, schema filtering, canonical ordering.

The backend readers (``sqlite``, ``mysql``, ``generic``/``postgresql``) differ in *how* they fetch
catalog facts; everything that decides what the facts look like in ``schema.json`` lives here, so
the fast paths and SQLAlchemy's Inspector path give the same model for the same database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TypeAlias

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from workbench.errors import NotFoundError
from workbench.schema import Table

ColumnKey: TypeAlias = tuple[str | None, str, str]
"""``(schema or None for the default, table, column)``: how raw catalog type texts are looked up."""

RawTypes: TypeAlias = Callable[[], Mapping[ColumnKey, str]]
"""A lazy loader of the catalog's own type text per column, used when SQLAlchemy cannot render one."""

_SYSTEM_SCHEMAS: dict[str, frozenset[str]] = {
    "postgresql": frozenset({"information_schema"}),
    "mysql": frozenset({"information_schema", "mysql", "performance_schema", "sys"}),
    "sqlite": frozenset({"temp"}),
    "mssql": frozenset({"INFORMATION_SCHEMA", "sys", "guest"}),
    "oracle": frozenset({"SYS", "SYSTEM", "XDB", "OUTLN", "CTXSYS", "MDSYS", "ORDSYS", "WMSYS"}),
}


def family(dialect: Dialect) -> str:
    """Backend family of a dialect: MariaDB counts as ``mysql``.

    >>> from sqlalchemy.dialects import mysql
    >>> family(mysql.dialect())
    'mysql'
    """
    name = dialect.name
    return "mysql" if name == "mariadb" else name


def is_system_schema(backend: str, name: str) -> bool:
    """Whether a schema belongs to the database system rather than to the application.

    >>> is_system_schema("postgresql", "pg_toast"), is_system_schema("postgresql", "sales")
    (True, False)
    """
    if backend == "postgresql" and name.startswith("pg_"):
        return True
    return name in _SYSTEM_SCHEMAS.get(backend, frozenset())


def render_type(type_: sa.types.TypeEngine | None, dialect: Dialect, raw: str | None = None) -> str:
    """The column type as the source dialect spells it; the catalog's own text when SQLAlchemy cannot.

    Both the bulk readers and the Inspector path go through this one function, so a column gets
    the same string whichever path read it.

    >>> from sqlalchemy.dialects import postgresql
    >>> render_type(sa.Numeric(12, 2), postgresql.dialect())
    'NUMERIC(12, 2)'
    >>> render_type(sa.types.NullType(), postgresql.dialect(), raw="geometry(Point,4326)")
    'geometry(Point,4326)'
    """
    if type_ is not None and not isinstance(type_, sa.types.NullType):
        try:
            return str(type_.compile(dialect=dialect))
        except (sa.exc.CompileError, NotImplementedError, TypeError, AttributeError):
            pass
    return raw if raw is not None else ""


def fk_action(backend: str, action: str | None) -> str | None:
    """A referential action, None for the backend's default (which catalogs report inconsistently).

    >>> fk_action("mysql", "RESTRICT"), fk_action("postgresql", "cascade"), fk_action("sqlite", "NO ACTION")
    (None, 'CASCADE', None)
    """
    if action is None:
        return None
    text = " ".join(action.upper().split())
    if text in ("", "NO ACTION") or (backend == "mysql" and text == "RESTRICT"):
        return None
    return text


def pick_schemas(
    backend: str, requested: Iterable[str] | None, available: Iterable[str], default: str | None, database: str
) -> list[str]:
    """The schemas to read: all application schemas (MySQL: the URL's database) or those asked for.

    Raises
    ------
    NotFoundError
        Naming the first requested schema the database does not have.
    """
    names = sorted({s for s in available if not is_system_schema(backend, s)} | ({default} if default else set()))
    if requested is None:
        if backend == "mysql" and default:
            return [default]
        return names
    chosen = sorted(set(requested))
    for name in chosen:
        if name not in names:
            raise NotFoundError(f"schema not found in {database}: {name!r}")
    return chosen


def schema_or_none(schema: str | None, default: str | None) -> str | None:
    """Tables of the default schema carry no schema name (so keys agree across backends)."""
    return None if schema is None or schema == default else schema


def _nulls_last(name: str | None) -> tuple[bool, str]:
    return (name is None, name or "")


def unwrap(expression: str) -> str:
    """A generated column's expression without the one pair of parentheses some catalogs wrap it in.

    >>> unwrap("(concat(a, b))"), unwrap("(a) + (b)"), unwrap("upper((title)::text)")
    ('concat(a, b)', '(a) + (b)', 'upper((title)::text)')
    """
    text = expression.strip()
    if not (text.startswith("(") and text.endswith(")")):
        return text
    depth = 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and i < len(text) - 1:
            return text  # the first parenthesis closes before the end: not one wrapping pair
    return text[1:-1].strip()


def tables_named(text: str, tables: Iterable[Table]) -> list[str]:
    """Keys of the tables whose names appear as words in ``text`` (a routine's or trigger's body).

    A body is not parsed (PL/pgSQL, MariaDB's procedural SQL): every word that is a table's name
    counts, qualified or not, so what a routine touches is over- rather than under-estimated.
    Where two schemas hold a table of that name, a schema named in the text picks; else both count.

    >>> from workbench.schema import Table
    >>> tables_named("UPDATE rental SET x = 1 WHERE id IN (SELECT id FROM sales.Orders)",
    ...              [Table("rental"), Table("orders", "sales"), Table("orders"), Table("film")])
    ['rental', 'sales.orders']
    """
    words = {w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_$]*", text)}
    by_name: dict[str, list[Table]] = {}
    for t in tables:
        by_name.setdefault(t.name.lower(), []).append(t)
    found: set[str] = set()
    for name in words & set(by_name):
        candidates = by_name[name]
        named = [t for t in candidates if t.schema and t.schema.lower() in words]
        found.update(t.key for t in (named or candidates))
    return sorted(found)


def finish(table: Table, backend: str, default: str | None) -> Table:
    """Put a table in canonical form, in place: defaults unnamed, referential actions normalised, lists sorted."""
    table.schema = schema_or_none(table.schema, default)
    for column in table.columns:
        if column.computed is not None:
            column.computed.expression = unwrap(column.computed.expression)
    for fk in table.foreign_keys:
        fk.referred_schema = schema_or_none(fk.referred_schema, default)
        fk.on_delete = fk_action(backend, fk.on_delete)
        fk.on_update = fk_action(backend, fk.on_update)
    if len(table.foreign_keys) > 1:
        table.foreign_keys.sort(
            key=lambda f: (_nulls_last(f.name), f.columns, f.referred_schema or "", f.referred_table)
        )
    if len(table.unique_constraints) > 1:
        table.unique_constraints.sort(key=lambda u: (_nulls_last(u.name), u.columns))
    if len(table.indexes) > 1:
        table.indexes.sort(key=lambda i: (_nulls_last(i.name), i.columns))
    return table


def default_schema(conn: Connection) -> str | None:
    """The schema whose tables an unqualified name finds (PostgreSQL ``public``, MySQL the URL's database)."""
    name = conn.dialect.default_schema_name
    return str(name) if name else None
