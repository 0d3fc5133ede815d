"""Per-service SQLAlchemy ``MetaData`` built from the design, for one target dialect.

Each service's tables live in its own namespace: a schema (PostgreSQL, SQL Server, Oracle), a
database (MySQL/MariaDB: ``CREATE SCHEMA`` is ``CREATE DATABASE`` there) or a file (SQLite,
where tables stay unqualified). Only foreign keys inside the service are declared; the columns
of cross-service FKs stay, documented by a column comment, as references by id.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlglot import exp, parse_one
from sqlglot.errors import SqlglotError

from workbench.design.model import Design, Reference, ServiceDesign, TargetTable
from workbench.design.sqltypes import SQLGLOT_DIALECTS, to_sqlalchemy
from workbench.errors import WorkbenchError

DIALECTS = ("postgresql", "mysql", "sqlite", "mssql", "oracle")
"""Target dialects the DDL is generated for (all ship with SQLAlchemy: no driver needed to compile)."""

QUALIFIED = {"postgresql", "mysql", "mssql", "oracle"}
"""Dialects whose service tables are qualified by the namespace (SQLite uses one file per service)."""

_KEY_TEXT_LIMIT = {"mysql": 255, "mssql": 450, "oracle": 1000}
"""Indexed text must have a bounded length on these targets; 255 characters x 4 bytes fits MySQL's key limit."""


def check_dialect(name: str) -> str:
    """The canonical target dialect name; :class:`WorkbenchError` naming the bad one otherwise.

    >>> check_dialect("mariadb"), check_dialect("PostgreSQL")
    ('mysql', 'postgresql')
    """
    canonical = {"mariadb": "mysql", "postgres": "postgresql", "sqlserver": "mssql"}.get(name.lower(), name.lower())
    if canonical not in DIALECTS:
        raise WorkbenchError(f"unknown target dialect {name!r} (known: {', '.join(DIALECTS)})")
    return canonical


_TIME_FUNCS = {exp.CurrentTimestamp: sa.func.current_timestamp, exp.CurrentDate: sa.func.current_date,
               exp.CurrentTime: sa.func.current_time}


def server_default(text: str | None, dialect: str | None, type_: sa.types.TypeEngine | None = None
                   ) -> tuple[sa.ColumnElement[object] | str | None, str | None]:
    """A portable server default for the source's default text, or (None, why it was left out).

    Literals (numbers, strings, booleans) and the current date/time carry over; anything else
    (sequences, functions, expressions) is the service's to decide and is reported.

    >>> server_default("'active'::character varying", "postgresql")
    ('active', None)
    >>> server_default("nextval('orders_id_seq'::regclass)", "postgresql")[1]
    "default nextval('orders_id_seq'::regclass) not carried over (not a constant)"
    """
    if text is None or not text.strip():
        return None, None
    try:
        node = parse_one(text, read=SQLGLOT_DIALECTS.get(dialect or "", dialect))
    except (SqlglotError, ValueError):
        node = None
    while isinstance(node, exp.Paren | exp.Cast):
        node = node.this
    boolean = isinstance(type_, sa.Boolean)
    numeric = isinstance(type_, sa.Numeric | sa.Integer | sa.Float) and not boolean
    if isinstance(node, exp.Null):
        return None, None
    if isinstance(node, exp.Boolean):
        return (sa.true() if node.this else sa.false()), None
    if isinstance(node, exp.Literal | exp.Neg) and (node.is_number or node.is_string):
        value = node.sql() if node.is_number else node.this
        if boolean and value.strip().lower() in ("0", "1", "true", "false"):
            return (sa.true() if value.strip().lower() in ("1", "true") else sa.false()), None
        if node.is_number or (numeric and re.fullmatch(r"-?\d+(\.\d+)?", value.strip())):
            return sa.text(value.strip()), None
        return value, None
    for kind, func in _TIME_FUNCS.items():
        if isinstance(node, kind):
            return func(), None
    if isinstance(node, exp.Anonymous | exp.Func) and node.sql_name().upper() in ("NOW", "CURRENT_TIMESTAMP", "GETDATE",
                                                                                   "SYSDATE", "LOCALTIMESTAMP"):
        return sa.func.current_timestamp(), None
    return None, f"default {text.strip()} not carried over (not a constant)"


def _type(tt: TargetTable, column: str, type_text: str, source: str, target: str, key_columns: set[str]
          ) -> sa.types.TypeEngine:
    mapped = to_sqlalchemy(type_text, None if tt.neutral_types else source, target).type
    if isinstance(mapped, sa.JSON) and target == "postgresql":
        return postgresql.JSONB()
    limit = _KEY_TEXT_LIMIT.get(target)
    if limit and column in key_columns and (isinstance(mapped, sa.Text) or (isinstance(mapped, sa.String) and (
            mapped.length is None or mapped.length > limit))):
        return sa.String(limit)
    if limit and column in key_columns and isinstance(mapped, sa.LargeBinary):
        return sa.LargeBinary(limit) if target != "mysql" else sa.types.VARBINARY(limit)
    return mapped


def _comment(existing: str | None, refs: list[Reference], column: str) -> str | None:
    notes = [f"reference by id to {r.referred_service}.{r.referred_table}"
             f"({', '.join(r.referred_columns)}), no FK ({r.dependency})" for r in refs if column in r.columns]
    parts = [p for p in [existing, *notes] if p]
    return " | ".join(parts) if parts else None


def table(tt: TargetTable, metadata: sa.MetaData, service: ServiceDesign, source_dialect: str, target: str) -> sa.Table:
    """The SQLAlchemy table for one target table of ``service`` in ``target``'s terms."""
    t = tt.table
    schema = service.namespace if target in QUALIFIED else None
    key_columns = set(t.primary_key) | {c for u in t.unique_constraints for c in u.columns} | \
        {c for i in t.indexes for c in i.columns} | {c for fk in t.foreign_keys for c in fk.columns}
    refs = [r for r in service.references if r.table == t.name]
    columns = []
    for c in t.columns:
        type_ = _type(tt, c.name, c.type, source_dialect, target, key_columns)
        default, _ = server_default(c.default, None if tt.neutral_types else source_dialect, type_)
        if tt.identity == c.name and target == "sqlite" and isinstance(type_, sa.BigInteger):
            type_ = sa.Integer()  # SQLite generates only an INTEGER PRIMARY KEY (64 bits there)
        args: list[object] = [sa.Identity()] if tt.identity == c.name else []
        columns.append(sa.Column(c.name, type_, *args, nullable=c.nullable and c.name not in t.primary_key,
                                 server_default=default if default is not None else None,
                                 comment=_comment(c.comment, refs, c.name), autoincrement=tt.identity == c.name))
    constraints: list[sa.SchemaItem] = []
    if t.primary_key:
        constraints.append(sa.PrimaryKeyConstraint(*t.primary_key))
    for u in t.unique_constraints:
        constraints.append(sa.UniqueConstraint(*u.columns, name=u.name))
    for fk in t.foreign_keys:
        prefix = f"{schema}." if schema else ""
        constraints.append(sa.ForeignKeyConstraint(
            fk.columns, [f"{prefix}{fk.referred_table}.{c}" for c in fk.referred_columns], name=fk.name,
            ondelete=fk.on_delete, onupdate=fk.on_update))
    result = sa.Table(t.name, metadata, *columns, *constraints, schema=schema, comment=t.comment)
    names = {c.name for c in t.columns}
    for i, ix in enumerate(t.indexes):
        if not ix.columns or any(c not in names for c in ix.columns):
            continue  # an expression index: the service recreates it if it still needs it
        name = ix.name or f"ix_{t.name}_{'_'.join(ix.columns)}"[:60] or f"ix_{t.name}_{i}"
        sa.Index(name, *(result.c[c] for c in ix.columns), unique=ix.unique)
    return result


def service_metadata(design: Design, service: str, dialect: str) -> sa.MetaData:
    """All tables of ``service`` for ``dialect``, in one ``MetaData`` (internal FKs resolve inside it)."""
    dialect = check_dialect(dialect)
    svc = design.service(service)
    metadata = sa.MetaData()
    for tt in svc.tables:
        table(tt, metadata, svc, design.source_dialect, dialect)
    return metadata
